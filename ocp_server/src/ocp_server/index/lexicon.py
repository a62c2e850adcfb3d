"""The search vocabulary: how text becomes terms, for chunks and queries alike.

A word is split the way code is written (`verifyToken`, `verify_token`, `VerifyToken` all give
`verify` and `token`) and kept whole as well, in one spelling for all three (`verify_token`),
so an identifier still matches as a whole. Stop words and one-letter words are dropped, and the
rest is stemmed with the Snowball English stemmer (PyStemmer), so "handling" meets `handle`.

Terms are stored and looked up as 32-bit CRC hashes: no vocabulary table to keep in step between
processes, and with a few hundred thousand distinct terms a collision is rare and costs at most
a little ranking noise. Three kinds of terms live in separate hash namespaces:

- body terms (`term_hash(t)`): the stemmed words of a chunk's text, with their counts;
- name terms (`name_hash(t)`): the stemmed words of a definition's symbol and scope, plus
  `defined_hash(identifier)` for the whole identifier it defines, `spelt_hash(identifier)`
  for it as spelt, and `tail_hash` for each of its tails of two words or more (`ToolError`
  of `OCPToolError`);
- pairs (`pair_hash(a, b)`): two body terms that follow each other, for phrase evidence.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Sequence
from itertools import chain
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import Stemmer
import zstandard

__all__ = [
    "BodyBlob",
    "MAX_QUERY_CHARS",
    "MAX_TOKEN_CHARS",
    "NO_SEARCHABLE_WORDS",
    "TILE_LINES",
    "body_blob",
    "body_blobs",
    "code_identifiers",
    "code_terms",
    "code_words",
    "defined_hash",
    "first_sentence",
    "identifier_key",
    "name_hash",
    "pair_hash",
    "pairs",
    "search_query",
    "spelt_hash",
    "tail_hash",
    "tails_of",
    "term_hash",
    "terms",
    "terms_by_word",
    "words",
]

#: Queries are cut to this many characters before any pattern runs on them.
MAX_QUERY_CHARS = 4000
#: Longer runs of word characters are data (hashes, base64), not vocabulary.
MAX_WORD_CHARS = 64
#: What a query without a term is told it holds: every kind of text that makes none.
NO_SEARCHABLE_WORDS = (
    "has no searchable words (it is empty, or only spaces, punctuation, single characters, "
    f"words as common as 'the' or words longer than {MAX_WORD_CHARS} characters)"
)

_WORD = re.compile(r"[^\W\d]\w*|\d+")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_A-Za-z]+")
# Spans a person writes as code: `backticked`, or a token that is dotted.names, a::path,
# snake_case, camelCase or a call(). Tokens are looked at one by one (each short), so no
# pattern ever runs over a long unbroken string.
_BACKTICKED = re.compile(r"`([^`\n]{1,80})`")
_TOKEN_EDGES = "\"'()[]{}<>,;:!?*"
_CAMEL_HUMP = re.compile(r"[a-z][A-Z]")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")

STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does doing for from had has have
having he her here his how i if in into is it its itself just me more most my no nor not of off
on once only or other our out over own same she should so some such than that the their them
then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your also via use used using""".split()
)

# No cache of its own: _STEMS keeps whole words, and its lookups cost more than the stemming
# they save (a third of the first sight of a word).
_stemmer = Stemmer.Stemmer("english", maxCacheSize=0)
_STEMS: dict[str, tuple[str, ...]] = {}
_HASHES: dict[str, int] = {}
_CACHE_LIMIT = 500_000


def _stem_word(word: str) -> tuple[str, ...]:
    """The stemmed terms of one word: its parts, and the compound when it has several."""
    parts = [p.lower() for piece in word.split("_") if piece for p in _PARTS.findall(piece)]
    raw = parts if len(parts) < 2 else ["_".join(parts), *parts]
    return tuple(_stemmer.stemWord(t) for t in raw if len(t) > 1 and t not in STOPWORDS)


def _word_terms(word: str) -> tuple[str, ...]:
    """`_stem_word`, cached."""
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    out = _stem_word(word)
    if len(_STEMS) > _CACHE_LIMIT:
        _STEMS.clear()
    _STEMS[word] = out
    return out


