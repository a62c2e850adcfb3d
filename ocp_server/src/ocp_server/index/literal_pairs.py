"""The word pairs a chunk's string literals may hold, stop words included, stored per chunk.

The message read-back (`literal_text`) looks for a run of a message's words, stop words and
all, in a string literal, and the index's phrases (`lexicon.pair_hash`) leave stop words out:
"to the default" has one term, and any chunk of the best files holding `default` had to be
read back. Each chunk also stores the distinct pairs of words that follow each other on a line
between its first and last quotes (lower-cased runs of word characters, `\\w+`): a literal there
holding a run of words holds each two of them in a row there, so a chunk lacking one of a
run's pairs (`literal_keys`) cannot hold the run, and is not read (`literals_held`); and the
chunks holding all of them, in any file, are few enough to read when the best files print
none of a message (`held_anywhere`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import gather
from ocp_server.index.lexical import Snapshot

__all__ = ["held_anywhere", "literal_blobs", "literal_key", "literal_keys", "literals_held"]

#: From a line's first quote to its last (the next match starts on a later line): a literal
#: opens after the one and closes before the other.
_QUOTED = re.compile(r"[\"'`][^\n]*[\"'`]")
#: A word as the read-back's pattern sees one (`\w`, as `re` reads it in text), or a line's end.
_WORD_OR_LINE = re.compile(r"\w+|\n")
_WORD = re.compile(r"\w+")

#: A window's pairs are held as bits of one integer: the first this many of all windows'.
_MASK_BITS = 64
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


def _window_masks(windows: tuple[tuple[str, ...], ...]) -> tuple[list[int], list[int]] | None:
    """The literal pairs (`literal_keys`) of `windows`, and per window the bits of its own
    among them (of the first _MASK_BITS pairs of all); None when a window has none that tell
    (a word that is not a run of word characters)."""
    bit: dict[int, int] = {}
    masks: list[int] = []
    for window in windows:
        keys = literal_keys(window)
        if keys is None:
            return None
        mask = 0
        for key in keys:
            if key not in bit and len(bit) < _MASK_BITS:
                bit[key] = len(bit)
            if key in bit:
                mask |= 1 << bit[key]
        if not mask:
            return None
        masks.append(mask)
    return list(bit), list(dict.fromkeys(masks))


def literals_held(
    snap: Snapshot, chunks: list[int], windows: tuple[tuple[str, ...], ...]
) -> list[int]:
    """Of `chunks`, those whose literal pairs (`literal_pairs`) hold every pair of one of
    `windows` (`_window_masks`), or that have none stored: the others hold no literal with a
    window in it, whatever its stop words ("to the default")."""
    spec = _window_masks(windows)
    if spec is None:
        return chunks  # a word no key tells
    keys, masks = spec
    scanned = np.asarray(chunks, dtype=np.intp)
    order = np.argsort(scanned)
    ascending = scanned[order]
    hits = gather(snap.chunk_literals, keys, snap.n_chunks)
    # each posting's place among the chunks scanned, where it is one of them
    at = np.minimum(ascending.searchsorted(hits.docs), len(ascending) - 1)
    keep = ascending[at] == hits.docs
    mine = np.zeros(len(scanned), dtype=np.uint64)
    np.bitwise_or.at(
        mine, order[at[keep]], np.left_shift(np.uint64(1), hits.term[keep].astype(np.uint64))
    )
    passes = ~snap.literals_known[scanned]
    for mask in masks:
        passes |= (mine & np.uint64(mask)) == np.uint64(mask)
    held: list[int] = scanned[passes].tolist()
    return held


def held_anywhere(
    snap: Snapshot,
    windows: tuple[tuple[str, ...], ...],
    best: npt.NDArray[np.int64],
    allowed: npt.NDArray[np.bool_] | None,
    seen: list[int],
    limit: int,
) -> list[int]:
    """The chunks of source, examples and scripts, in any file (of those `allowed`), whose
    literal pairs hold every pair of one of `windows`, less those looked for already
    (`seen`): the chunks of the `best` files first (in their order), at most `limit`."""
    spec = _window_masks(windows)
    if spec is None:
        return []
    keys, masks = spec
    hits = gather(snap.chunk_literals, keys, snap.n_chunks)
    if not len(hits.docs):
        return []
    order = np.argsort(hits.docs, kind="stable")
    docs = hits.docs[order]
    bits = np.left_shift(np.uint64(1), hits.term[order].astype(np.uint64))
    starts = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
    held = np.bitwise_or.reduceat(bits, starts)
    chunks = docs[starts]
    holds = np.zeros(len(chunks), dtype=bool)
    for mask in masks:
        holds |= (held & np.uint64(mask)) == np.uint64(mask)
    chunks = chunks[holds]
    files = snap.chunk_file[chunks]
    classes = snap.file_class[files]
    keep = (classes == FileClass.CODE) | (classes == FileClass.AUX)
    if allowed is not None:
        keep &= allowed[files]
    if seen:
        keep &= ~np.isin(chunks, np.asarray(seen, dtype=np.intp))
    chunks, files = chunks[keep], files[keep]
    if not len(chunks):
        return []
    place = np.full(snap.n_files, len(best), dtype=np.int64)
    place[best] = np.arange(len(best))
    first: list[int] = chunks[np.lexsort((chunks, place[files]))][:limit].tolist()
    return first
