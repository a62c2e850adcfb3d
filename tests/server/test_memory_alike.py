"""Which texts a save merges: difflib's ratio over their words, junk rule included, at or above
NEAR_IDENTICAL. alike.py skips a pair when an upper bound of the ratio is below that; these
pin that the decisions (merged or not, and how alike) stay difflib's."""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable

import pytest

from ocp_server.memory import alike
from ocp_server.memory.queries import NEAR_IDENTICAL

N = "n " * 300  # one word, 300 times: "popular" to difflib, which never starts a match on it
SENTENCES = [
    "the parser reads the config file before the server starts",
    "a save merges a near identical note into the live one",
    "the index keeps the words of each file and their counts",
    "the citation follows the code when the function moves",
    "the brief is cut to the token budget the agent asked for",
]
# 756 words: "the" and the rest are popular in it; each "stepN" is not
PROSE = " ".join(f"{SENTENCES[i % 5]} at step{i}" for i in range(60))
REPEATED = " ".join(SENTENCES * 12)  # 612 words, each one popular: no match can start
WORDS = " ".join(f"w{n}" for n in range(40))
TEN = "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 "

# (text, other, merged): `merged` is what difflib's ratio says, written out so that a change
# of decision shows here
PAIRS: list[tuple[str, str, bool]] = [
    ("use sqlite for the index", "use sqlite for the index", True),
    ("", "", True),
    (WORDS, WORDS.replace("w9", "x9"), True),
    # difflib takes the longest match first: the 30 words after the change, not the 9 before
    (TEN * 4, TEN.replace("w9", "x9") + TEN * 3, False),
    ("use sqlite for the index", "use postgres for the index", False),
    ("use sqlite for the index", "the index for sqlite use", False),
    (" ".join(SENTENCES), " ".join(reversed(SENTENCES)), False),  # the same words reordered
    (PROSE, PROSE.replace("server starts", "server stops", 1), True),
    (PROSE, PROSE.replace("the live one", "the live note"), True),  # in each sentence
    (PROSE, " ".join(f"{SENTENCES[i % 5]} at step{i}" for i in reversed(range(60))), False),
    (REPEATED, REPEATED.replace("server starts", "server stops", 1), False),  # junk rule
    # a long run of one word: matched only next to words both have, or as a common start
    (f"note 3 {N}", f"note 4 {N}", False),  # difflib's junk rule: 3 words of 604 match
    (f"{N} note 3", f"{N} note 4", True),  # the run is matched back from "note"
    (f"{N} y", f"{N} z", True),  # nothing to start a match on: the common start matches
    (f"a {N} b", f"a {N} c", True),
    (f"zz {N} b", f"yy {N} b", True),
    (f"zz {N}", f"yy {N}", False),
    (f"a {N} b", f"b {N} a", False),
    (f"n {N} x", f"n {N}", True),  # under 200 words one side: it has no popular words
    ("n " * 199 + "x", "n " * 199 + "y", True),  # 200 words each: the run is a common start
    ("x " + "n " * 199, "y " + "n " * 199, False),
]


def _decision(value: float) -> float | None:
    return value if value >= NEAR_IDENTICAL else None


def _ratio(text: str, other: str) -> float:
    return difflib.SequenceMatcher(None, alike.words_of(text), alike.words_of(other)).ratio()


@pytest.mark.parametrize(("text", "other", "merged"), PAIRS)
def test_a_pair_merges_as_difflib_s_ratio_says(text: str, other: str, merged: bool) -> None:
    expected = _ratio(text, other)
    assert (expected >= NEAR_IDENTICAL) is merged  # the table is difflib's
    got = alike.similarity(alike.words_of(text), alike.words_of(other))
    assert _decision(got) == _decision(expected)
    assert _decision(alike.Comparer()(text, other)) == _decision(expected)


def _shaped(rng: random.Random) -> tuple[list[str], list[str]]:
    """Two word lists, one an edit of the other: runs of a few words repeated (popular in
    texts of 200 words and more) among others, near and at difflib's 200-word line."""
    popular = ["p", "q", "r"][: rng.randint(1, 3)]
    others = [f"x{n}" for n in range(rng.choice([3, 10, 50]))]

    def piece() -> list[str]:
        if rng.random() < 0.5:
            return [rng.choice(popular)] * rng.randint(1, 120)
        return rng.choices(others, k=rng.randint(1, 4))

    words: list[str] = []
    while len(words) < rng.choice([60, 195, 200, 205, 400]):
        words += piece()
    edited = list(words)
    for _ in range(rng.choice([0, 1, 2, 4])):
        at = rng.randrange(len(edited))
        roll = rng.random()
        if roll < 0.3:
            edited[at] = rng.choice([*others, *popular, "new"])
        elif roll < 0.6:
            edited[at:at] = piece()
        elif roll < 0.8:
            del edited[at : at + rng.randint(1, 20)]
        else:
            edited = edited[at:] + edited[:at]
    return (words, edited) if rng.random() < 0.5 else (edited, words)


