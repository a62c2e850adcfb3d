"""The four kinds of miss found on requests written outside the project (issue 15), pinned
with new requests that the 0.4 classifier (linear-1) routed wrongly. None of these is in the
training data; they were written after it, by the same hands, so they show the kinds are
covered, not how often an unseen author's request is routed right (bench/bench_routing.py
reports that with leave-one-source-out)."""

from __future__ import annotations

import pytest

from ocp_router import Route, TaskClassifier
from tests.data.routing_sets import NEVER_TRAINED_ON, TRAINED_ON, texts

PINNED = [
    # A pasted error whose fix needs reasoning (a borrow-checker error in a data structure).
    # The 0.4 classifier routed this one right already; the fresh pasted-error requests it
    # missed are still missed (a RefCell panic, a Go data race report, a float assertion),
    # scored 0.36-0.48 now against 0.04-0.14 before: this kind is only partly fixed.
    (
        "error[E0499]: cannot borrow `*cache` as mutable more than once at a time\n"
        "  --> src/lru.rs:42:9\nthe cache hands out references to entries and also evicts, "
        "I don't see how to restructure it",
        Route.PAID,
    ),
    # Short requests with no alarming word that imply a large change. Written with two more
    # that are still missed (scored 0.48 after the product-scope rule family was added, which
    # raised the holdout from 0.885 to 0.899): "let each workspace pick its own data
    # retention period", "make every API endpoint versioned".
    ("support customer-managed encryption keys for backups", Route.PAID),
    # "Why does the tool behave like this" about compilers, version control, protocols.
    (
        "why does git show a file as modified after I only changed its line endings on windows",
        Route.PAID,
    ),
    (
        "why does my websocket close with code 1006 behind nginx after exactly 60 seconds",
        Route.PAID,
    ),
    ("why does clang vectorize this loop but gcc does not", Route.PAID),
    # Plain how-to questions that mention a scary word.
    ("how do I stop git from tracking my .env file that's already committed", Route.LOCAL),
    ("how to hide a password as the user types it in a python cli", Route.LOCAL),
    # One of the fresh requests (tests/data/routing_fresh.jsonl, never trained on): the
    # classifier before routing_sources_2.jsonl sent it paid (0.53), this one local (0.31).
    # Four short asks for a large change in that file are still missed ("add per-seat licensing with
    # proration", "let each org enforce its own password and session policy", ...).
    ("how do I add a CSRF token to a plain HTML form in Flask-WTF", Route.LOCAL),
]


@pytest.mark.parametrize(("text", "route"), PINNED, ids=[t[:40] for t, _ in PINNED])
def test_each_failure_kind_is_routed_right_on_requests_never_trained_on(
    text: str, route: Route
) -> None:
    assert TaskClassifier(cache_size=0).classify(text).route_to is route


def test_the_pinned_requests_are_not_in_the_training_data() -> None:
    trained = set(texts(TRAINED_ON))
    assert not trained & {text for text, _ in PINNED}


def test_the_kind_of_pasted_error_is_a_signal_and_the_paste_is_still_not_read_for_words() -> None:
    clf = TaskClassifier(cache_size=0)
    easy = clf.classify("fix this\n```\nSyntaxError: invalid syntax\n```")
    hard = clf.classify("fix this\n```\nerror[E0502]: cannot borrow `v` as mutable\n```")
    assert "paste_easy" in easy.families and "paste_hard" not in easy.families
    assert "paste_hard" in hard.families
    # a paste that says "security" and "migrate" does not fire those families
    quiet = clf.classify("what does this print?\n```\nsecurity.migrate(db)\n```")
    assert not {"security", "migration"} & set(quiet.families)


def test_the_fast_scorer_adds_up_exactly_the_features_training_saw() -> None:
    """classify() scores words and pairs through stem-keyed dicts; training names features
    with `extract`. On every labeled request both must give the same learned total."""
    from ocp_router._features import extract, stems_of
    from ocp_router.classifier import _load_weights, rule_layer

    weights = _load_weights().features
    clf = TaskClassifier(cache_size=0)
    for text in texts(TRAINED_ON + NEVER_TRAINED_ON):
        split, lower, words, fired = rule_layer(text)
        named = sum(weights.get(f, 0.0) for f in extract(split, lower, words, fired.keys()))
        shown, rest, _ = clf._learned(
            split.code_lines, split.pasted_lines, len(split.paths), lower, stems_of(words), fired
        )
        fast = sum(s.weight for s in shown) + rest
        assert abs(named - fast) < 1e-3, text


def test_training_and_serving_see_the_same_keyword_families() -> None:
    """classify() runs the rule layer inline on stems (one regex pass); training reads
    `rule_layer` on words. Both must fire the same families with the same matched text, or the
    learned family weights were fitted on other inputs than they meet."""
    from ocp_router.classifier import rule_layer

    clf = TaskClassifier(cache_size=0)
    for text in texts(TRAINED_ON + NEVER_TRAINED_ON):
        fired = rule_layer(text)[3]
        assert clf.classify(text).families == tuple(fired), text
        assert {s.detail.strip('"') for s in clf.classify(text).signals} >= {
            m.strip() for m in fired.values()
        }, text
