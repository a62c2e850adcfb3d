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

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ocp_server.index import change_log
from ocp_server.index.answer_rows import ANSWER_ROWS_CHARS, ANSWER_ROWS_MAX, AnswerRows, ChunkRow
from ocp_server.index.arrays import Ints
from ocp_server.index.chunk_columns import (
    CHUNK_COLUMNS,
    ChunkColumns,
    chunk_tile_masks,
    read_connection,
)
from ocp_server.index.commit_postings import History, build_history, relative
from ocp_server.index.file_kinds import file_classes, file_stem
from ocp_server.index.filter_masks import FilterMasks
from ocp_server.index.heap import return_freed_memory
from ocp_server.index.lexicon import TERM_RECORD, TILE_LINES, term_hash, terms
from ocp_server.index.members import FileOutlines
from ocp_server.index.postings import Postings

__all__ = [
    "ANSWER_ROWS_CHARS",
    "ANSWER_ROWS_MAX",
    "AnswerRows",
    "ChunkRow",
    "Snapshot",
    "load_snapshot",
]


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
    # what an update of a few files (`snapshot_delta`) builds the arrays above again from
    file_ids: Ints  # each file's id in the database, ascending
    chunk_start: Ints  # first line
    chunk_end: npt.NDArray[np.float32]  # last line
    chunk_length: npt.NDArray[np.float32]  # in terms
    chunk_tiled: npt.NDArray[np.bool_]  # its tiles fit its terms (or it has no terms)
    #: Per-document values a search derives from the arrays above, kept for the next search
    #: of this snapshot and never handed on to another, each under a key that names it:
    #: ranking's ("length_norm", table, b), ("history_changes",), ("tile_bytes",),
    #: ("changelogs",) and ("file_constants",).
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
    #: The outlines of the files its container hits were in, for their members (members.py).
    outlines: FileOutlines = field(
        default_factory=FileOutlines, init=False, compare=False, repr=False
    )
    #: The masks of the `path_glob` and `language` filters its searches used (search.py).
    filters: FilterMasks = field(default_factory=FilterMasks, init=False, compare=False, repr=False)

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


def _path_terms(path: str) -> list[str]:
    return terms(path.replace("/", " ").replace(".", " ").replace("-", " "))


def load_snapshot(db_path: Path) -> Snapshot:
    """Read the packed terms of every chunk into a Snapshot (blocking; run it in a thread)."""
    conn = read_connection(db_path)
    try:
        conn.execute("BEGIN")
        return read_snapshot(conn, change_log.current_generation(conn))
    finally:
        conn.close()


def read_snapshot(conn: sqlite3.Connection, generation: str) -> Snapshot:
    """`load_snapshot` on `conn`, in a read transaction: it closes `conn` once read."""
    files = conn.execute(
        "SELECT id, path, language FROM files WHERE skip_reason IS NULL ORDER BY id"
    ).fetchall()
    chunks = ChunkColumns(
        conn.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE terms IS NOT NULL"
            " ORDER BY file_id, start_line"
        ),
        {row[0]: i for i, row in enumerate(files)},
    )
    commits = conn.execute(
        "SELECT hash, time, terms, length FROM commits ORDER BY time DESC, hash"
    ).fetchall()
    changed = conn.execute("SELECT hash, path FROM commit_files").fetchall()
    conn.execute("COMMIT")
    conn.close()
    snapshot = build_snapshot(generation, files, chunks, commits, changed)
    del files, chunks, commits, changed
    return_freed_memory()
    return snapshot


