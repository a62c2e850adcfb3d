"""An index that could not be updated: what a search says. Its own update on a disk with no
space left (SQLITE_FULL) is no error: the search goes on with the index as it is, and says why
it is stale. While the watcher retries after a failure (a full disk, a locked database, a
folder gone), files changed on disk may be missing from the index: said too."""

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
        notes.append(full_note(db_path))
        return False


def full_note(db_path: Path) -> str:
    return (
        f"the disk holding the index database ({db_path}) is full: the index could not be "
        "updated, and these results are from the index as it was"
    )


def watcher_full(state: str, error: str | None) -> bool:
    """Whether the watcher retries an update that found the disk full: it fails again until
    someone frees space, so no build is under way to wait for."""
    return state == "retrying" and error is not None and "database or disk is full" in error


def watcher_note(state: str, error: str | None, db_path: Path) -> str | None:
    """The note of a search while the watcher retries after a failure, else None."""
    if state != "retrying":
        return None
    if watcher_full(state, error):
        return full_note(db_path)
    return (
        f"the index watcher failed ({error}) and is retrying: files changed on disk since the "
        "last update may be missing from these results"
    )
