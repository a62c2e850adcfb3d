"""The index's `meta` table: one text value a key (the workspace, the last update, the rules
its files and chunks were judged with, the history read, a build under way)."""

from __future__ import annotations

import aiosqlite

__all__ = ["read_meta", "write_meta"]


async def read_meta(db: aiosqlite.Connection, key: str) -> str | None:
    """The value stored under `key`, None when there is none."""
    rows = list(await db.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,)))
    return None if not rows or rows[0][0] is None else str(rows[0][0])


async def write_meta(db: aiosqlite.Connection, key: str, value: str) -> None:
    """Store `value` under `key`, over whatever was there (in the caller's transaction)."""
    await db.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
