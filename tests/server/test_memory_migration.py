"""m006_memory on a database that already holds memories: they keep being served, with
their age as their last renewal, and the memory index keeps finding them."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from ocp_server.db import connect
from ocp_server.memory import MemoryStore
from ocp_server.migrations import MIGRATIONS, m006_memory, m018_failed_cost, migrate
from tests.server.memory_fixtures import database_before


async def test_memories_saved_before_m006_are_restored_and_found_after_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await aiosqlite.connect(path, isolation_level=None)
    # (those before it only: m038 rebuilds the index m006 makes)
    await migrate(old, MIGRATIONS[: MIGRATIONS.index(m006_memory)])
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


async def test_m018_counts_the_cost_of_routes_nothing_paid_answered_as_failed_spend(
    tmp_path: Path,
) -> None:
    # Before m018 a route's cost_usd held its answer and its failed paid attempts together:
    # a local answer or no answer at all spent its whole cost on attempts that failed.
    path = tmp_path / "old.db"
    old = await database_before(path, m018_failed_cost)
    for trace_id, answered_by, tier, cost in (
        ("paid", "paid", "mid", 0.03),
        ("local", "local", "local", 0.02),
        ("none", None, None, 0.01),
        ("free", "local", "local", 0.0),
    ):
        await old.execute(
            "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
            "decided_by, model, backend, task_type, complexity, prompt_tokens, "
            "completion_tokens, duration_ms, trace_json, answered_by, answered_tier, cost_usd) "
            "VALUES (?, 's', 2.0, 'r', ?, 'paid', 'why', 'm', 'b', 'debug', 0.5, 1, 1, 1.0, "
            "'{}', ?, ?, ?)",
            (trace_id, answered_by or "none", answered_by, tier, cost),
        )
    await old.close()

    db = await connect(path)  # migrates the rest
    rows = await db.execute_fetchall(
        "SELECT id, failed_cost_usd, cost_estimated FROM traces ORDER BY id"
    )
    await db.close()
    assert [tuple(r) for r in rows] == [
        ("free", 0.0, 0),
        ("local", 0.02, 0),
        ("none", 0.01, 0),
        ("paid", 0.0, 0),
    ]


async def test_the_memory_index_merges_its_segments_two_at_a_time(tmp_path: Path) -> None:
    # (a save looks each of its items' rarest words up in every segment: m033)
    db = await connect(tmp_path / "ocp.db")
    try:
        rows = await db.execute_fetchall("SELECT v FROM memory_fts_config WHERE k = 'automerge'")
        assert [r[0] for r in rows] == [2]
    finally:
        await db.close()
