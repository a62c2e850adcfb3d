"""Opening OCP's SQLite database: WAL, a busy timeout, foreign keys, migrations."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import aiosqlite

from ocp_server.migrations import migrate

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


class DatabaseError(RuntimeError):
    """The database cannot be opened or used; the message says what to do."""


async def _prepare(db: aiosqlite.Connection) -> None:
    await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await db.execute("PRAGMA foreign_keys = ON")
    rows = list(await db.execute_fetchall("PRAGMA journal_mode = WAL"))
    if rows and rows[0][0] != "wal":
        logger.warning(
            "database is in %s mode, not WAL (read-only or network filesystem?)", rows[0][0]
        )
    await db.execute("PRAGMA synchronous = NORMAL")
    await migrate(db)


def ensure_ocp_dir(db_path: Path) -> None:
    """Create the folder; an `.ocp/` folder gets a .gitignore so it is never committed."""
    folder = db_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if folder.name == ".ocp":
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# OCP's local index and memory: never commit.\n*\n", "utf-8")


async def connect(db_path: Path) -> aiosqlite.Connection:
    """Open (creating and migrating as needed). Raises DatabaseError with a fix on failure."""
    try:
        ensure_ocp_dir(db_path)
        conn = await aiosqlite.connect(db_path, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError(
            f"cannot open the OCP database at {db_path}: {exc}. Check the folder is writable, "
            "or set OCP_DB_PATH to another location."
        ) from exc
    try:
        await _prepare(conn)
    except sqlite3.DatabaseError as exc:
        await conn.close()
        raise DatabaseError(
            f"the OCP database at {db_path} is unreadable ({exc}). It only holds derived data: "
            "delete it (and its -wal/-shm files) and run `ocp-server index` again."
        ) from exc
    return conn
