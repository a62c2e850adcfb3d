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
from ocp_server.index.lexicon import TERM_RECORD, TILE_LINES, term_hash, terms
from ocp_server.index.postings import Postings

__all__ = ["AnswerRows", "ChunkRow", "FileClass", "Snapshot", "load_snapshot"]

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
    #: per posting of chunk_body (its records' order): the chunk's tiles holding the term, bit
    #: i for the chunk's first tile + i (`lexicon.body_blob`; 0 for a chunk stored without)
    chunk_tiles: npt.NDArray[np.uint64]
    chunk_first_tile: Ints  # the file tile each chunk's first line is in
    #: every chunk with terms has its tiles: until then (a database being filled in after
    #: m015) proximity counts for no file, so that files read again do not outrank the rest
    tiles_complete: bool
    chunk_names: Postings  # name terms and defined identifiers, per chunk
    chunk_pairs: Postings  # adjacent term pairs, per chunk
    #: the word pairs each chunk's string literals may hold (`literal_pairs`), and whether
    #: they are known (a chunk an older server stored has none: any pair may be there)
    chunk_literals: Postings
    literals_known: npt.NDArray[np.bool_]
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
    #: ranking's ("length_norm", table, b), ("history_changes",), ("tile_bytes",) and
    #: ("changelogs",).
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


#: Chunk rows read at a time (`ChunkColumns`).
_BATCH_ROWS = 4096
_PACKED = ("terms", "pairs", "names")
_NUMBERS = {
    "ids": np.int64,
    "file": np.int32,  # the file's place in the snapshot's files
    "end_line": np.float32,
    "defines": np.bool_,
    "length": np.float32,
    "start_line": np.int64,
}


