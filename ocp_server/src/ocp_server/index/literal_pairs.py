"""The word pairs a chunk's string literals may hold, stop words included, stored per chunk.

The message read-back (`literal_text`) looks for a run of a message's words, stop words and
all, in a string literal, and the index's phrases (`lexicon.pair_hash`) leave stop words out:
"to the default" has one term, and any chunk of the best files holding `default` had to be
read back. Each chunk also stores the distinct pairs of words that follow each other on a line
from its first quote on (lower-cased runs of word characters, `\\w+`): a literal on that line
holding a run of words holds each two of them in a row there, so a chunk lacking one of a
run's pairs (`literal_keys`) cannot hold the run, and is not read.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

__all__ = ["literal_blobs", "literal_key", "literal_keys"]

#: From a line's first quote to its last (the next match starts on a later line): a literal
#: opens after the one and closes before the other.
_QUOTED = re.compile(r"[\"'`][^\n]*[\"'`]")
#: A word as the read-back's pattern sees one (`\w`, as `re` reads it in text), or a line's end.
_WORD_OR_LINE = re.compile(r"\w+|\n")
_WORD = re.compile(r"\w+")

#: Fibonacci hashing, as `lexicon.pair_hash` mixes two term hashes.
_MIX = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1
#: Words' hashes; a line's end is none (negative).
_MARKS = {"\n": -1}
_HASHES: dict[str, int] = dict(_MARKS)
_CACHE_LIMIT = 200_000


def _word_hash(word: str) -> int:
    h = _HASHES.get(word)
    if h is None:
        if len(_HASHES) > _CACHE_LIMIT:
            _HASHES.clear()
            _HASHES.update(_MARKS)
        h = _HASHES[word] = zlib.crc32(word.encode("utf-8", "surrogatepass"))
    return h


def literal_key(first: str, second: str) -> int:
    """Two words (lower-case) that follow each other in a literal, as one u32 key."""
    return ((_word_hash(first) << 32 | _word_hash(second)) * _MIX & _U64) >> 32


def literal_keys(window: tuple[str, ...]) -> tuple[int, ...] | None:
    """The keys a chunk holds wherever a literal of it holds `window` (lower-case words, two
    at least): each two words in a row. None when a word is not one run of word characters
    (lower-casing may make one that is not: "İ" gives "i̇"): no key tells then."""
    if len(window) < 2 or not all(_WORD.fullmatch(w) for w in window):
        return None
    return tuple(dict.fromkeys(literal_key(a, b) for a, b in zip(window, window[1:], strict=False)))


def literal_blobs(texts: Sequence[str]) -> list[bytes]:
    """Per text (a file's chunks go together): the keys (`literal_key`, u32, distinct and
    ascending) of each two words in a row on a line from the line's first quote on. Lines are
    cut at "\\n" alone, as the read-back cuts them; the words are those of the text
    lower-cased, as it reads them. A few array operations for all the texts, as
    `lexicon.body_blobs` makes their terms."""
    quoted: list[str] = []  # every text's lines from their first quote on, in order
    per_text: list[int] = []
    for text in texts:
        found = _QUOTED.findall(text)  # (lower-casing makes no quote nor line end)
        quoted += found
        per_text.append(len(found))
    if not quoted:
        return [b""] * len(texts)
    words = _WORD_OR_LINE.findall("\n".join(quoted).lower())
    hashes = list(map(_HASHES.get, words))
    if None in hashes:
        hashes = [_word_hash(w) if h is None else h for w, h in zip(words, hashes, strict=True)]
    seq = np.array(hashes, dtype=np.int64)
    # each word's line (the line ends between them), and the line's text
    line_of = np.cumsum(seq < 0)
    text_of = np.repeat(np.arange(len(texts), dtype=np.uint64), per_text)[line_of]
    held = seq >= 0
    both = held[:-1] & held[1:]
    wide = seq.astype(np.uint64)
    keys = ((wide[:-1][both] << np.uint64(32)) | wide[1:][both]) * np.uint64(_MIX) >> np.uint64(32)
    tagged = np.unique((text_of[:-1][both] << np.uint64(32)) | keys)
    at = np.searchsorted(tagged >> np.uint64(32), np.arange(len(texts) + 1, dtype=np.uint64))
    packed = tagged.astype("<u4").tobytes()
    ends = at.tolist()
    return [packed[ends[i] * 4 : ends[i + 1] * 4] for i in range(len(texts))]
