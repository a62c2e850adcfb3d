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

from ocp_router._text import SplitText

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
MAX_WORDS = 400
STEM_CHARS = 6


def stem(word: str) -> str:
    return word[:STEM_CHARS]


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if n <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


def words_of(prose_lower: str) -> list[str]:
    return WORD.findall(prose_lower)


_WORD_EDGES = (5, 12, 25, 50, 100)
_CODE_EDGES = (0, 20, 80)
_PASTED_EDGES = (0, 10, 50)
_PATH_EDGES = (0, 1, 2, 5)


def extract(
    split: SplitText, prose_lower: str, words: list[str], fired: Iterable[str]
) -> list[str]:
    if len(words) > MAX_WORDS:
        words = words[: MAX_WORDS - 100] + words[-100:]
    stems = [w[:STEM_CHARS] for w in words]
    feats = ["s:bias"]
    # dict.fromkeys, not a set: a stable order keeps training bit-for-bit reproducible.
    feats.extend(["w:" + s for s in dict.fromkeys(stems)])
    feats.extend(
        ["b:" + a + "_" + b for a, b in dict.fromkeys(zip(stems, stems[1:], strict=False))]
    )
    if stems:
        feats.append("s:first:" + stems[0])
    feats.append("s:words:" + _bucket(len(words), _WORD_EDGES))
    feats.append("s:code:" + _bucket(split.code_lines, _CODE_EDGES))
    feats.append("s:pasted:" + _bucket(split.pasted_lines, _PASTED_EDGES))
    feats.append("s:paths:" + _bucket(len(split.paths), _PATH_EDGES))
    if "?" in prose_lower:
        feats.append("s:question")
    if prose_lower and not prose_lower.isascii():
        head = prose_lower[:2000]
        non_ascii = len(head) - len(head.encode("ascii", "ignore"))
        if non_ascii * 3 > len(head):
            feats.append("s:non_ascii")
    feats.extend(["f:" + name for name in fired])
    return feats
