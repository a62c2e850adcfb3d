"""An index's rows read and rewritten behind its back: how many files and chunks it holds (and
chunks left without a file), and rows changed as an index write changes them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex


def row_counts(db_path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db_path) as db:
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        orphans = db.execute(
            "SELECT count(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()[0]
    return files, chunks, orphans


async def rewrite_rows(index: WorkspaceIndex, sql: str) -> None:
    """Rows changed as an index write changes them: with the generation moved on, so searches
    read them again (a snapshot keeps the rows it answered with)."""
    await index.db.execute(sql)
    await index.db.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
    )
    await index.db.commit()
