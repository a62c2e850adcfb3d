"""How alike two memories' texts are: a save merges a near-identical one (save.py).

Alike is difflib's ratio over the texts' words, junk rule included: in a text of 200 words or
more, difflib takes a word that is over 1% of it (plus one) as "popular" and never starts a
match on it. The ratio is quadratic in the words, and a save compares each of its items with
every earlier one of its kind (up to 4,950 pairs of 2,400 words), so each pair first gets
upper bounds of the ratio, exact and linear in the words; only a pair that may reach
NEAR_IDENTICAL is compared. Below it the value is 0.0: what merges, and how alike it is said
to be, is the ratio's.
"""

from __future__ import annotations

import difflib
import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import compress

from ocp_server.memory.folding import index_words
from ocp_server.memory.queries import NEAR_DUPLICATE_TERMS, NEAR_IDENTICAL

_AUTOJUNK_MIN = 200  # difflib: a text this long or longer has popular words (SequenceMatcher)


def similarity(words: list[str], other: list[str]) -> float:
    """How alike two word sequences are (difflib's ratio), or 0.0 as soon as an upper bound
    of it shows they are not near-identical. A save works these out before its write
    transaction (`compare_all`), and under it only for texts changed since."""
    return _alike(_Words(words), _Words(other))


Item = tuple[str, list[tuple[int, str]] | None]  # text, live memories it may merge into


def compare_all(kinds: list[list[Item]], words: Mapping[str, list[str]] | None = None) -> Comparer:
    """`similarity` of each item of a save (per kind, in order; None: it is not merged) with the
    live memories found for it and with the rows this save's earlier items leave: an item
    near-identical to one merges into the most alike, as the transaction will do. The
    Comparer returned holds the results, and compares what the transaction finds new (its
    candidates shift as it writes) with the words and bounds worked out here. `words`: the
    `words_of` of texts, when already worked out."""
    compare = Comparer(words)
    for items in kinds:
        rows: dict[tuple[str, int], str] = {}  # ("live" | "new", id): text this save leaves
        for n, (text, live) in enumerate(items):
            best: tuple[float, tuple[str, int]] | None = None
            others = {("live", i): rows.get(("live", i), t) for i, t in live or ()}
            others.update(rows)  # all: which the transaction finds is not known here
            for key, other in others.items() if live is not None else ():
                alike = compare(text, other)
                if alike >= NEAR_IDENTICAL and (best is None or alike > best[0]):
                    best = (alike, key)
            rows[("new", n) if best is None else best[1]] = text
    return compare


class Comparer:
    """`similarity` of texts, what each text's bounds need worked out once, and each result
    kept."""

    def __init__(self, words: Mapping[str, list[str]] | None = None) -> None:
        self.alike: dict[tuple[str, str], float] = {}
        self._words: dict[str, _Words] = {}
        self._given = words or {}  # words_of of texts, worked out before
        self.samples: dict[str, list[str]] = {}  # text -> its `sampled` words

    def words(self, text: str) -> list[str]:
        """`words_of(text)`, worked out once (a save's texts are read several times)."""
        return self._of(text).words

    def sample(self, text: str) -> list[str]:
        """`sampled(self.words(text))`, worked out once."""
        if text not in self.samples:
            self.samples[text] = sampled(self.words(text))
        return self.samples[text]

    def __call__(self, text: str, other: str) -> float:
        if (text, other) not in self.alike:
            self.alike[(text, other)] = _alike(self._of(text), self._of(other))
        return self.alike[(text, other)]

    def each(self, text: str, others: list[str]) -> None:
        """`self(text, other)` for each of `others`: the pairs a save first meets under the
        write lock, compared in one worker thread (save.py `_near_duplicate`)."""
        for other in others:
            self(text, other)

    def _of(self, text: str) -> _Words:
        if text not in self._words:
            given = self._given.get(text)
            self._words[text] = _Words(words_of(text) if given is None else given)
        return self._words[text]


