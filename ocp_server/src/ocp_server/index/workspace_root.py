"""Whether the workspace folder is there to list. One removed, moved away or on a drive
unmounted lists no file, and an update that took that for every file deleted emptied the
index: when the folder came back (a checkout, a remount, a rename back) every file was read
again, under new rows. Such an update stops instead (WorkspaceGone), the index kept as it was.

An unmounted drive leaves its mount point, an empty folder on the device below: a listing of
nothing where the folder's device is not the one recorded at the last update is taken for
that (every file deleted in place is on the same device, and is indexed as it is)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import aiosqlite

from ocp_server.index.meta import read_meta
from ocp_server.path_text import path_text

__all__ = ["DEVICE_META_KEY", "WorkspaceGone", "device_of", "gone_reason", "recorded_device"]

#: The meta key of the workspace folder's device (st_dev) at the last update.
DEVICE_META_KEY = "workspace_device"


class WorkspaceGone(FileNotFoundError):
    """The workspace folder is not there: the update stopped, the index is kept until it is
    back. Its message names the folder and what was found."""


def device_of(workspace: Path) -> int | None:
    """The device the workspace folder is on, None when it is not there."""
    try:
        return os.stat(workspace).st_dev
    except OSError:
        return None


async def recorded_device(db: aiosqlite.Connection) -> int | None:
    """The workspace folder's device at the last update, None before one recorded it."""
    value = await read_meta(db, DEVICE_META_KEY)
    return int(value) if value is not None and value.isdigit() else None


def gone_reason(workspace: Path, recorded_device: int | None, listed_nothing: bool) -> str | None:
    """Why the workspace folder counts as gone (None: it is there). `recorded_device`: its
    device at the last update; `listed_nothing`: the listing found no file."""
    try:
        st = os.stat(workspace)
    except OSError as exc:
        why = "was removed or moved away" if isinstance(exc, FileNotFoundError) else str(exc)
    else:
        if not stat.S_ISDIR(st.st_mode):
            why = "is no longer a folder"
        elif listed_nothing and recorded_device not in (None, st.st_dev):
            why = (
                "is an empty folder on another device than at the last update "
                "(its drive unmounted?)"
            )
        else:
            return None
    return (
        f"the workspace folder {path_text(workspace)} is gone: it {why}. The index is kept "
        "as it was, and updated once the folder is back"
    )
