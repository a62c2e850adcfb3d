"""The migration list builds the whole schema on an empty database, once."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from ocp_server.db import connect
from ocp_server.migrations import MIGRATIONS, migrate


async def test_migrations_build_the_full_schema_and_record_themselves(tmp_path: Path) -> None:
    db = await connect(tmp_path / "m.db")
    tables = {
        r[0]
        for r in await db.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'chunks_fts_%'"
        )
    }
    assert {"files", "chunks", "meta", "leases", "_migrations"} <= tables
    names = [r[0] for r in await db.execute_fetchall("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [m.__name__ for m in MIGRATIONS]
    mode = next(iter(await db.execute_fetchall("PRAGMA journal_mode")))[0]
    assert mode == "wal"
    assert await migrate(db) == []  # idempotent
    await db.close()


async def test_a_second_connection_does_not_migrate_again(tmp_path: Path) -> None:
    first = await connect(tmp_path / "m.db")
    second = await aiosqlite.connect(tmp_path / "m.db", isolation_level=None)
    assert await migrate(second) == []
    await first.close()
    await second.close()