def test_random_pairs_merge_as_difflib_s_ratio_says() -> None:
    rng = random.Random(43)
    merged = 0
    for _ in range(600):
        words, other = _shaped(rng)
        expected = difflib.SequenceMatcher(None, words, other).ratio()
        assert _decision(alike.similarity(words, other)) == _decision(expected), (words, other)
        merged += expected >= NEAR_IDENTICAL
    assert 150 < merged < 450  # both decisions were tried, many times


def _reference(kinds: list[list[alike.Item]]) -> dict[tuple[str, str], float | None]:
    """compare_all as the first versions did it: difflib's ratio of every pair."""
    out: dict[tuple[str, str], float | None] = {}
    for items in kinds:
        rows: dict[tuple[str, int], str] = {}
        for n, (text, live) in enumerate(items):
            best: tuple[float, tuple[str, int]] | None = None
            others = {("live", i): rows.get(("live", i), t) for i, t in live or ()}
            others.update(rows)
            for key, other in others.items() if live is not None else ():
                value = _decision(_ratio(text, other))
                out[(text, other)] = value
                if value is not None and (best is None or value > best[0]):
                    best = (value, key)
            rows[("new", n) if best is None else best[1]] = text
    return out


def test_a_save_s_items_merge_as_with_difflib_s_ratio_of_every_pair() -> None:
    rng = random.Random(7)
    texts = [" ".join(w) for pair in (_shaped(rng) for _ in range(40)) for w in pair]
    texts += [text for pair in PAIRS for text in pair[:2]]
    # each may merge into 3 live ones, or into an earlier one; the second kind's merge into none
    notes: list[alike.Item] = [(t, list(enumerate(rng.sample(texts, 3)))) for t in texts]
    kinds: list[list[alike.Item]] = [notes, [(t, None) for t in texts[:5]]]
    got = alike.compare_all(kinds).alike
    assert {k: _decision(v) for k, v in got.items()} == _reference(kinds)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    ratio: Callable[[difflib.SequenceMatcher[str]], float] = difflib.SequenceMatcher.ratio

    def counted(self: difflib.SequenceMatcher[str]) -> float:
        calls[0] += 1
        return ratio(self)

    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", counted)
    return calls


def test_a_max_size_save_of_long_runs_of_one_word_compares_none_word_by_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 100 notes of 2,404 words, 4 of them different: difflib's junk rule makes each pair 0.1%
    # alike, and its ratio took about 1 ms a pair (4,950 pairs)
    calls = _counting(monkeypatch)
    notes: list[alike.Item] = [(f"tag note {i} " + "n " * 2_400, []) for i in range(100)]
    similar = alike.compare_all([notes]).alike
    assert len(similar) == 100 * 99 // 2 and not any(similar.values())
    assert calls[0] == 0


def test_near_identical_long_texts_are_still_compared_word_by_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _counting(monkeypatch)
    notes: list[alike.Item] = [("n " * 2_400 + f"tag note {i}", []) for i in range(3)]
    similar = alike.compare_all([notes]).alike
    assert calls[0] == 2  # the second merges into the first; the third into what it left
    assert all(v >= NEAR_IDENTICAL for v in similar.values()) and len(similar) == 2


def test_a_pair_found_only_in_the_transaction_is_compared_with_the_words_worked_out_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under the write lock a save's items find their candidates again, and as it writes (a
    # merge rewords a row, a word new to the index gets counted) the top 20 shift: in a
    # third max-size save of long notes, 1,520 pairs were not compared before the lock, and
    # each was split into words and counted again on the event loop.
    texts = [f"tag{k} note {i} " + "n " * 2_400 for k in range(2) for i in range(3)]
    before: list[alike.Item] = [(texts[0], [(1, texts[3])]), (texts[1], [(2, texts[4])])]
    compare = alike.compare_all([before])
    expected = _decision(_ratio(texts[1], texts[3]))
    split: list[str] = []
    words_of = alike.words_of

    def counted(text: str) -> list[str]:
        split.append(text)
        return words_of(text)

    monkeypatch.setattr(alike, "words_of", counted)
    assert compare(texts[0], texts[3]) == compare.alike[(texts[0], texts[3])]
    assert _decision(compare(texts[1], texts[3])) == expected
    assert split == []  # both were split before the lock
    compare(texts[0], texts[5])
    assert split == [texts[5]]
