"""A snapshot reads the chunks' rows a batch at a time (`chunk_columns.ChunkColumns`): how the rows
fall into batches, whole batches of chunks of files no longer indexed included, changes none
of its arrays."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ocp_server.index import chunk_columns, lexical
from ocp_server.index.workspace import WorkspaceIndex


def _fields(snapshot: lexical.Snapshot) -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, np.ndarray):
            out[prefix] = (value.dtype.str, value.shape, value.tobytes())
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                if f.compare:  # not what searches keep for the next (derived, answers…)
                    walk(f"{prefix}.{f.name}", getattr(value, f.name))
        elif isinstance(value, dict):
            for k in sorted(value):
                walk(f"{prefix}[{k}]", value[k])
        else:
            out[prefix] = value

    walk("", snapshot)
    return out


async def test_a_snapshot_is_the_same_however_its_rows_are_batched(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "ocp.db"
    async with await WorkspaceIndex.open(workspace, db_path) as index:
        await index.update()
    with sqlite3.connect(db_path) as db:
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        # chunks left behind by files now skipped: read, and left out of the snapshot
        first_file = db.execute("SELECT min(file_id) FROM chunks").fetchone()[0]
        db.execute("UPDATE files SET skip_reason = 'test' WHERE id = ?", (first_file,))
    assert chunks > 6
    snapshot = lexical.load_snapshot(db_path)
    assert 0 < snapshot.n_chunks < chunks
    whole = _fields(snapshot)
    for rows in (1, 2, 3, chunks - 1, chunks):
        monkeypatch.setattr(chunk_columns, "_BATCH_ROWS", rows)
        assert _fields(lexical.load_snapshot(db_path)) == whole, rows
