"""A workspace written from a map of files and indexed once, for tests that search what they
wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import numpy as np

from ocp_server.index.models import SearchResult
from ocp_server.index.workspace import WorkspaceIndex


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Each of `files` (relative path: text) written below `root`, folders made as needed."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@asynccontextmanager
async def built_index(
    root: Path, files: Mapping[str, str], db: Path
) -> AsyncIterator[WorkspaceIndex]:
    """The index of `root` once `files` are written there and one update read them; closed
    after."""
    write_files(root, files)
    index = await WorkspaceIndex.open(root, db)
    try:
        await index.update()
        yield index
    finally:
        await index.close()


async def first_hit(tmp_path: Path, files: Mapping[str, str], query: str) -> SearchResult:
    """The first of the three best hits of `query` over a workspace of `files`."""
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        return (await index.search(query, k=3, refresh=False)).results[0]


async def names_from_before(db: Path, keys: set[int], migration: str) -> None:
    """The index at `db` as a server from before `migration` left it: no chunk's names hold
    `keys`, and the migration has not run (the next open runs it)."""
    async with aiosqlite.connect(db) as conn:
        rows = await conn.execute_fetchall("SELECT id, names FROM chunks WHERE names != x''")
        for row_id, names in rows:
            kept = [k for k in np.frombuffer(names, "<u4").tolist() if k not in keys]
            await conn.execute(
                "UPDATE chunks SET names = ? WHERE id = ?",
                (np.array(kept, dtype="<u4").tobytes(), row_id),
            )
        await conn.execute("DELETE FROM _migrations WHERE name = ?", (migration,))
        await conn.commit()