def body_table(
    chunks: ChunkColumns, docs: npt.NDArray[np.int32]
) -> tuple[Postings, npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """The chunks' body terms (`chunks` numbered `docs`, ascending), each posting's tiles,
    and per chunk whether it has its tiles (`chunk_tile_masks`)."""
    records, per_chunk = chunks.take("terms", TERM_RECORD)
    masks, tiled = chunk_tile_masks(chunks.take_tiles(), per_chunk)
    body, tiles = Postings.build_with_masks(
        records["term"], np.repeat(docs, per_chunk), records["count"].astype(np.float32), masks
    )
    return body, tiles, tiled


def keys_table(chunks: ChunkColumns, name: str, docs: npt.NDArray[np.int32]) -> Postings:
    """The chunks' `pairs` or `names` (numbered `docs`)."""
    keys, per_chunk = chunks.take(name, "<u4")
    return Postings.build(keys, np.repeat(docs, per_chunk))


def literals_table(
    chunks: ChunkColumns, docs: npt.NDArray[np.int32]
) -> tuple[Postings, npt.NDArray[np.bool_]]:
    """The chunks' literal pairs (numbered `docs`), and whether each chunk has them."""
    keys, per_chunk, known = chunks.take_literals()
    return Postings.build(keys, np.repeat(docs, per_chunk)), known


def block_of(chunk_file: npt.NDArray[np.int32], starts: Ints) -> npt.NDArray[np.int32]:
    """Each chunk's block (`Block`): runs of about BLOCK_LINES lines, so that evidence spread
    over neighbouring small definitions counts together. A second tiling half a block apart
    did not rank better on unseen repositories (scripts/train_ranker.py)."""
    key = chunk_file.astype(np.int64) * (1 << 24) + starts // BLOCK_LINES
    head = np.ones(len(key), dtype=bool)
    head[1:] = key[1:] != key[:-1]
    return (np.cumsum(head) - 1).astype(np.int32)


def path_table(paths: Sequence[str], files: Sequence[int]) -> Postings:
    """The terms of `paths` (the files numbered `files`); no term spans a `/`: each folder's
    and name's are found once a load (per file: 39% of a restart's load of 100,000 files)."""
    path_keys, path_docs, hashed = list[int](), list[int](), dict[str, list[int]]()
    for i, p in zip(files, paths, strict=True):
        for part in p.rpartition("/")[::2]:  # the folder, the name
            if (keys := hashed.get(part)) is None:
                keys = hashed[part] = [term_hash(t) for t in _path_terms(part)]
            path_keys.extend(keys)
            path_docs.extend(repeat(i, len(keys)))
    return Postings.build(
        np.asarray(path_keys, dtype=np.uint32), np.asarray(path_docs, dtype=np.int32)
    )


@dataclass(frozen=True, slots=True)
class ChunkValues:
    """Per chunk (ordered by file then line), what a snapshot is made of besides postings."""

    ids: Ints
    file: npt.NDArray[np.int32]
    length: npt.NDArray[np.float32]  # in terms
    defines: npt.NDArray[np.bool_]
    start: Ints
    end: npt.NDArray[np.float32]
    tiled: npt.NDArray[np.bool_]
    literals_known: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class FileValues:
    """Per file (ordered by id)."""

    ids: Ints
    paths: tuple[str, ...]
    languages: tuple[str | None, ...]
    file_class: npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class Tables:
    """A snapshot's postings tables."""

    chunk_body: Postings
    chunk_tiles: npt.NDArray[np.uint64]
    chunk_pairs: Postings
    chunk_names: Postings
    chunk_literals: Postings
    blocks: Postings
    file_body: Postings
    file_pairs: Postings
    file_names: Postings
    file_path: Postings


def build_snapshot(
    generation: str,
    files: list[tuple[int, str, str | None]],
    chunks: ChunkColumns,  # of these files (their packed columns are taken)
    commits: Sequence[tuple[str, int, bytes, int]] = (),
    changed: Sequence[tuple[str, str]] = (),
) -> Snapshot:
    chunk_file = chunks.file
    n = np.arange(len(chunks), dtype=np.int32)
    chunk_body, chunk_tiles, tiled = body_table(chunks, n)
    # Each table's inputs are dropped once it is built: a snapshot's peak memory is the
    # largest table's build on top of everything still held (`Postings._merged`).
    file_body = chunk_body.rolled_up(chunk_file)
    blocks = chunk_body.rolled_up(block_of(chunk_file, chunks.start_line))
    chunk_pairs = keys_table(chunks, "pairs", n)
    file_pairs = chunk_pairs.rolled_up(chunk_file)
    chunk_names = keys_table(chunks, "names", n)
    file_names = chunk_names.rolled_up(chunk_file)
    chunk_literals, literals_known = literals_table(chunks, n)
    paths = tuple(row[1] for row in files)
    languages = tuple(row[2] for row in files)
    file_ids = np.fromiter((row[0] for row in files), dtype=np.int64, count=len(files))
    values = ChunkValues(
        chunks.ids,
        chunk_file,
        chunks.length,
        chunks.defines,
        chunks.start_line,
        chunks.end_line,
        tiled,
        literals_known,
    )
    tables = Tables(
        chunk_body,
        chunk_tiles,
        chunk_pairs,
        chunk_names,
        chunk_literals,
        blocks,
        file_body,
        file_pairs,
        file_names,
        path_table(paths, range(len(paths))),
    )
    history = build_history(commits, changed, {p: i for i, p in enumerate(paths)})
    file_values = FileValues(file_ids, paths, languages, file_classes(paths, languages))
    return assemble(generation, values, file_values, tables, history)


def assemble(
    generation: str, chunks: ChunkValues, files: FileValues, tables: Tables, history: History
) -> Snapshot:
    """A snapshot from its postings and per-chunk and per-file values: the lengths relative to
    their means, blocks, files' extents (a full load and an update of a few files alike)."""
    n_files = len(files.paths)
    chunk_file = chunks.file
    blocks = block_of(chunk_file, chunks.start)
    n_blocks = int(blocks[-1]) + 1 if len(blocks) else 0
    head = np.ones(len(blocks), dtype=bool)
    head[1:] = blocks[1:] != blocks[:-1]
    file_len = np.bincount(chunk_file, weights=chunks.length, minlength=n_files)
    file_lines = np.zeros(n_files, dtype=np.float32)
    if len(chunk_file):
        np.maximum.at(file_lines, chunk_file, chunks.end)
    file_defs = np.bincount(chunk_file, weights=chunks.defines, minlength=n_files)
    stem_lists: dict[str, list[int]] = {}
    for i, p in enumerate(files.paths):
        stem_lists.setdefault(file_stem(p), []).append(i)
    return Snapshot(
        generation=generation,
        chunk_ids=chunks.ids,
        chunk_file=chunk_file,
        chunk_len=relative(chunks.length),
        chunk_defines=chunks.defines,
        chunk_body=tables.chunk_body,
        chunk_tiles=tables.chunk_tiles,
        tiles_complete=bool(np.logical_and.reduce(chunks.tiled)),
        chunk_first_tile=(chunks.start - 1) // TILE_LINES,  # tiles count from line 1
        chunk_names=tables.chunk_names,
        chunk_pairs=tables.chunk_pairs,
        chunk_literals=tables.chunk_literals,
        literals_known=chunks.literals_known,
        blocks=Block.tiling(
            tables.blocks,
            relative(np.bincount(blocks, weights=chunks.length, minlength=n_blocks)),
            chunk_file[head],
            n_files,
        ),
        paths=files.paths,
        languages=files.languages,
        file_class=files.file_class,
        file_len=relative(file_len.astype(np.float32)),
        file_lines=file_lines,
        file_defs=file_defs.astype(np.float32),
        file_chunks=np.searchsorted(chunk_file, np.arange(n_files + 1)).astype(np.int64),
        file_body=tables.file_body,
        file_pairs=tables.file_pairs,
        file_names=tables.file_names,
        file_path=tables.file_path,
        stems={s: np.asarray(v, dtype=np.int64) for s, v in stem_lists.items()},
        history=history,
        file_ids=files.ids,
        chunk_start=chunks.start,
        chunk_end=chunks.end,
        chunk_length=chunks.length,
        chunk_tiled=chunks.tiled,
    )
