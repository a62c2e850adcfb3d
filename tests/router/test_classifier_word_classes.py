"""Word classes (scripts/train_classifier.py, WORD_CLASSES): a word that no training request
uses still counts as its class does, through the class weight folded into the shipped word
weights."""

from __future__ import annotations

from ocp_router import TaskClassifier
from tests.data.routing_sets import TRAINED_ON, texts


def _trained_text() -> str:
    return " ".join(text.lower() for text in texts(TRAINED_ON))


def test_an_untrained_product_word_weighs_more_than_an_untrained_screen_word() -> None:
    trained = _trained_text()
    # neither stem occurs in any training request: only the class can have given it a weight
    assert "entitl" not in trained and "favico" not in trained
    clf = TaskClassifier(cache_size=0)
    product = clf.classify("add entitlements to the app")
    screen = clf.classify("add favicons to the app")
    assert product.raw_score > screen.raw_score + 0.15
    assert any("entitl" in s.name for s in product.signals)
