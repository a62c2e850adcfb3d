"""Features for the learned part of the classifier.

Binary features: stemmed words and word pairs of the user's own prose, the first word, the
shape of the request (how long, how much was pasted, how many files it names) and which
keyword families fired. The same function serves run time and `scripts/train_classifier.py`,
so the weights always see the features they were trained on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ocp_router._text import SplitText

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
MAX_WORDS = 400

_SUFFIXES = (
    "ations",
    "ation",
    "ments",
    "ment",
    "ities",
    "ity",
    "ing",
    "ies",
    "ied",
    "ed",
    "es",
    "ly",
    "s",
)


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A deliberately crude stemmer: enough to fold races/racing/raced into one feature."""
    if len(word) <= 4 or not word.isascii():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if n <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


def words_of(prose_lower: str) -> list[str]:
    return WORD.findall(prose_lower)


@lru_cache(maxsize=8192)
def _unigram(word: str) -> tuple[str, str]:
    """(stem, feature name) of a word, cached: the same words recur across requests."""
    s = stem(word)
    return s, "w:" + s


def extract(
    split: SplitText, prose_lower: str, words: list[str], fired: Iterable[str]
) -> list[str]:
    if len(words) > MAX_WORDS:
        words = words[: MAX_WORDS - 100] + words[-100:]
    pairs = [_unigram(w) for w in words]
    feats = ["s:bias"]
    # dict.fromkeys, not a set: a stable order keeps training bit-for-bit reproducible.
    feats.extend(dict.fromkeys(name for _, name in pairs))
    stems = [s for s, _ in pairs]
    feats.extend(dict.fromkeys("b:" + a + "_" + b for a, b in zip(stems, stems[1:], strict=False)))
    if stems:
        feats.append("s:first:" + stems[0])
    feats.append("s:words:" + _bucket(len(words), (5, 12, 25, 50, 100)))
    feats.append("s:code:" + _bucket(split.code_lines, (0, 20, 80)))
    feats.append("s:pasted:" + _bucket(split.pasted_lines, (0, 10, 50)))
    feats.append("s:paths:" + _bucket(len(split.paths), (0, 1, 2, 5)))
    if "?" in prose_lower:
        feats.append("s:question")
    if prose_lower and not prose_lower.isascii():
        non_ascii = sum(1 for ch in prose_lower[:2000] if ord(ch) > 127)
        if non_ascii * 3 > min(len(prose_lower), 2000):
            feats.append("s:non_ascii")
    feats.extend("f:" + name for name in fired)
    return feats
