"""The in-memory side of the index: postings arrays built from what the indexer stored.

SQLite holds every chunk with its packed terms (see `lexicon`). Searching through SQL would cost
a scan per query term; instead a `Snapshot` reads the packed terms once, into sorted numpy
arrays, and answers a query with a few vectorised look-ups. It is rebuilt when the database's
`generation` (bumped by every index write, from any process) moves on.

Per chunk: body terms with counts, name terms and defined identifiers. Per file: the same body
terms summed over its chunks, the distinct term pairs, its name terms, its path's terms, and
what kind of file it is (code, test, docs, config).
"""

from __future__ import annotations

import ctypes
import posixpath
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.languages import detect_language
from ocp_server.index.lexicon import TERM_RECORD, term_hash, terms

__all__ = ["AnswerRows", "ChunkRow", "FileClass", "Postings", "Snapshot", "load_snapshot"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DEFINITION_KINDS = frozenset(
    {
        "function",
        "method",
        "class",
        "struct",
        "interface",
        "enum",
        "trait",
        "impl",
        "module",
        "type",
        "constant",
        "macro",
    }
)

_PROSE = frozenset({"markdown", "text", "rst"})
_CONFIG = frozenset({"json", "yaml", "toml", "ini", "xml", "csv", "html", "css", "diff"})
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|specs?|testing|testdata)/|(?:^|/)test_[^/]*$|"
    r"_test\.\w+$|_spec\.\w+$|\.(?:test|spec)\.\w+$|(?:^|/)conftest\.py$"
)
_AUX_PATH = re.compile(
    r"(?:^|/)(?:docs?|examples?|samples?|demos?|bench(?:es|marks?)?|scripts?|tools|contrib)/"
)


class FileClass:
    """What a file is, for ranking: code questions want code first."""

    CODE = 0  # source
    TEST = 1  # tests of the source
    AUX = 2  # code beside the product: docs/, examples/, benchmarks/, scripts/
    PROSE = 3  # markdown, reStructuredText, plain text, unknown kinds
    CONFIG = 4  # json, yaml, toml, ini, xml, html, css, csv


def classify_path(path: str, language: str | None) -> int:
    lang = language if language is not None else detect_language(path)
    if lang is None or lang in _PROSE:
        return FileClass.PROSE
    if lang in _CONFIG:
        return FileClass.CONFIG
    lower = path.lower()
    if _TEST_PATH.search(lower):
        return FileClass.TEST
    if _AUX_PATH.search(lower):
        return FileClass.AUX
    return FileClass.CODE


def file_stem(path: str) -> str:
    """`src/click/termui.py` -> "termui"; `test/res.send.js` -> "res"."""
    return posixpath.basename(path).split(".", 1)[0].lower()


# A posting packs into one 64-bit integer, (key << 32) | (doc << 10) | count, so that building
# the postings is one `np.sort` of integers (SIMD-sorted, several times faster than an argsort).
_DOC_BITS = 22
_COUNT_BITS = 10
MAX_DOCS = 1 << _DOC_BITS
_COUNT_MAX = (1 << _COUNT_BITS) - 1


