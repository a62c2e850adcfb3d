"""A snapshot reads the chunks' rows a batch at a time (`chunk_columns.ChunkColumns`): how the rows
fall into batches, whole batches of chunks of files no longer indexed included, changes none
of its arrays."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocp_server.index import chunk_columns, lexical
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.snapshots import snapshot_fields


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
    whole = snapshot_fields(snapshot)
    for rows in (1, 2, 3, chunks - 1, chunks):
        monkeypatch.setattr(chunk_columns, "_BATCH_ROWS", rows)
        assert snapshot_fields(lexical.load_snapshot(db_path)) == whole, rows
