"""Opening OCP's SQLite database: WAL, a busy timeout, foreign keys, migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from ocp_server.db_holders import named_holders
from ocp_server.errors import DatabaseError as DatabaseError  # re-exported: index/ imports it here
from ocp_server.errors import storage_cause, storage_failed
from ocp_server.index.own_files import SIDE_FILES
from ocp_server.migrations import migrate
from ocp_wire.tools import SAVE

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000

#: The page size of a database created here. A chunk's row is about 900 bytes: in 4 KiB pages
#: the rows that do not fit a leaf's rest leave a sixth of the leaves empty, and every table
#: and index of the schema (about 55, most of them memory's, empty in a fresh index) takes a
#: page of its own. In 1 KiB pages a row longer than a page spills into overflow pages that it
#: fills whole: the benchmark's databases are 3-20% smaller (cobra's 2.01x its source becomes
#: 1.76x). Only a new, empty file takes it: a database keeps the page size it was made with.
PAGE_SIZE = 1024
#: WAL bytes between automatic checkpoints: SQLite's 1,000 pages, of 4 KiB as before
#: `PAGE_SIZE`, so that smaller pages do not checkpoint (and sync) four times as often.
WAL_CHECKPOINT_BYTES = 1000 * 4096


async def _prepare(db: aiosqlite.Connection) -> None:
    await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before WAL: WAL fixes the size
    await db.execute("PRAGMA foreign_keys = ON")
    rows = await _into_wal(db)
    if rows and rows[0][0] != "wal":
        logger.warning(
            "database is in %s mode, not WAL (read-only or network filesystem?)", rows[0][0]
        )
    await db.execute("PRAGMA synchronous = NORMAL")
    ((page_size,),) = await db.execute_fetchall("PRAGMA page_size")
    await db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // int(page_size)}")
    await migrate(db)


async def _into_wal(db: aiosqlite.Connection) -> list[sqlite3.Row]:
    """PRAGMA journal_mode = WAL, waiting (up to the busy timeout) for another process creating
    the database: while it holds the write lock of the new file, still in rollback mode,
    SQLite answers "database is locked" at once, without calling its busy handler."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return list(await db.execute_fetchall("PRAGMA journal_mode = WAL"))
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() >= deadline:
                raise
            logger.info("waiting for another process creating the database")
            await asyncio.sleep(0.05)


def _locked(exc: sqlite3.OperationalError) -> bool:
    return str(exc).startswith(("database is locked", "database is busy"))


