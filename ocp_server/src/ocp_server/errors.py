"""What a tool call can end in, and what the client sees.

    OCPError                        a tool error; its message is shown to the caller as it is
    ├── InputError (ValueError)     the arguments name something wrong or unknown: said as a
    │   │                           schema error is (argument_errors.field_problem): ``
    │   │                           `resolve[0]`: expected the id of an open item (got 99);
    │   │                           no open item #99 ``
    │   ├── WorkspaceError          no usable workspace; the message says how to set one
    │   │   └── RootsMovedAway      its folder left the client's roots while the call was on
    │   │                           its way (server.py resolves it again)
    │   └── CitationError           a citation that cannot be resolved, and what would work
    ├── RouteFailure                no model could answer: the tool error carries the whole
    │                               route result (attempts, trace) as structured content
    └── DatabaseError (RuntimeError)  the workspace's database cannot be opened or used
        └── SchemaTooNew            a newer OCP migrated it: this one no longer writes it
                                    (schema.py)

    ocp_router.ConfigError          a bad environment value (PayloadError: a malformed payload);
                                    shown with its message, like an InputError
    pydantic.ValidationError        arguments that break the tool's schema, before any handler
                                    runs: "`field`: what was expected (got what was given)"
    sqlite3 "database is locked"    another process held the write lock past the busy
                                    timeout: answered "busy, try again", not logged as a bug
    sqlite3 "database or disk is    SQLITE_FULL: answered "the disk is full, free space", not
      full"                         logged as a bug; a search answers from what is indexed
    anything else                   a bug: logged with its traceback to stderr and answered as
                                    "internal error"; never dressed up as bad input

The server (server.py `on_call_tool`) is the one place these turn into MCP results; the CLI
turns the same tree into one-line messages and exit codes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ocp_wire import RouteResult
    from ocp_wire.tools import ToolNameStyle

__all__ = [
    "CitationError",
    "DatabaseError",
    "InputError",
    "OCPError",
    "RootsMovedAway",
    "RouteFailure",
    "WorkspaceError",
    "busy_text",
    "damaged_text",
    "database_busy",
    "database_damaged",
    "database_fault_text",
    "disk_full",
    "full_text",
    "storage_cause",
    "storage_failed",
    "unwritable_reason",
]


class OCPError(Exception):
    """The root of the errors the server reports to its client with their message."""


class InputError(OCPError, ValueError):
    """Something in the arguments is wrong or names nothing that exists; the message names
    the field first."""


class WorkspaceError(InputError):
    """No workspace could be found; the message says how to set one."""


class RootsMovedAway(WorkspaceError):
    """`path` was a configured folder when the call resolved it, and no longer is: the
    client's roots changed while the call was on its way."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} is no longer among the folders this server may open: the client's roots "
            "changed while the call was on its way"
        )
        self.path = path


class CitationError(InputError):
    """A citation could not be resolved; the message says why and what would work.
    `not_indexed`: the cited file or symbol is not in the index, which one still being built
    may hold soon, or an update of one built (a first build's note and a save's update are for
    these alone)."""

    def __init__(self, message: str, *, not_indexed: bool = False) -> None:
        super().__init__(message)
        self.not_indexed = not_indexed


class DatabaseError(OCPError, RuntimeError):
    """The database cannot be opened or used; the message says what to do."""


class RouteFailure(OCPError):
    """No model could answer a route; `result` holds the trace and every attempt."""

    def __init__(self, result: RouteResult) -> None:
        super().__init__(result.note)
        self.result = result


def disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL: the disk holding the database (or its -wal file) has no space left."""
    return isinstance(exc, sqlite3.OperationalError) and "database or disk is full" in str(exc)


def storage_failed(exc: BaseException) -> bool:
    """The database's file could not be written (or read) by the disk, not by a bug: SQLITE_FULL
    (no space left), SQLITE_IOERR ("disk I/O error": a file-size limit such as `ulimit -f`,
    a disk quota, a failing disk or network filesystem, a file made immutable or a file system
    remounted read-only under an open connection), or SQLITE_READONLY (a connection SQLite
    opened read-only, its file or folder not writable then; not _DBMOVED, a database deleted,
    which is opened afresh)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY"):
        return name != "SQLITE_READONLY_DBMOVED"
    return disk_full(exc) or name.startswith(("SQLITE_FULL", "SQLITE_IOERR"))


def unwritable_reason(db_path: Path) -> str | None:
    """Why the database's files cannot be written, when the system says they cannot: one of
    them (or their folder) refused by access(), which answers for root too on a read-only file
    system (EROFS) and for an immutable file (EPERM). None when each may be written. (Nothing
    is opened: closing a file this process holds SQLite's locks on would drop the locks.)"""
    paths = (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), db_path.parent)
    refused = next((p for p in paths if os.path.lexists(p) and not os.access(p, os.W_OK)), None)
    if refused is None:
        return None
    try:
        if os.statvfs(refused).f_flag & os.ST_RDONLY:
            return f"the file system holding {refused} is mounted read-only"
    except OSError:
        pass
    return (
        f"{refused} is not writable (its permissions or owner, or an immutable attribute: "
        "`ls -l`, `lsattr`)"
    )


