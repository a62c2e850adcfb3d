"""Features for the learned part of the classifier.

Binary features: truncated words and word pairs of the user's own prose, the first word, the
shape of the request (how long, how much was pasted, how many files it names) and which
keyword families fired. The same function serves run time and `scripts/train_classifier.py`,
so the weights always see the features they were trained on.

Words are "stemmed" by truncation to their first six letters (concurrency/concurrent,
migration/migrating, vulnerable/vulnerability fold into one feature). Truncation costs a
slice per word and needs no cache, which keeps a cold call in microseconds; the suffix
stemmer it replaced cost about 1.5 µs a word uncached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from operator import itemgetter

from ocp_router._text import SplitText

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# The same words for lower-case ASCII text, at half the cost of the Unicode class; without an
# apostrophe they are the runs of letters, which str.split finds faster still.
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Every byte but a-z as a space: bytes.translate runs a 256-byte table in C, where str.translate
# with a mapping looks each character up in a dict (4x the instructions on a short request).
_NOT_LETTERS = bytes(c if 0x61 <= c <= 0x7A else 0x20 for c in range(256))
MAX_WORDS = 400
STEM_CHARS = 6
STEM_SLICE = itemgetter(slice(None, STEM_CHARS))  # w[:STEM_CHARS], sliced in C by map


def stem(word: str) -> str:
    return word[:STEM_CHARS]


def bucket(n: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if n <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


def spaced_letters(prose_lower: str) -> str:
    """The text with every character but a-z a space (each byte of one outside ASCII), and a
    space at each end: every word of ASCII letters follows a space (`match_families` looks for
    word starts in it) and `.split()` of it is `words_of` on ASCII text without an apostrophe."""
    if prose_lower.isascii():
        return f" {prose_lower} ".encode().translate(_NOT_LETTERS).decode()
    return f" {prose_lower} ".encode("utf-8", "surrogatepass").translate(_NOT_LETTERS).decode()


def words_of(prose_lower: str, spaced: str | None = None) -> list[str]:
    """The words of lower-cased prose; `spaced`: `spaced_letters(prose_lower)`, when the caller
    has it."""
    if prose_lower.isascii():
        if "'" not in prose_lower:
            return (spaced or spaced_letters(prose_lower)).split()
        return _ASCII_WORD.findall(prose_lower)
    return WORD.findall(prose_lower)


WORD_EDGES = (5, 12, 25, 50, 100)
CODE_EDGES = (0, 20, 80)
PASTED_EDGES = (0, 10, 50)
PATH_EDGES = (0, 1, 2, 5)


def stems_of(words: list[str]) -> list[str]:
    """The stems the word and pair features are made of (a long request: its first 300 and
    last 100 words)."""
    if len(words) > MAX_WORDS:
        words = words[: MAX_WORDS - 100] + words[-100:]
    return list(map(STEM_SLICE, words))


def mostly_non_ascii(prose_lower: str) -> bool:
    """More than a third of the prose's start is outside ASCII (a non-Latin script)."""
    head = prose_lower[:2000]
    non_ascii = len(head) - len(head.encode("ascii", "ignore"))
    return non_ascii * 3 > len(head)


def shape_features(
    split: SplitText, prose_lower: str, stems: list[str], fired: Iterable[str]
) -> list[str]:
    """Every feature that is not a word or a word pair."""
    feats = ["s:bias"]
    if stems:
        feats.append("s:first:" + stems[0])
    feats.append("s:words:" + bucket(len(stems), WORD_EDGES))
    feats.append("s:code:" + bucket(split.code_lines, CODE_EDGES))
    feats.append("s:pasted:" + bucket(split.pasted_lines, PASTED_EDGES))
    feats.append("s:paths:" + bucket(len(split.paths), PATH_EDGES))
    if "?" in prose_lower:
        feats.append("s:question")
    if prose_lower and not prose_lower.isascii() and mostly_non_ascii(prose_lower):
        feats.append("s:non_ascii")
    feats.extend(["f:" + name for name in fired])
    return feats


def extract(
    split: SplitText, prose_lower: str, words: list[str], fired: Iterable[str]
) -> list[str]:
    """All features of a request by name, in a stable order: words, pairs, the rest. The
    classifier scores the same features without building their names (`classifier._learned`);
    a test holds the two to the same sums."""
    stems = stems_of(words)
    # dict.fromkeys, not a set: a stable order keeps training bit-for-bit reproducible.
    feats = ["w:" + s for s in dict.fromkeys(stems)]
    feats.extend(
        ["b:" + a + "_" + b for a, b in dict.fromkeys(zip(stems, stems[1:], strict=False))]
    )
    feats.extend(shape_features(split, prose_lower, stems, fired))
    return feats