class _Words:
    """A text's words, their counts and, as difflib's second sequence, its popular words, the
    runs of them and a matcher set to it: those are made when first needed and kept."""

    __slots__ = ("_runs", "counts", "matcher", "popular", "words")

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.counts = Counter(words)
        self.matcher: difflib.SequenceMatcher[str] | None = None
        self.popular: frozenset[str] = frozenset()
        if len(words) >= _AUTOJUNK_MIN:
            most = len(words) // 100 + 1  # difflib's rule: popular if it occurs more often
            self.popular = frozenset(w for w, n in self.counts.items() if n > most)
        self._runs: list[tuple[str | None, str | None, int]] | None = None

    @property
    def runs(self) -> list[tuple[str | None, str | None, int]]:
        """Each maximal run of popular words: the word before it and after it (None at an
        end), and its length."""
        if self._runs is None:
            self._runs = []
            start = None
            for i, word in enumerate(self.words):
                if word in self.popular:
                    start = i if start is None else start
                elif start is not None:
                    self._runs.append((self.words[start - 1] if start else None, word, i - start))
                    start = None
            if start is not None:
                before = self.words[start - 1] if start else None
                self._runs.append((before, None, len(self.words) - start))
        return self._runs

    def ratio_with(self, words: list[str]) -> float:
        """difflib's ratio of `words` against this text (the second sequence, whose work
        difflib does once for any number of first ones)."""
        if self.matcher is None:
            self.matcher = difflib.SequenceMatcher(None, b=self.words)
        self.matcher.set_seq1(words)
        return self.matcher.ratio()


def _alike(a: _Words, b: _Words) -> float:
    if _bound(a, b) < NEAR_IDENTICAL:
        return 0.0
    return b.ratio_with(a.words)


def _bound(a: _Words, b: _Words) -> float:
    """An upper bound of difflib's ratio of a against b: 2 * matched words / all words.

    1. Matched words are at most the shorter text's: O(1).
    2. ... at most a's words less those b does not have at all, and at most the words the
       two share in any order (difflib's quick_ratio).
    3. With b's popular words: a match only ever starts on a word that is not popular in b
       and then grows over equal words on both sides, and one that holds no such word is
       only ever a common start of the two texts (difflib's find_longest_match and
       get_matching_blocks). So a popular word of b is matched only in a run of them next to
       a word of b that is in a, or in a common start: a text that is mostly one word is not
       like another that is, unless the few words around it match too.
    Stops at the first below NEAR_IDENTICAL."""
    total = len(a.words) + len(b.words)
    if not total:
        return 1.0
    bound = 2 * min(len(a.words), len(b.words)) / total
    if bound < NEAR_IDENTICAL:
        return bound
    # (map and sum: the loops over the words run in C, as each pair of a save gets here)
    only_a = a.counts.keys() - b.counts.keys()
    bound = 2 * (len(a.words) - sum(map(a.counts.__getitem__, only_a))) / total
    if bound < NEAR_IDENTICAL:  # a's words that b has none of: never matched
        return bound
    both = a.counts.keys() & b.counts.keys()
    shared = sum(map(min, map(a.counts.__getitem__, both), map(b.counts.__getitem__, both)))
    if 2 * shared / total < NEAR_IDENTICAL or not b.popular:
        return 2 * shared / total
    # 3: the words b does not hold popular, matched at most as often as both hold them ...
    rare = sum(min(n, a.counts[w]) for w, n in b.counts.items() if w not in b.popular)
    # ... and its popular ones at most in runs next to a word of a, or in a common start
    runs = sum(n for before, after, n in b.runs if before in a.counts or after in a.counts)
    first_before, first_after, first = b.runs[0]
    if first_before is None and first_after not in a.counts:  # b starts with a run, not counted
        start = 0
        while start < first and start < len(a.words) and a.words[start] == b.words[start]:
            start += 1
        runs += start
    popular = min(runs, sum(a.counts[w] for w in b.popular))
    return 2 * min(shared, rare + popular) / total


def ratio(text: str, other: str) -> float:
    """difflib's ratio of two texts' words, however low (no bound cuts it short): what a
    same-title decision is weighed by (save.py `_updated`), for the few of one title."""
    return _Words(words_of(other)).ratio_with(words_of(text))


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def sampled(words: Sequence[str]) -> list[str]:
    """The distinct words a save finds a text's near-duplicates by (the rarest of them):
    all, or the NEAR_DUPLICATE_TERMS of them whose CRC-32 is lowest (those tied with the last
    too), in the text's order. A fixed spread over the whole text, not its first words (a
    report's fixed opening), and not the words this process happened to have counted: what
    merges does not depend on the saves and restarts before."""
    # as the memory index keeps them: an accented word looked up as written is in no memory
    distinct = index_words(dict.fromkeys(words))
    if len(distinct) <= NEAR_DUPLICATE_TERMS:
        return distinct
    # (map, sorted and compress run in C)
    crcs = list(map(zlib.crc32, map(str.encode, distinct)))
    last = sorted(crcs)[NEAR_DUPLICATE_TERMS - 1]
    return list(compress(distinct, map(last.__ge__, crcs)))