def storage_cause(exc: BaseException | str, db_path: Path | None = None) -> str:
    """What a storage failure (`storage_failed`) is, in words, and what to do about it."""
    where = f" ({db_path})" if db_path is not None else ""
    full = "database or disk is full" in exc if isinstance(exc, str) else disk_full(exc)
    reason = unwritable_reason(db_path) if db_path is not None and not full else None
    if reason is None and str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_READONLY"):
        reason = f"SQLite opened it read-only ({exc}): its file or folder was not writable then"
    if reason is not None:
        return (
            f"the workspace's database{where} cannot be written: {reason}. Make it writable "
            "again (the index and the session memory in it are intact; `chmod u+w`, "
            "`chattr -i`, or remount the file system read-write), or set OCP_DB_PATH to a "
            "writable place and restart the server"
        )
    if full:
        what = f"the disk holding the workspace's database{where} is full"
    else:
        what = (
            f"the disk refused to write the workspace's database{where}: {exc} (a full disk, "
            "a file-size limit such as `ulimit -f`, a disk quota, or a failing disk)"
        )
    return (
        f"{what}. Free some space (or raise the limit), or set OCP_DB_PATH to a database on "
        "a disk with room and restart the server"
    )


def database_damaged(exc: BaseException) -> bool:
    """SQLite found the database's pages damaged while serving ("database disk image is
    malformed": SQLITE_CORRUPT; "file is not a database": SQLITE_NOTADB)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.DatabaseError) and name.startswith(
        ("SQLITE_CORRUPT", "SQLITE_NOTADB")
    )


def damaged_text(verb: str, db_path: Path | None, exc: BaseException) -> str:
    """What the caller sees when a tool met damaged pages of the database: not a bug."""
    where = f" ({db_path})" if db_path is not None else ""
    old = f"{db_path}.old" if db_path is not None else "<database>.old"
    return (
        f"{verb} failed: the workspace's database{where} has damaged pages ({exc}). What is "
        "in its other pages still answers (the session memory, often), and the server keeps "
        "serving. To build the index anew, stop the server, move the database aside (to "
        f"{old}, with its -wal/-shm files) and start it again; the session memory in the old "
        f"file may be recovered with `sqlite3 {old} .recover`."
    )


def database_fault_text(verb: str, db_path: Path | None, exc: BaseException) -> str | None:
    """What the caller sees when the disk refused the database (storage_failed) or its pages
    are damaged (database_damaged); None for any other exception."""
    if storage_failed(exc):
        return full_text(verb, db_path, exc)
    return damaged_text(verb, db_path, exc) if database_damaged(exc) else None


def full_text(verb: str, db_path: Path | None = None, exc: BaseException | None = None) -> str:
    """What the caller sees when the disk holding the database refused a write: not a bug."""
    cause = storage_cause(exc if exc is not None else "database or disk is full", db_path)
    return (
        f"{verb} failed: {cause}. Nothing could be written; searches keep answering from the "
        "index as it is, and the index catches up by itself once it can be written again."
    )


def database_busy(exc: BaseException) -> bool:
    """SQLite gave up waiting for another connection's write lock (BUSY_TIMEOUT_MS)."""
    return isinstance(exc, sqlite3.OperationalError) and str(exc).startswith(
        ("database is locked", "database is busy")
    )


def busy_text(verb: str, db_path: Path | None = None) -> str:
    """What the caller sees when another process kept the database locked: not a bug. Names
    that process when it can be known (db_holders.py)."""
    from ocp_server import db  # loaded by then; not at start (it brings the index's imports)
    from ocp_server.db_holders import named_holders

    who = named_holders(db_path) if db_path is not None else None
    holder = (
        f"another process ({who})"
        if who
        else "another OCP process (an index build, a second IDE window)"
    )
    return (
        f"{verb} failed: the workspace's database is busy: {holder} held its write lock for "
        f"over {db.BUSY_TIMEOUT_MS / 1000:g} s. The call did not complete; try again."
    )


def routing_error_text(error: str, tool_names: ToolNameStyle) -> str:
    """The route tool's answer while a routing setting is invalid (AppState.routing_error);
    the other tools named as advertised under OCP_TOOL_NAMES=`tool_names`."""
    from ocp_wire.tools import RESTORE, SAVE, SEARCH

    search, restore, save = (t.name_in(tool_names) for t in (SEARCH, RESTORE, SAVE))
    return (
        f"routing is not configured correctly: {error}. Fix it in the env block of your MCP "
        "config (or your shell), then restart the server. Only routing is affected: "
        f"{search}, {restore} and {save} keep working."
    )
