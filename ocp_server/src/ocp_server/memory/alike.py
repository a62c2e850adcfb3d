"""How alike two memories' texts are: a save merges a near-identical one (save.py)."""

from __future__ import annotations

import difflib
import re
from collections import Counter

from ocp_server.memory.queries import NEAR_IDENTICAL


def similarity(words: list[str], other: list[str]) -> float:
    """How alike two word sequences are (difflib's ratio), or 0.0 as soon as an upper bound
    of it (difflib's quick_ratio: the words they share, in any order), counted in linear
    time, shows they are not near-identical. The ratio itself is quadratic in the words: a
    save works them out before its write transaction (`compare_all`), and under it only for
    texts changed since."""
    total = len(words) + len(other)
    if total and 2 * sum((Counter(words) & Counter(other)).values()) / total < NEAR_IDENTICAL:
        return 0.0
    return difflib.SequenceMatcher(None, words, other).ratio()


Item = tuple[str, list[tuple[int, str]] | None]  # text, live memories it may merge into


def compare_all(kinds: list[list[Item]]) -> dict[tuple[str, str], float]:
    """`similarity` of each item of a save (per kind, in order; None: it is not merged) with the
    live memories found for it and with the rows this save's earlier items leave: an item
    near-identical to one merges into the most alike, as the transaction will do."""
    compare = Comparer()
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
    return compare.alike


class Comparer:
    """`similarity` of texts, each text's words and counts taken once, and each result kept."""

    def __init__(self) -> None:
        self.alike: dict[tuple[str, str], float] = {}
        self._words: dict[str, tuple[list[str], Counter[str]]] = {}

    def __call__(self, text: str, other: str) -> float:
        if (text, other) in self.alike:
            return self.alike[(text, other)]
        a, b = self._counted(text)[0], self._counted(other)[0]
        if len(a) + len(b) and self.bound(text, other) < NEAR_IDENTICAL:
            alike = 0.0
        else:
            alike = difflib.SequenceMatcher(None, a, b).ratio()
        self.alike[(text, other)] = alike
        return alike

    def bound(self, text: str, other: str) -> float:
        """An upper bound of `similarity` (difflib's quick_ratio: the words shared in any order)."""
        (a, a_counts), (b, b_counts) = self._counted(text), self._counted(other)
        total = len(a) + len(b)
        if not total:
            return 1.0
        # the words two texts share are at most the shorter one's: a first bound, in O(1)
        if 2 * min(len(a), len(b)) / total < NEAR_IDENTICAL:
            return 2 * min(len(a), len(b)) / total
        return _shared(a_counts, b_counts) / total

    def _counted(self, text: str) -> tuple[list[str], Counter[str]]:
        if text not in self._words:
            words = words_of(text)
            self._words[text] = (words, Counter(words))
        return self._words[text]


def _shared(counts: Counter[str], other: Counter[str]) -> int:
    """Twice the words two texts share, in any order (difflib's quick_ratio's numerator)."""
    small, large = (counts, other) if len(counts) <= len(other) else (other, counts)
    return 2 * sum(min(n, large[w]) for w, n in small.items() if w in large)


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())
