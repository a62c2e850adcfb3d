"""m006_memory on a database that already holds memories: they keep being served, with
their age as their last renewal, and the memory index keeps finding them."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from ocp_server.db import connect
from ocp_server.memory import MemoryStore
from ocp_server.migrations import MIGRATIONS, m006_memory, migrate


async def test_memories_saved_before_m006_are_restored_and_found_after_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await aiosqlite.connect(path, isolation_level=None)
    before = tuple(m for m in MIGRATIONS if m is not m006_memory)
    await migrate(old, before)
    await old.execute("INSERT INTO sessions (id, workspace, started_at) VALUES ('s', '/ws', 1.0)")
    await old.execute(
        "INSERT INTO decisions (session_id, created_at, title, decision) "
        "VALUES ('s', 2.0, 'Queue', 'use SQLite for the job queue')"
    )
    await old.execute(
        "INSERT INTO notes (session_id, created_at, kind, text) VALUES ('s', 3.0, 'note', 'x')"
    )
    await old.execute(
        "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('decision', '1', 'Queue use SQLite')"
    )
    await old.close()

    db = await connect(path)  # migrates the rest
    rows = await db.execute_fetchall(
        "SELECT (SELECT renewed_at FROM decisions), (SELECT renewed_at FROM notes), "
        "(SELECT group_concat(kind || ':' || ref_id) FROM memory_refs)"
    )
    assert tuple(next(iter(rows))) == (2.0, 3.0, "decision:1")
    store = MemoryStore(db, clock=lambda: 4.0)
    brief = await store.restore(query="sqlite queue")
    assert [(d.id, d.verified, d.renewed_at) for d in brief.decisions] == [(1, "uncited", 2.0)]
    assert brief.matched == 1
    await db.close()


async def test_the_partial_indexes_hold_the_conditions_the_brief_reads_by(tmp_path: Path) -> None:
    """SQLite uses a partial index only for a query whose condition implies the index's: the
    brief's section conditions (memory/queries.py) and the indexes must stay the same text."""
    from ocp_server.memory import queries

    db = await connect(tmp_path / "ocp.db")
    rows = await db.execute_fetchall(
        "SELECT name, sql FROM sqlite_master WHERE name IN ('notes_shown', 'traces_notable')"
    )
    await db.close()
    sql = {str(name): " ".join(str(text).split()) for name, text in rows}
    assert f"WHERE {queries.NOTE_KINDS}" in sql["notes_shown"]
    assert f"WHERE {queries.NOTABLE}" in sql["traces_notable"]
