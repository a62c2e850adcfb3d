"""The database's page size: a new file takes small pages (`db.PAGE_SIZE`), one made before
keeps its own and works as it did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ocp_server.db import PAGE_SIZE, WAL_CHECKPOINT_BYTES, connect


async def test_a_new_database_takes_small_pages_and_its_empty_schema_stays_small(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / ".ocp" / "ocp.db"
    db = await connect(db_path)
    try:
        ((page_size,),) = await db.execute_fetchall("PRAGMA page_size")
        ((mode,),) = await db.execute_fetchall("PRAGMA journal_mode")
        ((pages,),) = await db.execute_fetchall("PRAGMA page_count")
        ((checkpoint_pages,),) = await db.execute_fetchall("PRAGMA wal_autocheckpoint")
    finally:
        await db.close()
    assert (page_size, mode) == (PAGE_SIZE, "wal")
    # as many WAL bytes between checkpoints as in 4 KiB pages
    assert checkpoint_pages * page_size == WAL_CHECKPOINT_BYTES
    # every table and index of the schema takes a page of its own: 1 KiB each, not 4
    assert pages * page_size < 100_000


async def test_a_database_made_with_4k_pages_keeps_them_and_migrates(tmp_path: Path) -> None:
    db_path = tmp_path / "ocp.db"
    old = sqlite3.connect(db_path)
    old.execute("PRAGMA page_size = 4096")
    old.execute("PRAGMA journal_mode = WAL")
    old.execute("CREATE TABLE kept (x)")
    old.execute("INSERT INTO kept VALUES (1)")
    old.commit()
    old.close()
    db = await connect(db_path)
    try:
        ((page_size,),) = await db.execute_fetchall("PRAGMA page_size")
        ((checkpoint_pages,),) = await db.execute_fetchall("PRAGMA wal_autocheckpoint")
        ((kept,),) = await db.execute_fetchall("SELECT x FROM kept")
        migrated = await db.execute_fetchall("SELECT count(*) FROM _migrations")
        await db.execute("INSERT INTO meta VALUES ('k', 'v')")
    finally:
        await db.close()
    assert (page_size, kept, checkpoint_pages) == (4096, 1, 1000)
    assert next(iter(migrated))[0] > 0
