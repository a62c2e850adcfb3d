"""An index write of a few files applied to the snapshot in memory, instead of reading every
chunk again: the snapshot a full load would build, in time that grows with the change.

Reading the postings of a large repository again costs a second (Django: 50,000 chunks, 6M
postings: a read of every row and a sort of every table). An update of a few files instead
reads only their rows, builds their postings, and merges them into the old tables: the kept
postings keep their order, renumbered (`Postings.patched`), so the sort is of the new postings
only. Every value computed over the whole index (lengths over their mean, blocks, files'
extents) is computed again from the per-chunk values, as a full load does (`lexical.assemble`):
the arrays come out the same, and so do the scores.

What changed is read from the database (`change_log`: every index write records it, in its own
transaction, with the generation it moved the database to), so any process sharing the
database applies it, not only the one that wrote it. A gap in the record (a write of an older
server, generations pruned) or a change of more than `MAX_SHARE` of the files reads everything
again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index import change_log, lexical
from ocp_server.index.arrays import Ints
from ocp_server.index.change_log import Change
from ocp_server.index.chunk_columns import CHUNK_COLUMNS, ChunkColumns, read_connection
from ocp_server.index.commit_postings import History, build_history
from ocp_server.index.file_kinds import file_classes
from ocp_server.index.heap import return_freed_memory
from ocp_server.index.lexical import (
    ChunkValues,
    FileValues,
    Snapshot,
    Tables,
    assemble,
    block_of,
    body_table,
    keys_table,
    literals_table,
    path_table,
)
from ocp_server.index.postings import Postings
from ocp_server.index.saved_snapshot import SnapshotKey, read_saved, snapshot_key

__all__ = ["Loaded", "MAX_SHARE", "load_snapshot_since"]


#: Past this share of the indexed files (a branch switched, a folder renamed), an update is
#: loaded whole. On Django (5,343 files; a full load 0.9-1.1 s) an update of 1, 10, 100, 250,
#: 500 and 1,000 files took 0.12, 0.12, 0.17-0.23, 0.41-0.49, 0.56-0.70 and 0.8-1.1 s: the
#: merge passes over every posting, and reading the changed rows grows with them.
MAX_SHARE = 0.1


class Loaded(NamedTuple):
    snapshot: Snapshot
    #: how it was made: "full" (read whole), "delta" (the snapshot held, brought up to date),
    #: "saved" (the saved one, as it is) or "saved+delta" (the saved one, brought up to date)
    how: str
    key: SnapshotKey  # the database's (its `lineage` to be handed back with `snapshot`)


def load_snapshot_since(
    db_path: Path, held: list[Snapshot], lineage: str, *, saved: int = 0
) -> Loaded:
    """The snapshot of the database as it is now, built from the snapshot `held` holds (of
    the database of lineage `lineage`) and the changes recorded since (`change_log`) when they
    are all there and few enough, else read whole. Holding none, and with `saved` (its
    largest size, in bytes), the snapshot saved beside the database (`saved_snapshot`) is
    taken as held when it is of this database. Blocking: run it in a thread.

    The old snapshot is taken out of `held` and let go table by table as the new ones are
    built: with no other reference to it (a search still running holds one), an update's
    peak holds one snapshot and a table, not two snapshots. Read whole, it is let go first."""
    conn = read_connection(db_path)
    try:
        conn.execute("BEGIN")
        generation = change_log.current_generation(conn)
        key = snapshot_key(conn)
        how = "delta"
        if saved and not held and (found := read_saved(db_path, key, saved)) is not None:
            if found.generation == generation:
                conn.execute("COMMIT")
                return Loaded(found, "saved", key)
            held, lineage, how = [found], key.lineage, "saved+delta"
        change = (
            change_log.changes_since(conn, held[0].generation, generation)
            if held and key.lineage == lineage
            else None
        )
        if change is None or len(change.files) > MAX_SHARE * held[0].n_files:
            held.clear()
            return Loaded(lexical.read_snapshot(conn, generation), "full", key)
        snapshot = _read_delta(conn, held, generation, change)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return_freed_memory()  # the old tables' pages, as a full load hands back its own
    return Loaded(snapshot, how, key)


@dataclass(frozen=True, slots=True)
class _Files:
    """The files after the change: which old ones are kept, where each goes."""

    values: FileValues
    old_to_new: npt.NDArray[np.int32]  # per old file: its new place, -1 when gone or changed
    added: Ints  # the new places of the files read again
    added_paths: tuple[str, ...]


def _files(base: Snapshot, touched: Ints, present: Sequence[tuple[int, str, str | None]]) -> _Files:
    keep = ~np.isin(base.file_ids, touched)
    kept = np.flatnonzero(keep)
    ids = np.concatenate(
        (base.file_ids[keep], np.fromiter((r[0] for r in present), np.int64, len(present)))
    )
    order = np.argsort(ids, kind="stable")
    place = np.empty(len(ids), dtype=np.int64)
    place[order] = np.arange(len(ids))
    old_to_new = np.full(base.n_files, -1, dtype=np.int32)
    old_to_new[keep] = place[: len(kept)]
    paths = [base.paths[i] for i in kept.tolist()] + [r[1] for r in present]
    languages = [base.languages[i] for i in kept.tolist()] + [r[2] for r in present]
    added_paths = tuple(r[1] for r in present)
    classes = np.concatenate(
        (base.file_class[keep], file_classes(added_paths, [r[2] for r in present]))
    )
    at = order.tolist()
    values = FileValues(
        ids[order],
        tuple(paths[i] for i in at),
        tuple(languages[i] for i in at),
        classes[order],
    )
    return _Files(values, old_to_new, place[len(kept) :], added_paths)


def _read_delta(
    conn: sqlite3.Connection, held: list[Snapshot], generation: str, change: Change
) -> Snapshot:
    touched = np.array(sorted(change.files), dtype=np.int64)
    wanted = json.dumps(touched.tolist())
    present = conn.execute(
        "SELECT id, path, language FROM files WHERE skip_reason IS NULL"
        " AND id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (wanted,),
    ).fetchall()
    files = _files(held[0], touched, present)
    # the same query as a full load's, for the changed files: their chunks in the same order
    chunks = ChunkColumns(
        conn.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE terms IS NOT NULL"
            " AND file_id IN (SELECT value FROM json_each(?)) ORDER BY file_id, start_line",
            (wanted,),
        ),
        {row[0]: int(p) for row, p in zip(present, files.added.tolist(), strict=True)},
    )
    index = {p: i for i, p in enumerate(files.values.paths)}
    if change.history:
        history = build_history(
            conn.execute(
                "SELECT hash, time, terms, length FROM commits ORDER BY time DESC, hash"
            ).fetchall(),
            conn.execute("SELECT hash, path FROM commit_files").fetchall(),
            index,
        )
    elif np.array_equal(files.values.ids, held[0].file_ids):
        history = held[0].history  # the same files in the same places
    else:
        history = held[0].history.linked(index)
    old = {f.name: getattr(held[0], f.name) for f in fields(Snapshot) if f.init}
    held.clear()  # (its searches' caches go with it)
    return _apply(old, generation, files, chunks, history)


def _apply(
    old: dict[str, Any],  # the old snapshot's fields: each table is let go once patched
    generation: str,
    files: _Files,
    chunks: ChunkColumns,
    history: History,
) -> Snapshot:
    n_files = len(files.values.paths)
    # chunks: the kept files' keep their order, shifted past the changed files' new ones
    old_counts = np.diff(old["file_chunks"])
    kept_file = files.old_to_new >= 0
    counts = np.bincount(chunks.file, minlength=n_files).astype(np.int64)
    counts[files.old_to_new[kept_file]] += old_counts[kept_file]
    file_chunks = np.zeros(n_files + 1, dtype=np.int64)
    np.cumsum(counts, out=file_chunks[1:])
    shift = np.where(kept_file, file_chunks[files.old_to_new] - old["file_chunks"][:-1], 0)
    kept = kept_file[old["chunk_file"]]
    old_to_new = np.where(kept, np.arange(len(old["chunk_ids"])) + shift[old["chunk_file"]], -1)
    old_to_new = old_to_new.astype(np.int32)
    first_row = np.searchsorted(chunks.file, chunks.file, side="left")
    docs = (file_chunks[chunks.file] + np.arange(len(chunks)) - first_row).astype(np.int32)
    to = old_to_new[kept]
    n_chunks = int(file_chunks[-1])

    def placed(was: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = np.empty(n_chunks, dtype=was.dtype)
        out[to] = was[kept]
        out[docs] = new
        return out

    chunk_file = placed(files.old_to_new[old["chunk_file"]].astype(np.int32), chunks.file)
    start = placed(old["chunk_start"], chunks.start_line)
    body, tiles, tiled = body_table(chunks, docs)
    chunk_body, chunk_tiles = old.pop("chunk_body").patched(
        old_to_new, body, old.pop("chunk_tiles"), tiles
    )
    assert chunk_tiles is not None
    blocks, old_blocks = (
        block_of(chunk_file, start),
        block_of(old["chunk_file"], old["chunk_start"]),
    )
    block_to_new = np.full(int(old_blocks[-1]) + 1 if len(old_blocks) else 0, -1, np.int32)
    block_to_new[old_blocks[kept]] = blocks[to]
    pairs = keys_table(chunks, "pairs", docs)
    chunk_pairs = old.pop("chunk_pairs").patched(old_to_new, pairs)[0]
    names = keys_table(chunks, "names", docs)
    chunk_names = old.pop("chunk_names").patched(old_to_new, names)[0]
    literals, literals_known = literals_table(chunks, docs)
    values = ChunkValues(
        placed(old["chunk_ids"], chunks.ids),
        chunk_file,
        placed(old["chunk_length"], chunks.length),
        placed(old["chunk_defines"], chunks.defines),
        start,
        placed(old["chunk_end"], chunks.end_line),
        placed(old["chunk_tiled"], tiled),
        placed(old["literals_known"], literals_known),
    )
    tables = Tables(
        chunk_body,
        chunk_tiles,
        chunk_pairs,
        chunk_names,
        old.pop("chunk_literals").patched(old_to_new, literals)[0],
        _rolled(old.pop("blocks").body, block_to_new, body, blocks, chunk_body),
        _rolled(old.pop("file_body"), files.old_to_new, body, chunk_file, chunk_body),
        _rolled(old.pop("file_pairs"), files.old_to_new, pairs, chunk_file, chunk_pairs),
        _rolled(old.pop("file_names"), files.old_to_new, names, chunk_file, chunk_names),
        old.pop("file_path").patched(
            files.old_to_new, path_table(files.added_paths, files.added.tolist())
        )[0],
    )
    return assemble(generation, values, files.values, tables, history)


def _rolled(
    old: Postings,
    doc_map: npt.NDArray[np.int32],
    added: Postings,
    owner: npt.NDArray[np.int32],
    chunk_table: Postings,
) -> Postings:
    """A rolled-up table (`Postings.rolled_up`) patched: the added chunks' postings rolled up
    alike merged in. It holds the same keys as its chunk table, and shares them (a search
    looks a key up once for both)."""
    patched = old.patched(doc_map, added.rolled_up(owner))[0]
    if len(patched.keys) != len(chunk_table.keys):
        raise AssertionError("a rolled-up table lost or gained keys in an update")
    return Postings(chunk_table.keys, patched.starts, patched.records)
