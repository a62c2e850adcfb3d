"""Word classes (scripts/train_classifier.py, WORD_CLASSES): a word that no training request
uses still counts as its class does, through the class weight folded into the shipped word
weights."""

from __future__ import annotations

import json
from pathlib import Path

from ocp_router import TaskClassifier

DATA = Path(__file__).resolve().parents[1] / "data"
TRAINING_SETS = (
    "routing_train.jsonl",
    "routing_sources.jsonl",
    "routing_sources_2.jsonl",
    "routing_sources_3.jsonl",
    "routing_sources_4.jsonl",
)


def _trained_text() -> str:
    return " ".join(
        json.loads(line)["text"].lower()
        for name in TRAINING_SETS
        for line in (DATA / name).read_text("utf-8").splitlines()
        if line.strip()
    )


def test_an_untrained_product_word_weighs_more_than_an_untrained_screen_word() -> None:
    trained = _trained_text()
    # neither stem occurs in any training request: only the class can have given it a weight
    assert "entitl" not in trained and "favico" not in trained
    clf = TaskClassifier(cache_size=0)
    product = clf.classify("add entitlements to the app")
    screen = clf.classify("add favicons to the app")
    assert product.raw_score > screen.raw_score + 0.15
    assert any("entitl" in s.name for s in product.signals)
