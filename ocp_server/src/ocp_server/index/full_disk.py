"""An index the disk would not let be written: what a search says. Its own update failing on
storage (`storage_failed`: no space left, a file-size limit, a disk I/O error) is no error: the
search goes on with the index as it is, and says why it is stale and what to do. While the
watcher retries after another failure (a locked database, a folder gone), files changed on disk
may be missing from the index: said too."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from ocp_server.errors import storage_cause, storage_failed
from ocp_server.index.workspace_root import WorkspaceGone

#: The meta key of the last update's storage failure (JSON: cause, at), for `ocp-server
#: status` and `doctor`, which run in other processes; deleted by the next update that works.
STORAGE_META_KEY = "storage_failed"


async def updated_unless_full(
    update: Callable[[], Awaitable[object | None]], db_path: Path, notes: list[str]
) -> bool:
    """Whether `update` indexed (None: another process holds the lease). A storage failure is
    no error here: False, with a note for the search's answer added to `notes`; nor is the
    workspace folder gone (False: the index keeps it, and the search's note says so)."""
    try:
        return await update() is not None
    except WorkspaceGone:
        return False
    except sqlite3.DatabaseError as exc:
        if not storage_failed(exc):
            raise
        notes.append(storage_note(storage_cause(exc, db_path)))
        return False


def storage_note(cause: str) -> str:
    """A search's note after an update failed on storage (`cause`: errors.storage_cause)."""
    return f"the index could not be updated: {cause}. These results are from the index as it was"


def gone_note(why: str) -> str:
    """A search's note while the workspace folder is gone (`why`: workspace_root.py)."""
    return f"{why}. These results are from the index as it was"


def watcher_note(state: str, error: str | None) -> str | None:
    """The note of a search while the watcher retries after a failure, else None."""
    if state != "retrying":
        return None
    return (
        f"the index watcher failed ({error}) and is retrying: files changed on disk since the "
        "last update may be missing from these results"
    )
