"""A search's own index update on a disk with no space left (SQLITE_FULL): the search goes on
with the index as it is, and says why it is stale; the watcher retries the update."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from ocp_server.errors import disk_full


async def updated_unless_full(
    update: Callable[[], Awaitable[object | None]], db_path: Path, notes: list[str]
) -> bool:
    """Whether `update` indexed (None: another process holds the lease). A full disk is no
    error here: False, with a note for the search's answer added to `notes`."""
    try:
        return await update() is not None
    except sqlite3.OperationalError as exc:
        if not disk_full(exc):
            raise
        notes.append(
            f"the disk holding the index database ({db_path}) is full: the index could not be "
            "updated, and these results are from the index as it was"
        )
        return False
