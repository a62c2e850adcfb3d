"""The fast classifier says exactly what the plain one says (`reference_classifier.py`):
score, verdict, raw score, task type, families and their matched text, signals, on every
labeled request and on texts made to reach each shortcut's edge."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocp_router import TaskClassifier, TaskType, _rules, _text, classifier, parse_payload
from ocp_router._features import spaced_letters
from tests.data.payloads import load_payloads
from tests.data.routing_sets import NEVER_TRAINED_ON, TRAINED_ON
from tests.data.routing_sets import texts as labelled
from tests.router import reference_classifier as reference

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
    # full stops and parentheses in prose (the token scan is skipped) next to the dots and
    # calls that are code or paths (it is not)
    "It fails on save. (Sometimes twice.) Why does it deadlock?",
    "see e.g. the docs... then refactor the parser.",
    "the Makefile. breaks when retry() runs twice",
    "upgrade node.js. then .env loading fails (again).",
    "Why does it. hang.\nIt hangs. (under load.)",
    # bulk-file targets: found by their first word's key, or (an apostrophe) by substring
    "rename the helper in all the files",
    "y'all files need a rename",
    "rename it in y'all modules",
    "7every file: rename x",
    # a head of under three letters that the word goes on past (`re-?architect`, `on-?call`,
    # `tl;?dr`): the word is keyed by its start, not taken as the whole word
    "rearchitect the billing module",
    "who is oncall for the payments service",
    "tldr of this design doc",
)


def _labeled_texts() -> list[str]:
    texts = labelled(TRAINED_ON + NEVER_TRAINED_ON)
    for name in ("routing_payloads_dev.jsonl", "routing_payloads_holdout.jsonl"):
        for item in load_payloads(name):
            body = {k: v for k, v in item.payload.items() if k != "format"}
            texts.append(parse_payload(body).user_turn)
    return texts


def test_every_labeled_request_gets_the_plain_classifiers_result() -> None:
    clf = TaskClassifier(cache_size=0)
    texts = _labeled_texts()
    assert len(texts) == 958
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


# ---- the shortcuts one by one, against the plain forms they replace ------------------------
_FENCE_PARTS = ["```", "``", "`", "\n", "python", " ", "x = 1", "````", "\n```\n"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FENCE_PARTS), max_size=16))
def test_fences_cut_by_find_are_the_fence_regexs_blocks(parts: list[str]) -> None:
    text = "".join(parts)
    blocks = _text._FENCE.findall(text)
    assert _text.cut_fences(text) == (
        _text._FENCE.sub("\n", text),
        len(blocks),
        sum(b.count("\n") for b in blocks),
        sum(len(b) for b in blocks),
    )


# Backticks alone, in pairs, threes and fours, many of them before a fence (past the tries
# `find_fence` makes one backtick at a time), searched from anywhere in the text.
_BACKTICK_PARTS = ["`", "``", "```", "````", " ", "\n", "x", "`x`", "a b "]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_BACKTICK_PARTS), max_size=40), st.integers(0, 80))
def test_a_fence_found_one_backtick_at_a_time_is_where_str_find_finds_it(
    parts: list[str], start: int
) -> None:
    text = "".join(parts)
    assert _text.find_fence(text, start) == text.find("```", start)


def test_a_fence_after_many_inline_backticks_is_found() -> None:
    for n in (0, 1, _text._FENCE_TRIES - 1, _text._FENCE_TRIES, _text._FENCE_TRIES + 1, 50):
        text = "see `x` " * n + "```py\nx = 1\n```"
        assert _text.find_fence(text) == text.find("```") == len("see `x` ") * n
        assert _text.find_fence("`x` " * n) == -1


_PASTE_PARTS = sorted(
    {*_rules._PASTE_HARD_WORDS, *_rules._PASTE_EASY_WORDS}
    | {w[: len(w) // 2] for w in (*_rules._PASTE_HARD_WORDS, *_rules._PASTE_EASY_WORDS)}
    | {" ", "\n", "error", "not ", "assert 199 == 200", "expected 3.85 got 4", "E0502"}
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PASTE_PARTS), max_size=10))
def test_pasted_error_kinds_are_the_earliest_listed_words(parts: list[str]) -> None:
    text = "".join(parts)
    assert _rules.match_paste(text) == reference.match_paste(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PASTE_PARTS), max_size=10))
def test_pasted_error_words_found_in_the_word_start_pass_are_the_same(parts: list[str]) -> None:
    # a request that is all prose: its pasted-error words come from the families' pass, read
    # spaced ("e0502" as "e    "), and are then checked in the text
    text = "".join(parts)
    lower = text.lower()
    found = _rules.word_starts(spaced_letters(lower))
    assert _rules.match_paste(text, lower, found) == reference.match_paste(text)
    prose = " ".join(parts).replace("\n", " ")
    assert TaskClassifier(cache_size=0).classify(prose)._asdict() == reference.classify(prose)


# Every keyword alternative that is tried only where its literal start occurs, in texts where
# that start occurs often (past the tries before a whole search) and in other words' middles.
# An alternative that opens with `^` is passed over where its start is in mid-line.
_STARTED = [
    (c.alternatives[j], start, c.anchored[j])
    for c in _rules._COMPILED
    for j, start in enumerate(c.starts)
    if start is not None
]


def test_the_alternatives_that_open_with_a_caret_are_the_anchored_ones() -> None:
    anchored = {regex.pattern for regex, _, anchored in _STARTED if anchored}
    assert anchored == {regex.pattern for regex, _, _ in _STARTED if regex.pattern[0] == "^"}
    assert {"^why\\b", "^what is\\b", "^define\\b"} <= anchored


@pytest.mark.parametrize("regex,start,anchored", _STARTED, ids=[s for _, s, _ in _STARTED])
def test_an_alternative_tried_at_its_starts_finds_what_a_search_finds(
    regex: object, start: str, anchored: bool
) -> None:
    assert isinstance(regex, re.Pattern)
    for text in (
        f"x{start} {start}",
        f"{start}",
        f"{'x' + start + ' ' * 2}" * 12 + f" {start} files across all modules",
        "\n".join([f"a{start}"] * 10 + [f"{start}s and more"]),
        f"why does {start} 17 files",
        f"so {start} then\n{start} again",
        f"{start}\n\n{start} {start}",
    ):
        fast = _rules._first_match(regex, start, text, anchored)
        plain = regex.search(text)
        assert (fast and (fast.span(), fast.group(0))) == (plain and (plain.span(), plain.group(0)))


def test_a_result_reads_the_same_whatever_is_read_first() -> None:
    text = EDGES[0]
    clf = TaskClassifier(cache_size=0)
    first, second = clf.classify(text), clf.classify(text)
    tokens_first, type_first = first.estimated_tokens, first.task_type
    signals_second, confidence_second = second.signals, second.confidence
    assert first == second and hash(first) == hash(second)
    assert first.signals == signals_second and second.estimated_tokens == tokens_first
    assert second.task_type is type_first and first.confidence == confidence_second
    assert (type_first, confidence_second) == (TaskType.DEBUG, 1.0)  # score 1.0 vs 0.5
    assert sum(s.weight for s in first.signals) == pytest.approx(first.raw_score, abs=1e-9)
    assert repr(first).startswith("ClassifyResult(complexity_score=")
    assert first != clf.classify(EDGES[1])


# round4 against round(x, 4): the floats the classifier rounds (sums of a few weights), the
# halves and near-halves where scaling could round the other way, zeros of either sign,
# huge values and the non-finite ones; compared by repr, so -0.0 and 0.0 differ.
_HALVES = [k / 10000 + 0.00005 for k in range(-20000, 20000, 7)]
_SPECIAL = [0.0, -0.0, 1e-5, -1e-5, 4.9999e-5, -4.9999e-5, 5e-5, -5e-5, 0.5, -0.5, 1.00005]
_SPECIAL += [1e4, 1e4 + 0.5, 9999.99995, 1e12, -1e12, float("inf"), float("-inf"), float("nan")]


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.floats(), st.floats(min_value=-3, max_value=3), st.sampled_from(_HALVES)))
def test_round4_is_round_to_four_places(x: float) -> None:
    assert repr(classifier.round4(x)) == repr(round(x, 4))


def test_round4_is_round_to_four_places_at_halves_and_edges() -> None:
    for x in [*_HALVES, *_SPECIAL, *(h + d for h in _HALVES for d in (1e-13, -1e-13))]:
        assert repr(classifier.round4(x)) == repr(round(x, 4)), x


def test_every_character_that_split_splits_at_but_the_space_is_unprintable() -> None:
    splitters = [chr(c) for c in range(sys.maxunicode + 1) if len(f"a{chr(c)}b".split()) > 1]
    assert " " in splitters and "\u3000" in splitters and "\x1c" in splitters
    assert [c for c in splitters if c != " " and c.isprintable()] == []


_SPACING_PARTS = ["a", "bc", " ", "  ", "\t", "\u00a0", "\u3000", "\x1f", "\u2028", "é", "?"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SPACING_PARTS), max_size=8))
def test_text_spaced_once_is_told_without_splitting_it(parts: list[str]) -> None:
    text = "".join(parts)
    assert _text._spaced_once(text) == (" ".join(text.split()) == text)


_PROSE_PARTS = [
    *_SPACING_PARTS,
    "\n",
    "`",
    "_",
    "/",
    "()",
    ".",
    ".x",
    "File",
    "getX",
    "Why",
    "x" * 30,
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PROSE_PARTS), max_size=8))
def test_prose_told_as_is_is_what_splitting_leaves_as_is(parts: list[str]) -> None:
    text = "".join(parts)
    lower = _text.prose_as_is(text)
    if lower is not None:
        assert lower == text.lower()
        assert _text.split_request(text) == _text.SplitText(text, text, 0, 0, 0, 0, frozenset())


def test_a_short_typed_request_is_told_as_is_and_a_long_one_is_not() -> None:
    assert _text.prose_as_is(EDGES[0]) == EDGES[0].lower()
    assert _text.prose_as_is("x " * 10_000 + "x") is None  # longer than the prose read
    assert _text.prose_as_is("see a.py") is None and _text.prose_as_is("a\nb") is None


def test_pasted_error_words_that_overlap_are_all_found() -> None:
    # "data race" and "race detected" share "race"; "e0502" ends where "borrowed" starts
    for text in ("data race detected", "race detected in a data race", "e0502borrowed"):
        assert _rules.match_paste(text) == reference.match_paste(text)
    assert _rules.match_paste("race detected: data race")["paste_hard"] == "data race"