def records_docs(records: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    """The documents of `Postings.records` (or of a copy of some of them)."""
    return records.view(np.int32)[0::2]


def records_counts(records: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """The counts of `Postings.records` (or of a copy of some of them)."""
    return records.view(np.float32)[1::2]


@dataclass(frozen=True, slots=True)
class Postings:
    """Documents per key: `docs[starts[i]:starts[i+1]]` hold `keys[i]`, `counts` times each;
    within a key, docs ascend.

    A posting's document (int32) and count (float32) are stored side by side, 8 bytes a
    posting (`records`, read as two int32 or float32 words each): a search copies a term's
    postings with one slice, and all its terms' with one concatenation."""

    keys: npt.NDArray[np.uint32]
    starts: Ints
    records: npt.NDArray[np.int64]  # only ever copied: `docs` and `counts` read it

    @classmethod
    def of(
        cls,
        keys: npt.NDArray[np.uint32],
        starts: Ints,
        docs: npt.NDArray[np.int32],
        counts: npt.NDArray[np.float32],
    ) -> Postings:
        records = np.empty(len(docs), dtype=np.int64)
        words = records.view(np.int32)
        words[0::2] = docs
        words.view(np.float32)[1::2] = counts
        return cls(keys, starts, records)

    @property
    def docs(self) -> npt.NDArray[np.int32]:
        return records_docs(self.records)

    @property
    def counts(self) -> npt.NDArray[np.float32]:
        return records_counts(self.records)

    @classmethod
    def build(
        cls,
        keys: npt.NDArray[np.uint32],
        docs: npt.NDArray[np.int32],
        counts: npt.NDArray[np.float32] | None = None,
    ) -> Postings:
        """From (key, doc, count) records in any order; a repeated (key, doc) is summed."""
        if len(docs) and int(docs.max()) >= MAX_DOCS:
            raise ValueError(f"more than {MAX_DOCS} documents in one index")
        packed = (keys.astype(np.uint64) << np.uint64(32)) | (
            docs.astype(np.uint64) << np.uint64(_COUNT_BITS)
        )
        if counts is None:
            packed |= np.uint64(1)
        else:
            packed |= np.minimum(counts, _COUNT_MAX).astype(np.uint64)
        packed.sort()
        key = (packed >> np.uint64(32)).astype(np.uint32)
        doc = ((packed >> np.uint64(_COUNT_BITS)) & np.uint64(MAX_DOCS - 1)).astype(np.int32)
        count = (packed & np.uint64(_COUNT_MAX)).astype(np.float32)
        return cls._merged(key, doc, count)

    @classmethod
    def _merged(
        cls,
        key: npt.NDArray[np.uint32],
        doc: npt.NDArray[np.int32],
        count: npt.NDArray[np.float32],
    ) -> Postings:
        """From records sorted by key, then doc: sum repeated (key, doc), index the keys."""
        if not len(key):
            return cls.of(key, np.zeros(1, dtype=np.int64), doc, count)
        first = np.empty(len(key), dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        new_key = first.copy()
        first[1:] |= doc[1:] != doc[:-1]
        at = np.flatnonzero(first)
        if len(at) < len(key):
            count = np.add.reduceat(count, at)
            key, doc, new_key = key[at], doc[at], new_key[at]
        heads = np.flatnonzero(new_key)
        return cls.of(key[heads], np.append(heads, len(key)).astype(np.int64), doc, count)

    def rolled_up(self, owner: npt.NDArray[np.int32]) -> Postings:
        """The same postings one level up (chunks to files): `owner[doc]` must not decrease
        as doc grows, so sorted order survives. Every key keeps a document, so the result
        shares this table's `keys` (a query looks its terms up once for both)."""
        key = np.repeat(self.keys, np.diff(self.starts))
        merged = Postings._merged(key, owner[self.docs], self.counts)
        return Postings(self.keys, merged.starts, merged.records)

    def locate(self, keys: list[int]) -> list[int]:
        """Per key: its index in `keys`, -1 when no document holds it."""
        n = len(self.keys)
        if not n or not keys:
            return [-1] * len(keys)
        wanted = np.asarray(keys, dtype=np.uint32)
        at = self.keys.searchsorted(wanted)
        # past the end: compared with the last key, which is smaller
        found: list[int] = np.where(self.keys.take(at, mode="clip") == wanted, at, -1).tolist()
        return found


#: Blocks (see `Block`) span about this many lines.
BLOCK_LINES = 50


@dataclass(frozen=True, slots=True)
class Block:
    """One tiling of the files into blocks of about BLOCK_LINES lines (whole chunks)."""

    body: Postings
    length: npt.NDArray[np.float32]  # in terms, over the mean (what BM25 normalises by)
    file: npt.NDArray[np.int32]  # the file of each block; blocks are stored file by file
    file_blocks: Ints  # blocks of file i: file_blocks[i]:file_blocks[i + 1]

    @classmethod
    def tiling(
        cls,
        body: Postings,
        length: npt.NDArray[np.float32],
        file: npt.NDArray[np.int32],
        n_files: int,
    ) -> Block:
        starts = np.searchsorted(file, np.arange(n_files + 1)).astype(np.int64)
        return cls(body, length, file, starts)


@dataclass(frozen=True, slots=True)
class History:
    """Recent commits (newest first): their message terms and the indexed files they changed."""

    body: Postings
    length: npt.NDArray[np.float32]  # in terms, over the mean
    time: Ints
    file_starts: Ints  # commit i changed files[file_starts[i]:file_starts[i + 1]]
    files: npt.NDArray[np.int32]

    @property
    def n_commits(self) -> int:
        return len(self.time)


def build_history(
    commits: Sequence[tuple[str, int, bytes, int]],
    changed: Sequence[tuple[str, str]],
    file_index: dict[str, int],
) -> History:
    """From (hash, time, terms, length) newest first and (hash, path) rows."""
    at = {c[0]: i for i, c in enumerate(commits)}
    pairs = sorted((at[h], file_index[p]) for h, p in changed if h in at and p in file_index)
    owner = np.fromiter((c for c, _ in pairs), dtype=np.int64, count=len(pairs))
    records, per_commit = _blobs([c[2] for c in commits], TERM_RECORD)
    n = np.arange(len(commits), dtype=np.int32)
    return History(
        body=Postings.build(
            records["term"], np.repeat(n, per_commit), records["count"].astype(np.float32)
        ),
        length=_relative(
            np.fromiter((c[3] for c in commits), dtype=np.float32, count=len(commits))
        ),
        time=np.fromiter((c[1] for c in commits), dtype=np.int64, count=len(commits)),
        file_starts=np.searchsorted(owner, np.arange(len(commits) + 1)).astype(np.int64),
        files=np.fromiter((f for _, f in pairs), dtype=np.int32, count=len(pairs)),
    )


class ChunkRow(NamedTuple):
    """A chunk's row as a search's answer reads it back, its text unpacked."""

    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    scope: str | None
    text: str
    tokens: int | None  # its count at index time (None: from before counts were stored)
    clean: int  # 1: redaction finds nothing in it under this process's rules


class AnswerRows:
    """The rows of the chunks a snapshot's searches answered with, by chunk id, kept for its
    next searches: the same chunks come back for many queries (on the benchmark's corpora,
    half to four fifths of the hits of a list of distinct queries had come back before), and
    reading one again costs a database read and an unpacking of its text.

    Within a generation a chunk's text, lines and names do not change (every index write of
    chunks moves the generation on; a raw SQL change that does not is not seen), and the rows
    die with their snapshot. Its redaction flag may be filled in later without a new
    generation, so only a row whose flag was known under this process's rules is kept (by
    the caller): a kept 1 stays true, a kept 0 only costs a redaction. At most `max_rows`
    rows and `max_chars` characters of text; the oldest go first."""

    __slots__ = ("_chars", "_rows", "max_chars", "max_rows")

    def __init__(self, max_chars: int, max_rows: int) -> None:
        self.max_chars = max_chars
        self.max_rows = max_rows
        self._rows: dict[int, ChunkRow] = {}
        self._chars = 0

    def get(self, chunk_id: int) -> ChunkRow | None:
        return self._rows.get(chunk_id)

    def put(self, chunk_id: int, row: ChunkRow) -> None:
        if chunk_id in self._rows or len(row.text) > self.max_chars or self.max_rows < 1:
            return
        self._rows[chunk_id] = row
        self._chars += len(row.text)
        while self._chars > self.max_chars or len(self._rows) > self.max_rows:
            oldest = next(iter(self._rows))
            self._chars -= len(self._rows.pop(oldest).text)

    def __len__(self) -> int:
        return len(self._rows)


#: Kept per snapshot for its answers: about 4 MB of text, and a bound on the rows too, so many
#: small chunks cannot add up past it in row objects (two to three thousand chunks of the
#: benchmark's corpora fill the text first).
ANSWER_ROWS_CHARS = 4_000_000
ANSWER_ROWS_MAX = 5_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    generation: str
    # chunks, ordered by file then line
    chunk_ids: Ints
    chunk_file: npt.NDArray[np.int32]
    chunk_len: npt.NDArray[np.float32]  # in terms, over the mean
    chunk_defines: npt.NDArray[np.bool_]
    chunk_body: Postings
    chunk_names: Postings  # name terms and defined identifiers, per chunk
    chunk_pairs: Postings  # adjacent term pairs, per chunk
    blocks: Block
    # files
    paths: tuple[str, ...]
    languages: tuple[str | None, ...]
    file_class: npt.NDArray[np.int8]
    file_len: npt.NDArray[np.float32]  # in terms, over the mean
    file_lines: npt.NDArray[np.float32]
    file_defs: npt.NDArray[np.float32]
    file_chunks: Ints  # chunks of file i: file_chunks[i]:file_chunks[i + 1]
    file_body: Postings
    file_pairs: Postings  # (counts: how many of the file's chunks hold the pair)
    file_names: Postings
    file_path: Postings
    stems: dict[str, Ints]  # file stem -> files
    history: History
    #: Per-document values a search derives from the arrays above, kept for the next search
    #: of this snapshot and never handed on to another, each under a key that names it:
    #: ranking's ("length_norm", table, b) and ("history_changes",).
    derived: dict[tuple[str | float, ...], np.ndarray] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    #: The rows its searches answered with, for its next searches (search.py).
    answers: AnswerRows = field(
        default_factory=lambda: AnswerRows(ANSWER_ROWS_CHARS, ANSWER_ROWS_MAX),
        init=False,
        compare=False,
        repr=False,
    )

    def __post_init__(self) -> None:
        # a search looks a query's keys up in the chunk tables and reads the tables rolled up
        # from them (`Postings.rolled_up`) at the same places
        for rolled, own in (
            (self.file_body, self.chunk_body),
            (self.blocks.body, self.chunk_body),
            (self.file_pairs, self.chunk_pairs),
            (self.file_names, self.chunk_names),
        ):
            if rolled.keys is not own.keys:
                raise ValueError("a rolled-up postings table must share its chunk table's keys")

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_ids)

    @property
    def n_files(self) -> int:
        return len(self.paths)


def _relative(
    lengths: npt.NDArray[np.floating] | npt.NDArray[np.integer],
) -> npt.NDArray[np.float32]:
    """Lengths over their mean, as BM25 normalises them."""
    mean = float(lengths.mean()) if len(lengths) else 1.0
    return (lengths / max(mean, 1e-9)).astype(np.float32)


def _blobs(blobs: list[bytes], dtype: np.dtype | str) -> tuple[np.ndarray, Ints]:
    """Concatenate per-row packed arrays; also return how many records each row had."""
    itemsize = np.dtype(dtype).itemsize
    lengths = np.fromiter((len(b) // itemsize for b in blobs), dtype=np.int64, count=len(blobs))
    return np.frombuffer(b"".join(blobs), dtype=dtype), lengths


def _path_terms(path: str) -> list[str]:
    return terms(path.replace("/", " ").replace(".", " ").replace("-", " "))


def load_snapshot(db_path: Path) -> Snapshot:
    """Read the packed terms of every chunk into a Snapshot (blocking; run it in a thread)."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("BEGIN")
        rows = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchall()
        generation = rows[0][0] if rows else ""
        files = conn.execute(
            "SELECT id, path, language FROM files WHERE skip_reason IS NULL ORDER BY id"
        ).fetchall()
        chunks = conn.execute(
            "SELECT id, file_id, end_line, kind, terms, pairs, names, length, start_line "
            "FROM chunks "
            "WHERE terms IS NOT NULL ORDER BY file_id, start_line"
        ).fetchall()
        commits = conn.execute(
            "SELECT hash, time, terms, length FROM commits ORDER BY time DESC, hash"
        ).fetchall()
        changed = conn.execute("SELECT hash, path FROM commit_files").fetchall()
        conn.execute("COMMIT")
    finally:
        conn.close()
    snapshot = build_snapshot(generation, files, chunks, commits, changed)
    del files, chunks, commits, changed
    _return_freed_memory()
    return snapshot


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


def _return_freed_memory() -> None:
    """Hand freed heap pages back to the system. Reading the postings allocates many
    short-lived rows, and glibc keeps the pages they used: on a 1.4M-line repository the
    server stayed 130 MB larger than its arrays without this."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def build_snapshot(
    generation: str,
    files: list[tuple[int, str, str | None]],
    chunks: list[tuple[int, int, int, str, bytes, bytes, bytes, int, int]],
    commits: Sequence[tuple[str, int, bytes, int]] = (),
    changed: Sequence[tuple[str, str]] = (),
) -> Snapshot:
    index_of = {row[0]: i for i, row in enumerate(files)}
    chunks = [c for c in chunks if c[1] in index_of]
    n_files = len(files)
    chunk_ids = np.fromiter((c[0] for c in chunks), dtype=np.int64, count=len(chunks))
    chunk_file = np.fromiter((index_of[c[1]] for c in chunks), dtype=np.int32, count=len(chunks))
    chunk_len = np.fromiter((c[7] for c in chunks), dtype=np.float32, count=len(chunks))
    chunk_defines = np.fromiter(
        (c[3] in DEFINITION_KINDS for c in chunks), dtype=bool, count=len(chunks)
    )
    n = np.arange(len(chunks), dtype=np.int32)

    records, per_chunk = _blobs([c[4] for c in chunks], TERM_RECORD)
    chunk_body = Postings.build(
        records["term"], np.repeat(n, per_chunk), records["count"].astype(np.float32)
    )
    file_body = chunk_body.rolled_up(chunk_file)
    # Blocks: runs of about BLOCK_LINES lines, so that evidence spread over neighbouring small
    # definitions counts together. A second tiling half a block apart did not rank better on
    # unseen repositories (scripts/train_ranker.py).
    starts = np.fromiter((c[8] for c in chunks), dtype=np.int64, count=len(chunks))
    key = chunk_file.astype(np.int64) * (1 << 24) + starts // BLOCK_LINES
    head = np.ones(len(key), dtype=bool)
    head[1:] = key[1:] != key[:-1]
    block_of = (np.cumsum(head) - 1).astype(np.int32)
    n_blocks = int(block_of[-1]) + 1 if len(block_of) else 0
    blocks = Block.tiling(
        chunk_body.rolled_up(block_of),
        _relative(np.bincount(block_of, weights=chunk_len, minlength=n_blocks)),
        chunk_file[head],
        n_files,
    )

    pair_keys, per_chunk = _blobs([c[5] for c in chunks], "<u4")
    chunk_pairs = Postings.build(pair_keys, np.repeat(n, per_chunk))
    file_pairs = chunk_pairs.rolled_up(chunk_file)

    name_keys, per_chunk = _blobs([c[6] for c in chunks], "<u4")
    chunk_names = Postings.build(name_keys, np.repeat(n, per_chunk))
    file_names = chunk_names.rolled_up(chunk_file)

    file_len = np.bincount(chunk_file, weights=chunk_len, minlength=n_files).astype(np.float32)
    file_lines = np.zeros(n_files, dtype=np.float32)
    if len(chunks):
        np.maximum.at(
            file_lines,
            chunk_file,
            np.fromiter((c[2] for c in chunks), dtype=np.float32, count=len(chunks)),
        )
    file_defs = np.bincount(chunk_file, weights=chunk_defines, minlength=n_files).astype(np.float32)

    paths = tuple(row[1] for row in files)
    languages = tuple(row[2] for row in files)
    file_class = np.fromiter(
        (classify_path(p, lang) for p, lang in zip(paths, languages, strict=True)),
        dtype=np.int8,
        count=n_files,
    )
    path_keys: list[int] = []
    path_docs: list[int] = []
    for i, p in enumerate(paths):
        for t in _path_terms(p):
            path_keys.append(term_hash(t))
            path_docs.append(i)
    file_path = Postings.build(
        np.asarray(path_keys, dtype=np.uint32), np.asarray(path_docs, dtype=np.int32)
    )
    stem_lists: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        stem_lists.setdefault(file_stem(p), []).append(i)
    stems = {s: np.asarray(v, dtype=np.int64) for s, v in stem_lists.items()}
    history = build_history(commits, changed, {p: i for i, p in enumerate(paths)})
    return Snapshot(
        generation=generation,
        chunk_ids=chunk_ids,
        chunk_file=chunk_file,
        chunk_len=_relative(chunk_len),
        chunk_defines=chunk_defines,
        chunk_body=chunk_body,
        chunk_names=chunk_names,
        chunk_pairs=chunk_pairs,
        blocks=blocks,
        paths=paths,
        languages=languages,
        file_class=file_class,
        file_len=_relative(file_len),
        file_lines=file_lines,
        file_defs=file_defs,
        file_chunks=np.searchsorted(chunk_file, np.arange(n_files + 1)).astype(np.int64),
        file_body=file_body,
        file_pairs=file_pairs,
        file_names=file_names,
        file_path=file_path,
        stems=stems,
        history=history,
    )