# The database holds copies of the workspace's text (and its memory): readable by its owner
# only, like the key files some of that text came from.
DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_ocp_dir(db_path: Path) -> None:
    """Create the folder; an `.ocp/` folder is private (0700) and gets a .gitignore so it is
    never committed. The database file is created 0600 before SQLite opens it (SQLite gives
    its -wal and -shm files the database's mode), and files an older version left readable
    by others are made private: regular files SQLite reads as a database only."""
    folder = db_path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if folder.name == ".ocp":
        if folder.stat().st_mode & 0o077:
            folder.chmod(DIR_MODE)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# OCP's local index and memory: never commit.\n*\n", "utf-8")
    # Only a file that does not exist yet is opened here (one that does, by SQLite alone: see
    # _is_database): SQLite's locks are POSIX locks, which a process loses on *every*
    # descriptor of a file when it closes any one of them. Opening and closing the database
    # beside this process's open connections let another process's closing connection think
    # it was the last, and delete the -wal and -shm files those connections still use ("disk
    # I/O error" until a restart).
    try:
        os.close(os.open(db_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    loose = []
    for suffix in SIDE_FILES:
        path = Path(f"{db_path}{suffix}")
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        # Never a device or a pipe (OCP_DB_PATH=/dev/null run as root made it 0600 for all)
        if st.st_mode & 0o077 and stat.S_ISREG(st.st_mode):
            loose.append(path)
    # Nor a file OCP_DB_PATH names by mistake that is no database (notes, a config: "left as
    # it is", mode included)
    if loose and _is_database(db_path):
        for path in loose:
            path.chmod(FILE_MODE)


def _is_database(db_path: Path) -> bool:
    """Whether SQLite reads `db_path` as a database (an empty file is one), asked of SQLite
    itself rather than read here: SQLite closes its descriptor of a file only when no other
    connection of this process holds a lock on it (it keeps it until then), so this process's
    locks survive the asking. Read-only and `immutable`: nothing is locked, and no -wal or
    -shm file is made."""
    try:
        probe = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return False
    try:
        probe.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError:
        return False
    finally:
        probe.close()
    return True


async def _open(db_path: Path) -> aiosqlite.Connection:
    """aiosqlite's connection to `db_path`; when SQLite cannot open it, raised only once the
    connection's worker thread has ended. aiosqlite answers a failed open by queueing that
    thread's stop without waiting for it: a thread still running when asyncio.run closed the
    loop printed "RuntimeError: Event loop is closed" under the CLI's clear error."""
    pending = aiosqlite.connect(db_path, isolation_level=None)
    try:
        return await pending
    except BaseException:
        # The stop is queued before the error reaches here: the thread ends without help.
        # (`_thread` is aiosqlite's own; if a release renames it, the error is raised as is)
        thread = getattr(pending, "_thread", None)
        if isinstance(thread, threading.Thread):
            await asyncio.to_thread(thread.join, 5.0)
        raise


def _file_as_folder(db_path: Path) -> Path | None:
    """The nearest existing folder of `db_path`'s, when it is no folder (a file in its way)."""
    for folder in db_path.parents:
        if folder.exists():
            return None if folder.is_dir() else folder
    return None


@dataclass(frozen=True, slots=True)
class DatabaseNaming:
    """What the database's errors say of the settings (read once, by ServerSettings): whether
    OCP_DB_PATH names the database (rather than the workspace's `.ocp/ocp.db`), and the save
    tool as advertised (OCP_TOOL_NAMES)."""

    named_by_setting: bool = False
    save_tool: str = SAVE.name


async def connect(db_path: Path, naming: DatabaseNaming | None = None) -> aiosqlite.Connection:
    """Open (creating and migrating as needed). Raises DatabaseError with a fix on failure,
    worded as `naming` says (the defaults when None)."""
    naming = naming or DatabaseNaming()
    if db_path.is_dir():  # SQLite says only "unable to open database file"
        raise DatabaseError(
            f"the OCP database at {db_path} is a folder: set OCP_DB_PATH to a file's path (a "
            "new one is made)"
        )
    if (kind := _not_a_file(db_path)) is not None:
        raise DatabaseError(_not_a_file_error(db_path, kind, naming))
    if (side := _side_not_a_file(db_path)) is not None:
        raise DatabaseError(_side_error(db_path, *side, naming))
    try:
        ensure_ocp_dir(db_path)
        conn = await _open(db_path)
    except (OSError, sqlite3.Error) as exc:
        if (file := _file_as_folder(db_path)) is not None:  # mkdir said "File exists"
            raise DatabaseError(
                f"cannot open the OCP database at {db_path}: {file} is a file, not a folder. "
                "Set OCP_DB_PATH to a path in a folder, or move that file."
            ) from exc
        raise DatabaseError(
            f"cannot open the OCP database at {db_path}: {exc}. Check the folder is writable, "
            "or set OCP_DB_PATH to another location."
        ) from exc
    try:
        await _prepare(conn)
    except sqlite3.OperationalError as exc:  # a DatabaseError too: not the file's fault
        await conn.close()
        if not _locked(exc):
            if (unwritable := _unwritable(db_path, exc)) is not None:
                raise unwritable from exc
            if storage_failed(exc):  # the disk refused the tables (full, `ulimit -f`): no damage
                raise DatabaseError(
                    f"the OCP database at {db_path} could not be set up: "
                    f"{storage_cause(exc, db_path)}"
                ) from exc
            if _moved_aside(db_path, exc, naming):
                return await connect(db_path, naming)
            raise _unreadable(db_path, exc, naming) from exc
        who = named_holders(db_path) or "another OCP process"
        raise DatabaseError(
            f"the OCP database at {db_path} stayed locked ({exc}): {who} held its write lock "
            "while this one waited to migrate it (an OCP server of another version migrating "
            "it first?). It is not damaged: try again when that process is done."
        ) from exc
    except sqlite3.DatabaseError as exc:
        await conn.close()
        if _moved_aside(db_path, exc, naming):
            return await connect(db_path, naming)
        raise _unreadable(db_path, exc, naming) from exc
    return conn


@dataclass(slots=True)
class _MovedAside:
    note: str  # what the tool answers say of it
    searches: int = 0  # how many searches said it


#: The databases this process moved aside because they were no database at all, by the path
#: opened (moved_aside_note).
_MOVED_ASIDE: dict[Path, _MovedAside] = {}
#: Searches that say it (each restore and save does): enough to be seen, not a cost for ever.
SEARCHES_TOLD = 5


def moved_aside_note(db_path: Path, *, search: bool = False) -> str | None:
    """What to tell the user of a database at `db_path` this process moved aside, or None
    (a `search` after SEARCHES_TOLD others said it)."""
    if (moved := _MOVED_ASIDE.get(db_path)) is None:
        return None
    if search:
        if moved.searches >= SEARCHES_TOLD:
            return None
        moved.searches += 1
    return moved.note


def _aside_name(db_path: Path) -> Path:
    """A free `<name>.corrupt-<time>[-<n>]` beside `db_path`, taken by making it empty (the
    move renames over it): a second move within the same second, by this process or another,
    must not rename over the first one kept."""
    stem = db_path.with_name(f"{db_path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    for n in range(1, 1000):
        target = stem if n == 1 else stem.with_name(f"{stem.name}-{n}")
        if any(os.path.lexists(f"{target}{suffix}") for suffix in SIDE_FILES[1:]):
            continue  # side files of one kept before
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        return target
    raise FileExistsError(f"{stem} and 998 more names beside it are taken")


def _moved_aside(db_path: Path, exc: sqlite3.DatabaseError, naming: DatabaseNaming) -> bool:
    """Move a file at the database's own place that is no SQLite database at all (no SQLite
    header: nothing SQLite could read of it, overwritten or never one) to
    `<name>.corrupt-<time>` (`-<n>` after it when taken), with its side files, so that a new one
    is made there: whether it was moved (or another process moved it already). Never deleted:
    it may be an OCP database whose start was overwritten, its session memory in the rest. A
    file OCP_DB_PATH names is left where it is (a file named by mistake), and so is a database
    with its header and damaged pages (its memory may be recovered: `_unreadable` says how)."""
    if naming.named_by_setting or _sqlite_header(db_path):
        return False
    try:
        target = _aside_name(db_path)
        try:
            os.rename(db_path, target)
        except FileNotFoundError:  # another process moved it first: its own name kept it
            target.unlink()
            return True
        for suffix in SIDE_FILES[1:]:
            with contextlib.suppress(FileNotFoundError):
                os.rename(f"{db_path}{suffix}", f"{target}{suffix}")
    except OSError:
        logger.warning("moving the unreadable database %s aside failed", db_path, exc_info=True)
        return False
    note = (
        f"the workspace's database {db_path} was no SQLite database ({exc}) when this server "
        f"opened it: it was moved aside to {target} (kept, not deleted) and a new one made, "
        "its index built again. Session memory saved before it broke is not in the new one"
    )
    _MOVED_ASIDE[db_path] = _MovedAside(note)
    logger.warning("%s", note)
    return True


#: What a path is, when it is neither a regular file nor a folder (stat.S_IFMT's kinds).
_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _not_a_file(db_path: Path) -> str | None:
    """What `db_path` is (through links) when it is no regular file, folder or nothing, else
    None. Checked before anything opens it: a pipe opened for reading (SQLite's read-only
    probe, _is_database) waits for a writer for ever, and SQLite itself says only "disk I/O
    error" or "unable to open database file" of the rest."""
    try:
        mode = os.stat(db_path).st_mode
    except OSError:  # not there yet (made), or not reachable: SQLite's error says which
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _side_not_a_file(db_path: Path) -> tuple[Path, str] | None:
    """A -wal, -shm or -journal path beside the database that is there but no regular file,
    and what it is. SQLite opens them itself: a pipe there waited for a writer for ever (a
    -journal, when SQLite looks for a hot journal), failed with "disk I/O error" (a -shm) or
    was unlinked without a word (a -wal)."""
    for suffix in SIDE_FILES[1:]:
        side = Path(f"{db_path}{suffix}")
        try:
            mode = os.stat(side).st_mode
        except OSError:  # none (the usual case), or not reachable: SQLite's error says which
            continue
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else _KINDS.get(stat.S_IFMT(mode))
            return side, kind or "not a regular file"
    return None


def _side_error(db_path: Path, side: Path, kind: str, naming: DatabaseNaming) -> str:
    fix = (
        f"remove {side} (SQLite makes its {side.name.removeprefix(db_path.name)} file there "
        "itself; the database is left as it is)"
    )
    if naming.named_by_setting:
        return (
            f"OCP_DB_PATH names {db_path}, beside which {side.name} is {kind}, not a file: "
            f"{fix}, or set OCP_DB_PATH to another path."
        )
    return f"the OCP database at {db_path} has {side.name} beside it, which is {kind}: {fix}."


def _not_a_file_error(db_path: Path, kind: str, naming: DatabaseNaming) -> str:
    if naming.named_by_setting:
        return (
            f"OCP_DB_PATH names {db_path}, which is {kind}, not a file: set OCP_DB_PATH to "
            "the OCP database file's path (a new one is made where none is), or unset it "
            "for <workspace>/.ocp/ocp.db."
        )
    return (
        f"the OCP database at {db_path} is {kind}, not a file: move it aside (a new "
        "database is made there), or set OCP_DB_PATH to a file's path."
    )


def _unwritable(db_path: Path, exc: sqlite3.OperationalError) -> DatabaseError | None:
    """An intact database SQLite could not open for writing (its -wal and -shm files are made
    beside it): a read-only filesystem or folder, not a damaged file; None when it is not."""
    cause = getattr(exc, "sqlite_errorname", "")
    if not cause.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY")):
        return None
    try:
        with open(db_path, "rb") as file:
            intact = file.read(16) == b"SQLite format 3\0"
    except OSError:
        return None
    # access() also answers EROFS on a read-only filesystem, for root too
    if not intact or (os.access(db_path.parent, os.W_OK) and os.access(db_path, os.W_OK)):
        return None
    return DatabaseError(
        f"the OCP database at {db_path} is not writable ({exc}): its folder or file is "
        "read-only (a read-only filesystem, or permissions). It is intact, session memory "
        "included: make that folder writable, or set OCP_DB_PATH to a writable place."
    )


def _sqlite_header(db_path: Path) -> bool:
    try:
        with open(db_path, "rb") as file:
            return file.read(16) == b"SQLite format 3\0"
    except OSError:
        return True  # unknown: told as a damaged database


def _unreadable(db_path: Path, exc: sqlite3.DatabaseError, naming: DatabaseNaming) -> DatabaseError:
    if naming.named_by_setting and not _sqlite_header(db_path):
        # Not a damaged OCP database but another file named by mistake (notes, a config):
        # "move it aside and index again" would lose track of it.
        return DatabaseError(
            f"OCP_DB_PATH names {db_path}, which is not an SQLite database ({exc}): its "
            "content is left as it is. Set OCP_DB_PATH to the OCP database's path, or to a "
            "new file's path (one is made), or unset it for <workspace>/.ocp/ocp.db."
        )
    # An SQLite database with damaged pages (a file cut short, overwritten in places): left
    # where it is, as its memory may be recovered from it; one with no header is moved aside
    # by connect() (_moved_aside) unless OCP_DB_PATH names it.
    return DatabaseError(
        f"the OCP database at {db_path} is unreadable ({exc}): it is an SQLite database "
        "with damaged pages (cut short, or overwritten in places). It holds the index, which "
        "`ocp-server index` builds again, and the session memory saved with "
        f"{naming.save_tool}, which is lost with it unless recovered from the file "
        f"(`sqlite3 {db_path} .recover`): move it aside (with its -wal/-shm files) and run "
        "`ocp-server index` again."
    )
