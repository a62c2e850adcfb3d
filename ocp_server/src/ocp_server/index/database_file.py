"""Where an open index database is now. A workspace moved away with its own `.ocp/ocp.db`
takes the file with it: the connections this process holds still read it, but a new one
opened by its path (a snapshot's load, the search's reader) failed with SQLite's bare
"unable to open database file". The file is found again through this process's open
descriptors (Linux's /proc/self/fd names where each file is now); where it cannot be, the
error names the path and what happened to it."""

from __future__ import annotations

import os
from pathlib import Path

from ocp_server.errors import DatabaseError
from ocp_server.path_text import path_text

__all__ = ["current_path", "remember_opened"]

#: Each database path this process opened, with the file it named then (device, inode).
_OPENED: dict[Path, tuple[int, int]] = {}
_FDS = Path("/proc/self/fd")


def remember_opened(db_path: Path) -> None:
    """Record the file `db_path` names now (just opened), so it can be found if it moves."""
    try:
        st = os.stat(db_path)
    except OSError:
        return
    if len(_OPENED) >= 256:
        _OPENED.clear()
    _OPENED[db_path] = (st.st_dev, st.st_ino)


def current_path(db_path: Path) -> Path:
    """`db_path` while a file is there; else where the database this process opened by that
    path is now (moved with its workspace folder), found through an open descriptor. Raises
    DatabaseError naming the path when it is nowhere to be found."""
    if os.path.exists(db_path):
        return db_path
    identity = _OPENED.get(db_path)
    if identity is not None and (moved := _open_file(identity)) is not None:
        return moved
    raise DatabaseError(
        f"the index database {path_text(db_path)} is not there any more (moved or removed, "
        "with its workspace folder?): open the index again where the folder is now"
    )


def _open_file(identity: tuple[int, int]) -> Path | None:
    """The path of a file this process holds open that is `identity`, None if none is."""
    try:
        fds = os.listdir(_FDS)
    except OSError:
        return None  # not Linux (or no /proc): the caller says where it was
    for fd in fds:
        link = _FDS / fd
        try:
            st = os.stat(link)
            target = os.readlink(link)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == identity and os.path.isabs(target):
            found = Path(target)
            if os.path.exists(found):  # not one deleted ("... (deleted)")
                return found
    return None