def words(text: str) -> list[str]:
    """The words of `text` (runs of letters, digits and `_` not starting with a digit, or
    numbers), longer-than-vocabulary runs dropped."""
    return [w for w in _WORD.findall(text) if len(w) <= MAX_WORD_CHARS]


def terms(text: str) -> list[str]:
    """Stemmed terms of `text` in order, compounds before their parts."""
    out: list[str] = []
    for word in words(text):
        out.extend(_word_terms(word))
    return out


def terms_by_word(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The words of `text`, each with its stemmed terms (`terms` of the word alone)."""
    return [(word, _word_terms(word)) for word in words(text)]


def term_hash(term: str) -> int:
    h = _HASHES.get(term)
    if h is None:
        if len(_HASHES) > _CACHE_LIMIT:
            _HASHES.clear()
        h = _HASHES[term] = zlib.crc32(term.encode())
    return h


def name_hash(term: str) -> int:
    return zlib.crc32(b"name\0" + term.encode())


def identifier_key(identifier: str) -> str:
    """One spelling for every way of writing an identifier: `verifyToken`, `VerifyToken`
    and `verify_token` all give "verify_token"."""
    return "_".join(
        p.lower() for piece in identifier.split("_") if piece for p in _PARTS.findall(piece)
    )


def defined_hash(identifier: str) -> int:
    """The whole identifier a definition defines, in its `identifier_key` spelling."""
    return zlib.crc32(b"def\0" + identifier_key(identifier).encode())


def spelt_hash(identifier: str) -> int:
    """The identifier a definition defines as it is spelt, case aside: `_echo` is not `echo`
    (`identifier_key` gives both "echo"), `Scope` is `scope`."""
    return zlib.crc32(b"spelt\0" + identifier.lower().encode())


def tails_of(identifier: str) -> list[str]:
    """The `identifier_key` spellings of an identifier's tails of two words or more, itself
    aside: `LineBufferBuilder` gives "buffer_builder". A tail's words are words, not a digit
    or a letter (`V2` of `GenBashCompletionFileV2` names nothing)."""
    parts = identifier_key(identifier).split("_")
    return [
        "_".join(parts[i:])
        for i in range(1, len(parts) - 1)
        if sum(len(p) > 1 and not p.isdigit() for p in parts[i:]) >= 2
    ]


def tail_hash(key: str) -> int:
    """A tail (`tails_of`) of an identifier a definition defines: a lookup of `ToolError`,
    which nothing defines, finds `OCPToolError`."""
    return zlib.crc32(b"tail\0" + key.encode())


#: Fibonacci hashing: 2^64 over the golden ratio.
_PAIR_MIX = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1


def pair_hash(first: str, second: str) -> int:
    """Two terms that follow each other as one key: their term hashes side by side in 64 bits,
    times _PAIR_MIX, the top 32 bits of the product (`body_blobs` the same, over arrays)."""
    return ((term_hash(first) << 32 | term_hash(second)) * _PAIR_MIX & _U64) >> 32


def pairs(seq: Sequence[str]) -> list[tuple[str, str]]:
    """Adjacent term pairs of a term sequence (as `terms` gives it, compounds included)."""
    return list(zip(seq, seq[1:], strict=False))


def first_sentence(text: str) -> str:
    """The first sentence: a commit subject, or the question before its details."""
    end = _SENTENCE_END.search(text)
    return text[: end.start()] if end else text


def _code_spans(text: str) -> list[str]:
    spans = _BACKTICKED.findall(text)
    for token in _BACKTICKED.sub(" ", text).split():
        if len(token) > MAX_WORD_CHARS or (token.isalpha() and token.islower()):
            continue  # too long, or a plain word: no call, `_`, `.` or camel hump in it
        called = token.endswith("()") or "()." in token
        token = token.strip(_TOKEN_EDGES + ".")
        if not token or token[0].isdigit():
            continue
        if (
            called
            or "_" in token.strip("_")
            or "." in token
            or "::" in token  # Rust, C++, PHP, Ruby: `Searcher::new`
            or _CAMEL_HUMP.search(token)
        ):
            spans.append(token)
    return spans


def code_identifiers(text: str) -> list[str]:
    """Identifiers written as code in `text` (backticked, dotted, snake_case, camelCase,
    called), one-letter and two-letter names left out."""
    return _identifiers_in(_code_spans(text))


def code_terms(text: str) -> set[str]:
    """The stemmed terms of the spans written as code."""
    return _terms_in(_code_spans(text))


def code_words(text: str) -> tuple[list[str], set[str]]:
    """`code_identifiers(text)` and `code_terms(text)`, finding the code spans once."""
    spans = _code_spans(text)
    return _identifiers_in(spans), _terms_in(spans)


def _identifiers_in(spans: list[str]) -> list[str]:
    return [w for span in spans for w in words(span) if len(w) > 2]


def _terms_in(spans: list[str]) -> set[str]:
    return {t for span in spans for t in terms(span)}


# ---- what the indexer stores per chunk ----------------------------------------------------
class _TextCodec(threading.local):
    """zstandard's compressors and decompressors must not be used by two threads at once, and
    making one costs more than packing a chunk's text (about 15 µs): one of each per thread."""

    def __init__(self) -> None:
        # Level 6: a fortieth smaller than level 3 on the monorepo's texts, and still packs in
        # well under zlib's time; the levels above it come out no smaller on chunks this size.
        self.compress = zstandard.ZstdCompressor(level=6).compress
        self.decompress = zstandard.ZstdDecompressor().decompress


_codec = _TextCodec()


def pack_text(text: str) -> bytes:
    """A chunk's text as stored: a zstd frame, which carries the text's size, so unpacking needs
    no bound. It keeps a large repository's database well under twice its source (code
    compresses well, and a search reads back only the few chunks it returns), and inflates
    about twice as fast as zlib, which took a tenth of a search."""
    return _codec.compress(text.encode("utf-8"))


_ZSTD_FRAME = b"\x28\xb5\x2f\xfd"  # how every zstd frame begins


def unpack_text(stored: bytes) -> str:
    """A chunk's text from `pack_text`'s form, or from zlib's, which databases held before
    (m014 recodes them, but a server of an earlier version sharing the database writes it)."""
    if stored[:4] == _ZSTD_FRAME:
        return _codec.decompress(stored).decode("utf-8")
    if stored[:1] == b"\x78":
        return zlib.decompress(stored).decode("utf-8")
    raise ValueError(f"a chunk's text in an unknown format (its first bytes: {stored[:4].hex()})")


TERM_RECORD = np.dtype([("term", "<u4"), ("count", "<u2")])
#: Where in a chunk each term is, for term proximity (`proximity`): the file's lines in tiles of
#: this many, counted from the file's first line, so neighbouring chunks share one grid.
TILE_LINES = 3
#: A term's tiles in a chunk are one bit each, from the chunk's first tile: at most 64 (a chunk
#: of more than about 190 lines holds its last lines' terms in the last bit).
MAX_TILES = 64


class BodyBlob(NamedTuple):
    """A chunk's text packed for search: its term records (TERM_RECORD), distinct adjacent
    pairs (u32 hashes), length in terms, and per record the tiles holding the term (see
    `body_blob`)."""

    terms: bytes
    pairs: bytes
    length: int
    tiles: bytes


def body_blob(text: str, start_line: int = 1) -> BodyBlob:
    """`text` (starting at line `start_line` of its file) packed for storage (`body_blobs`)."""
    return body_blobs([(text, start_line)])[0]


# This process's vocabulary: each run of word characters met so far (`\w+`, one or more
# `words`) as the ids of its terms, so a file's runs become term ids in one C-level pass and
# only a run not met before is split and stemmed (per-word Python was most of a build's cost).
# The ids never leave the process; the lock keeps them consistent between threads.
_RUN_OR_LINE = re.compile(r"\w+|\n")
_LINE, _CHUNK_END = -1, -2  # the ids of "\n", and of "" (never a run) after a chunk's runs
_FIXED_RUNS: dict[str, tuple[int, ...]] = {"\n": (_LINE,), "": (_CHUNK_END,)}
_RUN_TERMS = dict(_FIXED_RUNS)
_TERM_IDS: dict[str, int] = {}
_TERM_HASHES = np.empty(1 << 14, dtype=np.uint32)  # term_hash by term id, grown by doubling
_VOCABULARY_LOCK = threading.Lock()
#: A tile mask needs one byte, and one more for each of these it reaches.
_BYTE_STEPS = np.array([1 << (8 * i) for i in range(1, 8)], dtype=np.uint64)


def _learn(runs: set[str]) -> dict[str, tuple[int, ...]]:
    """The term ids of `runs`, new term ids made; the runs of a word's length kept for next
    time (a longer one is hex, base64 or minified code: not kept, such runs would fill the
    memory)."""
    global _TERM_HASHES
    learned = {}
    for run in runs:
        ids = []
        for word in words(run):  # split as `words` splits the text around it
            for t in _stem_word(word):  # not cached: a run is learned once
                i = _TERM_IDS.get(t)
                if i is None:
                    i = _TERM_IDS[t] = len(_TERM_IDS)
                    if i == len(_TERM_HASHES):
                        _TERM_HASHES = np.concatenate([_TERM_HASHES, _TERM_HASHES])
                    _TERM_HASHES[i] = term_hash(t)
                ids.append(i)
        learned[run] = tuple(ids)
        if len(run) <= MAX_WORD_CHARS:
            _RUN_TERMS[run] = learned[run]
    return learned


def _term_ids(runs: list[str]) -> npt.NDArray[np.int64]:
    """The term ids of `runs` in order, with _LINE and _CHUNK_END where those are."""
    if len(_RUN_TERMS) > _CACHE_LIMIT:
        _RUN_TERMS.clear()
        _RUN_TERMS.update(_FIXED_RUNS)
        _TERM_IDS.clear()
    try:  # mostly every run is known: no set of them to make
        return np.fromiter(chain.from_iterable(map(_RUN_TERMS.__getitem__, runs)), np.int64)
    except KeyError:
        new = _learn(set(runs).difference(_RUN_TERMS))
        known = _RUN_TERMS.__getitem__
        ids = (new[r] if r in new else known(r) for r in runs)
        return np.fromiter(chain.from_iterable(ids), np.int64)


def body_blobs(chunks: Sequence[tuple[str, int]]) -> list[BodyBlob]:
    """Each chunk's text (starting at the given line of its file) packed for storage: the
    records of `terms(text)` in order of first appearance, their distinct adjacent pairs
    (`pair_hash`, ascending), and the tiles: per record, a little-endian mask of the tiles
    from the chunk's first, in as many bytes a record as the chunk's tiles need (1 to 8, the
    same for every record of the chunk). A file's chunks go together, in a few array
    operations for all of them."""
    runs: list[str] = []
    for text, _ in chunks:
        runs += _RUN_OR_LINE.findall(text)  # a word never spans lines
        runs.append("")
    count = len(chunks)
    with _VOCABULARY_LOCK:
        seq = _term_ids(runs)
        ends = seq == _CHUNK_END
        chunk = np.cumsum(ends) - ends  # each id's chunk
        lines = np.cumsum(seq == _LINE)  # line ends before each id in the file's sequence
        # line ends before a chunk's first line in the file's tile grid, less those before it
        skew = np.fromiter(((s - 1) % TILE_LINES for _, s in chunks), np.int64, count)
        skew[1:] -= lines[np.flatnonzero(ends)[:-1]]
        is_term = seq >= 0
        ids, chunk = seq[is_term], chunk[is_term]
        # a chunk past MAX_TILES tiles holds the rest in the last
        tile = np.minimum((lines[is_term] + skew[chunk]) // TILE_LINES, MAX_TILES - 1)
        keys, first, which, counts = np.unique(
            chunk * len(_TERM_IDS) + ids, return_index=True, return_inverse=True, return_counts=True
        )
        hashes = _TERM_HASHES[ids]
    masks = np.zeros(len(keys), dtype=np.uint64)
    np.bitwise_or.at(masks, which, np.left_shift(np.uint64(1), tile.astype(np.uint64)))
    order = np.argsort(first)  # by chunk, then by first appearance
    records = np.empty(len(keys), dtype=TERM_RECORD)
    records["term"] = hashes[first[order]]
    records["count"] = np.minimum(counts[order], 65535)
    masks = masks[order].astype("<u8")
    at = np.searchsorted(chunk[first[order]], np.arange(count + 1)).tolist()
    widths = [1] * count  # bytes a record, per chunk: what its widest mask needs
    filled = [k for k in range(count) if at[k] < at[k + 1]]
    if filled:
        most = np.maximum.reduceat(masks, [at[k] for k in filled])
        steps = np.searchsorted(_BYTE_STEPS, most, "right").tolist()
        for k, n in zip(filled, steps, strict=True):
            widths[k] = 1 + n
    tiles = masks.view(np.uint8).reshape(-1, 8)
    pairs, pairs_at = _chunk_pairs(hashes, chunk, count)
    terms_bytes, size = records.tobytes(), TERM_RECORD.itemsize
    lengths = np.bincount(chunk, minlength=count).tolist()
    return [
        BodyBlob(
            terms_bytes[at[k] * size : at[k + 1] * size],
            pairs[pairs_at[k] * 4 : pairs_at[k + 1] * 4],
            lengths[k],
            tiles[at[k] : at[k + 1], : widths[k]].tobytes(),
        )
        for k in range(count)
    ]


def _chunk_pairs(
    hashes: npt.NDArray[np.uint32], chunk: npt.NDArray[np.int64], count: int
) -> tuple[bytes, list[int]]:
    """The `pair_hash` keys of each two neighbouring terms of a chunk (`hashes` in order, each
    term's chunk in `chunk`), distinct and ascending per chunk, as u32s; and where each
    chunk's keys begin (its index) in them."""
    wide = hashes.astype(np.uint64)
    keys = ((wide[:-1] << np.uint64(32)) | wide[1:]) * np.uint64(_PAIR_MIX) >> np.uint64(32)
    inside = chunk[:-1] == chunk[1:]
    # each key tagged with its chunk above it: one sort orders them by chunk, then by key
    tagged = np.sort((chunk[:-1][inside].astype(np.uint64) << np.uint64(32)) | keys[inside])
    if len(tagged):
        tagged = tagged[np.concatenate([[True], tagged[1:] != tagged[:-1]])]
    at = np.searchsorted(tagged >> np.uint64(32), np.arange(count + 1)).tolist()
    return tagged.astype("<u4").tobytes(), at


def names_blob(symbol: str | None, scope: str | None, defines: bool) -> bytes:
    """Name terms of a chunk: its symbol's and scope's words, and the identifier it defines
    (whole, as spelt, and its tails)."""
    if not symbol and not scope:
        return b""
    found: set[int] = set()
    for part in (symbol, scope):
        if part:
            found.update(name_hash(t) for t in terms(part.replace(".", " ")))
    if defines and symbol:
        defined = symbol.rsplit(".", 1)[-1]
        found.update((defined_hash(defined), spelt_hash(defined)))
        found.update(tail_hash(tail) for tail in tails_of(defined))
    return np.fromiter(found, dtype="<u4", count=len(found)).tobytes()


# What a search reads of a query: its first MAX_QUERY_CHARS characters, and no identifier or
# file name is longer than MAX_TOKEN_CHARS. Bounding both before the search's regexes keeps a
# pasted 400 KB request (or one unbroken 40,000-character token) from stalling the server.
MAX_TOKEN_CHARS = 256


def search_query(text: str) -> str:
    """`text` as a search reads it: its first MAX_QUERY_CHARS characters, long tokens cut (the
    words are what a search uses; the spacing between them is not)."""
    head = text[:MAX_QUERY_CHARS]
    if all(len(token) <= MAX_TOKEN_CHARS for token in head.split()):
        return head
    return " ".join(token[:MAX_TOKEN_CHARS] for token in head.split())
