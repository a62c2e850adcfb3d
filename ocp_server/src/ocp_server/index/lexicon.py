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
  `defined_hash(identifier)` for the whole identifier it defines;
- pairs (`pair_hash(a, b)`): two body terms that follow each other, for phrase evidence.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import Stemmer
import zstandard

__all__ = [
    "BodyBlob",
    "MAX_QUERY_CHARS",
    "TILE_LINES",
    "body_blob",
    "code_identifiers",
    "code_terms",
    "code_words",
    "defined_hash",
    "first_sentence",
    "identifier_key",
    "name_hash",
    "pair_hash",
    "pair_keys",
    "pairs",
    "term_hash",
    "terms",
    "terms_by_word",
    "words",
]

#: Queries are cut to this many characters before any pattern runs on them.
MAX_QUERY_CHARS = 4000
#: Longer runs of word characters are data (hashes, base64), not vocabulary.
MAX_WORD_CHARS = 64

_WORD = re.compile(r"[^\W\d]\w*|\d+")
_WORD_OR_LINE = re.compile(r"[^\W\d]\w*|\d+|\n")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_A-Za-z]+")
# Spans a person writes as code: `backticked`, or a token that is dotted.names, snake_case,
# camelCase or a call(). Tokens are looked at one by one (each short), so no pattern ever runs
# over a long unbroken string.
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

_stemmer = Stemmer.Stemmer("english")
_STEMS: dict[str, tuple[str, ...]] = {}
_HASHES: dict[str, int] = {}
_CACHE_LIMIT = 500_000


def _word_terms(word: str) -> tuple[str, ...]:
    """The stemmed terms of one word: its parts, and the compound when it has several."""
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    parts = [p.lower() for piece in word.split("_") if piece for p in _PARTS.findall(piece)]
    raw = parts if len(parts) < 2 else ["_".join(parts), *parts]
    out = tuple(_stemmer.stemWord(t) for t in raw if len(t) > 1 and t not in STOPWORDS)
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


#: Fibonacci hashing: 2^64 over the golden ratio.
_PAIR_MIX = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1


def pair_hash(first: str, second: str) -> int:
    """Two terms that follow each other as one key: their term hashes side by side in 64 bits,
    times _PAIR_MIX, the top 32 bits of the product (`pair_keys` is the same over a chunk)."""
    return ((term_hash(first) << 32 | term_hash(second)) * _PAIR_MIX & _U64) >> 32


def pair_keys(hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """`pair_hash` of each two neighbours of a sequence of term hashes, distinct, ascending:
    a chunk's pairs in a few array operations, not a string hash per word."""
    joined = (hashes[:-1].astype(np.uint64) << np.uint64(32)) | hashes[1:]
    return np.unique((joined * np.uint64(_PAIR_MIX)) >> np.uint64(32)).astype("<u4")


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
        if called or "_" in token.strip("_") or "." in token or _CAMEL_HUMP.search(token):
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
#: Where in a chunk each term is, for term proximity (`ranking`): the file's lines in tiles of
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
    """`text` (starting at line `start_line` of its file) packed for storage. The tiles: per
    term record, a little-endian mask of the tiles from the chunk's first, in as many bytes a
    record as the chunk's tiles need (1 to 8, the same for every record of the chunk)."""
    seq: list[str] = []
    cached = _STEMS.get
    ends: list[int] = []  # per tile of the chunk: where its terms end in `seq`
    line = (start_line - 1) % TILE_LINES
    # one pass over the words and line ends (a word never spans lines): `terms`, and where
    # each tile's terms end
    for token in _WORD_OR_LINE.findall(text):
        if token != "\n":
            if len(token) <= MAX_WORD_CHARS:
                found = cached(token)
                seq += found if found is not None else _word_terms(token)
            continue
        line += 1
        if line == TILE_LINES:
            ends.append(len(seq))
            line = 0
    ends.append(len(seq))
    counts = Counter(seq)
    # each term's tiles, ORed per term (a chunk past MAX_TILES tiles: the rest in the last);
    # in Python: a chunk's few dozen terms cost less than numpy's calls
    where: dict[str, int] = {}
    tile_from = 0
    for tile, tile_to in enumerate(ends):
        bit = 1 << min(tile, MAX_TILES - 1)
        for t in set(seq[tile_from:tile_to]):
            where[t] = where.get(t, 0) | bit
        tile_from = tile_to
    masks = np.array([where[t] for t in counts], dtype="<u8")
    hashes = {t: term_hash(t) for t in counts}
    records = np.empty(len(counts), dtype=TERM_RECORD)
    records["term"] = list(hashes.values())
    records["count"] = np.fromiter(counts.values(), dtype=np.int64, count=len(counts)).clip(
        max=65535
    )
    width = (int(masks.max()).bit_length() + 7) // 8 if len(masks) else 1
    tiles = masks.view(np.uint8).reshape(-1, 8)[:, :width]
    pair_arr = pair_keys(np.fromiter(map(hashes.__getitem__, seq), np.uint32, len(seq)))
    return BodyBlob(records.tobytes(), pair_arr.tobytes(), len(seq), tiles.tobytes())


def names_blob(symbol: str | None, scope: str | None, defines: bool) -> bytes:
    """Name terms of a chunk: its symbol's and scope's words, and the identifier it defines."""
    if not symbol and not scope:
        return b""
    found: set[int] = set()
    for part in (symbol, scope):
        if part:
            found.update(name_hash(t) for t in terms(part.replace(".", " ")))
    if defines and symbol:
        found.add(defined_hash(symbol.rsplit(".", 1)[-1]))
    return np.fromiter(found, dtype="<u4", count=len(found)).tobytes()
