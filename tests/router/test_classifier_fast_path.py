"""The fast classifier says exactly what the plain one says (`reference_classifier.py`):
score, verdict, raw score, task type, families and their matched text, signals, on every
labeled request and on texts made to reach each shortcut's edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocp_router import TaskClassifier, _rules, parse_payload
from tests.data.payloads import load_payloads
from tests.router import reference_classifier as reference

DATA = Path(__file__).resolve().parents[1] / "data"

# Each shortcut's edge: prose with no code-like character (the token scan is skipped),
# camelCase, a capitalised Makefile, apostrophes (the word regex instead of split), digits
# before a plural noun, a tool named after "why does", non-Latin scripts, pasted errors.
EDGES = (
    "why do 17 workers sometimes pick up the same job after we added retries?",
    "Why doesn't the Makefile rebuild when I touch a header?",
    "why won't git let me rebase this branch",
    "Why does rustc's borrow checker reject this loop",
    "rename getUserName to fetchUserName in 3 files",
    "update 12 endpoints and 40 call sites",
    "update 12 endpoint handlers",
    "it's the user's job; don't touch the Dockerfile",
    "review this pr's",  # a short word before an apostrophe ends a match (`pr\b`)
    "should we'd ship it",
    "design a's layout",
    "MAKEFILE target for the docs",
    "¿por qué falla la migración de la base de datos a veces?",
    "数据库迁移为什么有时候会死锁",
    "почему тест иногда падает под нагрузкой",
    'explain this\nTraceback (most recent call last):\n  File "a.py", line 1\nSyntaxError: bad',
    "is this cache actually thread-safe under load",
    "should we shard by tenant or by region",
    "a regex for semver",
    "the whole project (all 40 modules) needs porting from py2",
    "",
    "   ",
    "?",
)


def _labeled_texts() -> list[str]:
    texts = []
    for name in (
        "routing_train.jsonl",
        "routing_sources.jsonl",
        "routing_sources_2.jsonl",
        "routing_holdout.jsonl",
        "routing_fresh.jsonl",
    ):
        for line in (DATA / name).read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    for name in ("routing_payloads_dev.jsonl", "routing_payloads_holdout.jsonl"):
        for item in load_payloads(name):
            body = {k: v for k, v in item.payload.items() if k != "format"}
            texts.append(parse_payload(body).user_turn)
    return texts


def test_every_labeled_request_gets_the_plain_classifiers_result() -> None:
    clf = TaskClassifier(cache_size=0)
    texts = _labeled_texts()
    assert len(texts) == 798
    for text in texts:
        assert clf.classify(text)._asdict() == reference.classify(text), text[:200]


@pytest.mark.parametrize("text", EDGES)
def test_each_shortcut_edge_gets_the_plain_classifiers_result(text: str) -> None:
    assert TaskClassifier(cache_size=0).classify(text)._asdict() == reference.classify(text)


@pytest.mark.parametrize("text", EDGES[:6])
def test_case_and_layout_variants_agree_too(text: str) -> None:
    clf = TaskClassifier(cache_size=0)
    for variant in (text.upper(), text.title(), text.replace(" ", "\n"), f"{text} ({text})"):
        assert clf.classify(variant)._asdict() == reference.classify(variant), variant


# Words the rules and their shortcuts turn on (heads, tails, short words, apostrophes, digits,
# code-shaped and path-like tokens, non-Latin words), strung together at random.
_VOCAB = sorted(
    {h for alts in _rules._BY_KEY.values() for _, _, heads in alts for h in heads if h}
    | {"pr's", "we'd", "a's", "it's", "don't", "v8", "gc", "n+1", "17", "3", "Makefile"}
    | {"does", "do", "is", "git", "compilers", "this", "my", "pr", "diff", "we", "i", "a"}
    | {"getUserName", "db.connect", "src/app.py", "snake_case", "`code`", "(x)", "?", ","}
    | {"почему", "为什么", "sécurité", "files", "modules", "across", "every", "all", "the"}
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=14), st.sampled_from(" \n"))
def test_random_strings_of_rule_words_agree(words: list[str], sep: str) -> None:
    text = sep.join(words)
    assert TaskClassifier(cache_size=0).classify(text)._asdict() == reference.classify(text)
