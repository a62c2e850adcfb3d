"""The stored chunks a snapshot is built from, read from SQLite a column each (`ChunkColumns`),
and the tile masks of their body terms.

A load reads every indexed chunk's row once (`CHUNK_COLUMNS`, through `read_connection`): the
numbers become arrays, the packed columns (`lexicon`: terms, pairs, names, literal pairs) a
buffer each that `lexical.build_snapshot` turns into postings tables as it takes them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Ints
from ocp_server.index.database_file import current_path

__all__ = [
    "CHUNK_COLUMNS",
    "ChunkColumns",
    "DEFINITION_KINDS",
    "READ_MMAP_BYTES",
    "chunk_tile_masks",
    "read_connection",
]


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
    """`chunk_tile_masks`, and whether every chunk with terms had its tiles."""
    masks, tiled = chunk_tile_masks(blobs, per_chunk)
    return masks, bool(_all(tiled))


def chunk_tile_masks(
    blobs: list[bytes | None], per_chunk: Ints
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Per term record of every chunk, its tile mask as a u64, from the chunks' `tiles`
    blobs (each record's mask in the chunk's width of 1 to 8 bytes); 0 for a chunk stored
    without them, or with a blob that does not fit its records; and per chunk, whether it has
    its tiles (or no terms).

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
    return out.view("<u8").ravel(), fits | (per_chunk == 0)


#: The load reads every chunk's row, through the file mapped into memory: in the 1 KiB pages of
#: a database made since `db.PAGE_SIZE` (most rows spill into overflow pages) a read() per
#: page made the load 6-9% slower in CPU than in 4 KiB pages, and mapped it costs the same.
#: The connection is closed once read, and SQLite maps no more than the file holds. The
#: searches' read-only connection maps it too (workspace_state.py).
READ_MMAP_BYTES = 1 << 30


#: The columns `ChunkColumns` reads, in its order.
CHUNK_COLUMNS = (
    "id, file_id, end_line, kind, terms, pairs, names, length, start_line, tiles, literals"
)


def read_connection(db_path: Path) -> sqlite3.Connection:
    """A read-only connection for loading a snapshot (of the database where it is now:
    database_file.py)."""
    uri = f"{current_path(db_path).resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    conn.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
    return conn