class ChunkColumns:
    """The chunks a snapshot is built from (`load_snapshot`'s query: of indexed files, by file
    then line), a column each: the numbers as arrays, and each packed column (terms, pairs,
    names) as one buffer with its rows' sizes. The rows are read a batch at a time: held all
    at once they were a fifth of a load's peak memory (tuples and bytes objects around the
    bytes the buffers hold), and `build_snapshot` takes each buffer as it uses it (`take`),
    so none outlives its table."""

    def __init__(self, cursor: sqlite3.Cursor, index_of: dict[int, int]) -> None:
        numbers: dict[str, list[np.ndarray]] = {name: [] for name in _NUMBERS}
        self._packed: dict[str, list[bytes]] = {name: [] for name in _PACKED}  # per batch
        self._sizes: dict[str, list[int]] = {name: [] for name in _PACKED}
        self._tiles: list[bytes | None] = []
        self._literals: list[bytes | None] = []
        while batch := cursor.fetchmany(_BATCH_ROWS):
            rows = [r for r in batch if r[1] in index_of]
            if not rows:
                continue
            cid, fid, end, kind, *packed, length, start, tiles, literals = zip(*rows, strict=True)
            k = len(rows)
            numbers["ids"].append(np.fromiter(cid, dtype=np.int64, count=k))
            numbers["file"].append(np.fromiter(map(index_of.__getitem__, fid), np.int32, k))
            numbers["end_line"].append(np.fromiter(end, dtype=np.float32, count=k))
            defines = (c in DEFINITION_KINDS for c in kind)
            numbers["defines"].append(np.fromiter(defines, dtype=bool, count=k))
            numbers["length"].append(np.fromiter(length, dtype=np.float32, count=k))
            numbers["start_line"].append(np.fromiter(start, dtype=np.int64, count=k))
            for name, blobs in zip(_PACKED, packed, strict=True):
                self._packed[name].append(b"".join(blobs))
                self._sizes[name].extend(map(len, blobs))
            self._tiles.extend(tiles)
            self._literals.extend(literals)
        joined = {
            name: np.concatenate(parts) if parts else np.zeros(0, dtype=_NUMBERS[name])
            for name, parts in numbers.items()
        }
        self.ids: Ints = joined["ids"]
        self.file: npt.NDArray[np.int32] = joined["file"]
        self.end_line: npt.NDArray[np.float32] = joined["end_line"]
        self.defines: npt.NDArray[np.bool_] = joined["defines"]
        self.length: npt.NDArray[np.float32] = joined["length"]
        self.start_line: Ints = joined["start_line"]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, name: str, dtype: np.dtype | str) -> tuple[np.ndarray, Ints]:
        """A packed column as records of `dtype` (`_blobs`), and how many each row has; this
        object lets the buffer go (the records hold it while they are used)."""
        sizes = np.asarray(self._sizes.pop(name), dtype=np.int64)
        data = b"".join(self._packed.pop(name))
        return np.frombuffer(data, dtype=dtype), sizes // np.dtype(dtype).itemsize

    def take_tiles(self) -> list[bytes | None]:
        """Each row's tiles blob (or None), let go here as `take` does."""
        tiles, self._tiles = self._tiles, []
        return tiles

    def take_literals(self) -> tuple[npt.NDArray[np.uint32], Ints, npt.NDArray[np.bool_]]:
        """The literal pairs column (`literal_pairs`): its keys, how many each row has, and
        whether the row has them (NULL: stored by an older server); let go as `take` does."""
        blobs, self._literals = self._literals, []
        known = np.fromiter((b is not None for b in blobs), dtype=bool, count=len(blobs))
        keys = np.frombuffer(b"".join(b for b in blobs if b), dtype="<u4")
        sizes = np.fromiter((len(b or b"") // 4 for b in blobs), dtype=np.int64, count=len(blobs))
        return keys, sizes, known


_all = np.logical_and.reduce


def _tile_masks(blobs: list[bytes | None], per_chunk: Ints) -> tuple[npt.NDArray[np.uint64], bool]:
    """Per term record of every chunk, its tile mask as a u64, from the chunks' `tiles`
    blobs (each record's mask in the chunk's width of 1 to 8 bytes); 0 for a chunk stored
    without them, or with a blob that does not fit its records; and whether every chunk with
    terms had its tiles.

    The chunks of one width at a time: their blobs are one (records, width) matrix, copied
    into their records' rows (work per record, not per byte)."""
    lengths = np.fromiter((len(b or b"") for b in blobs), dtype=np.int64, count=len(blobs))
    width = lengths // np.maximum(per_chunk, 1)
    fits = (per_chunk > 0) & (width >= 1) & (width <= 8) & (width * per_chunk == lengths)
    width = np.where(fits, width, 0)
    first_record = np.cumsum(per_chunk) - per_chunk
    out = np.zeros((int(per_chunk.sum()), 8), dtype=np.uint8)
    for w in range(1, 9):
        chunks = (width == w).nonzero()[0]
        if not len(chunks):
            continue
        sizes = per_chunk[chunks]
        total = int(sizes.sum())
        rows = np.arange(total) + np.repeat(
            first_record[chunks] - (np.cumsum(sizes) - sizes), sizes
        )
        held = b"".join([blobs[c] or b"" for c in chunks.tolist()])
        out[rows, :w] = np.frombuffer(held, np.uint8).reshape(total, w)
    return out.view("<u8").ravel(), bool(_all(fits | (per_chunk == 0)))


def _path_terms(path: str) -> list[str]:
    return terms(path.replace("/", " ").replace(".", " ").replace("-", " "))


#: The load reads every chunk's row, through the file mapped into memory: in the 1 KiB pages of
#: a database made since `db.PAGE_SIZE` (most rows spill into overflow pages) a read() per
#: page made the load 6-9% slower in CPU than in 4 KiB pages, and mapped it costs the same.
#: The connection is closed once read, and SQLite maps no more than the file holds.
_LOAD_MMAP_BYTES = 1 << 30


def load_snapshot(db_path: Path) -> Snapshot:
    """Read the packed terms of every chunk into a Snapshot (blocking; run it in a thread)."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute(f"PRAGMA mmap_size = {_LOAD_MMAP_BYTES}")
        conn.execute("BEGIN")
        rows = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchall()
        generation = rows[0][0] if rows else ""
        files = conn.execute(
            "SELECT id, path, language FROM files WHERE skip_reason IS NULL ORDER BY id"
        ).fetchall()
        chunks = ChunkColumns(
            conn.execute(
                "SELECT id, file_id, end_line, kind, terms, pairs, names, length, start_line,"
                " tiles, literals FROM chunks WHERE terms IS NOT NULL ORDER BY file_id, start_line"
            ),
            {row[0]: i for i, row in enumerate(files)},
        )
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
    chunks: ChunkColumns,  # of these files (their packed columns are taken)
    commits: Sequence[tuple[str, int, bytes, int]] = (),
    changed: Sequence[tuple[str, str]] = (),
) -> Snapshot:
    n_files = len(files)
    chunk_ids = chunks.ids
    chunk_file = chunks.file
    chunk_len = chunks.length
    chunk_defines = chunks.defines
    n = np.arange(len(chunks), dtype=np.int32)

    records, per_chunk = chunks.take("terms", TERM_RECORD)
    masks, tiles_complete = _tile_masks(chunks.take_tiles(), per_chunk)
    chunk_body, chunk_tiles = Postings.build_with_masks(
        records["term"], np.repeat(n, per_chunk), records["count"].astype(np.float32), masks
    )
    # Each table's inputs are dropped once it is built: a snapshot's peak memory is the
    # largest table's build on top of everything still held (`Postings._merged`).
    del records, masks
    file_body = chunk_body.rolled_up(chunk_file)
    # Blocks: runs of about BLOCK_LINES lines, so that evidence spread over neighbouring small
    # definitions counts together. A second tiling half a block apart did not rank better on
    # unseen repositories (scripts/train_ranker.py).
    starts = chunks.start_line
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

    pair_keys, per_chunk = chunks.take("pairs", "<u4")
    chunk_pairs = Postings.build(pair_keys, np.repeat(n, per_chunk))
    del pair_keys
    file_pairs = chunk_pairs.rolled_up(chunk_file)

    name_keys, per_chunk = chunks.take("names", "<u4")
    chunk_names = Postings.build(name_keys, np.repeat(n, per_chunk))
    file_names = chunk_names.rolled_up(chunk_file)
    del name_keys

    literal_keys, per_chunk, literals_known = chunks.take_literals()
    chunk_literals = Postings.build(literal_keys, np.repeat(n, per_chunk))
    del literal_keys

    file_len = np.bincount(chunk_file, weights=chunk_len, minlength=n_files).astype(np.float32)
    file_lines = np.zeros(n_files, dtype=np.float32)
    if len(chunks):
        np.maximum.at(file_lines, chunk_file, chunks.end_line)
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
        chunk_tiles=chunk_tiles,
        tiles_complete=tiles_complete,
        chunk_first_tile=(starts - 1) // TILE_LINES,  # tiles count from line 1
        chunk_names=chunk_names,
        chunk_pairs=chunk_pairs,
        chunk_literals=chunk_literals,
        literals_known=literals_known,
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
