"""A restore leaves the routing proxy's traces out without reading them: whether a row is the
proxy's is a column (m038), which the partial index of notable routes leaves out. Before,
each notable row's JSON was parsed to tell, one parse a row at every restore."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from ocp_server.db import connect
from ocp_server.memory import MemoryStore
from ocp_server.memory.queries import NOTABLE, TRACES
from ocp_server.migrations import m038_traces_proxied
from ocp_server.proxy.recorder import Attempted, ProxyRecord, Recorder
from tests.server.memory_fixtures import database_before
from tests.server.traces import TraceChanges, trace

PAID: TraceChanges = {"route_to": "paid", "decision": "paid", "answered_by": "paid"}


def _proxied(n: int) -> ProxyRecord:
    """A request the proxy relayed to the paid tier: a notable route, were it the agent's."""
    return ProxyRecord(
        id=f"proxy{n:06d}",
        started_at=1_000.0 + n,
        dialect="anthropic",
        client="claude-cli",
        session="machine",
        stream=False,
        requested_model="claude-opus-4",
        tier="top",
        answered_tier="top",
        model="claude-opus-4",
        backend="anthropic",
        reason="hard",
        cost_usd=0.01,
        status=200,
        attempts=[Attempted("top", "anthropic", "claude-opus-4", "ok", 100.0, cost_usd=0.01)],
    )


async def _store(path: Path, proxied: int) -> None:
    """`proxied` rows as the proxy writes them, then one route of the agent's own."""
    db = await connect(path)
    try:
        store = MemoryStore(db, clock=lambda: 900_000.0)
        recorder = Recorder(store, "/ws")
        recorder.start()
        for n in range(proxied):
            recorder.add(_proxied(n))
        await recorder.aclose()
        assert recorder.written == proxied
        sid = await store.start_session("/ws")
        await store.record_trace(sid, trace("own-route", **PAID))
    finally:
        await db.close()


async def _restore_watched(path: Path) -> tuple[list[str], set[tuple[str, str]], int]:
    """A fresh server's restore: the traces it lists, the columns its statements read and
    the virtual machine's steps it took."""
    db = await connect(path)
    read: set[tuple[str, str]] = set()
    steps = 0

    def authorize(action: int, table: str | None, column: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table and column:
            read.add((table, column))
        return sqlite3.SQLITE_OK

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    try:
        store = MemoryStore(db, clock=lambda: 900_000.0)
        await db.set_authorizer(authorize)
        await db.set_progress_handler(step, 1)
        brief = await store.restore(max_tokens=100_000)
    finally:
        await db.close()
    return [t.id for t in brief.traces], read, steps


async def test_a_restore_reads_no_trace_json_and_does_no_more_work_for_more_proxied_rows(
    tmp_path: Path,
) -> None:
    few, many = tmp_path / "few.db", tmp_path / "many.db"
    await _store(few, 10)
    await _store(many, 600)
    listed_few, read_few, steps_few = await _restore_watched(few)
    listed_many, read_many, steps_many = await _restore_watched(many)
    assert listed_few == listed_many == ["own-route"]
    assert ("traces", "trace_json") not in read_few | read_many
    # The proxy's rows are not in the index the brief reads routes by: 590 more of them cost
    # it not one step (each cost a JSON parse and some twenty steps before).
    assert steps_many == steps_few


async def test_the_brief_reads_its_routes_by_the_index_that_leaves_the_proxy_out(
    tmp_path: Path,
) -> None:
    db = await connect(tmp_path / "ocp.db")
    try:
        plan = await db.execute_fetchall(
            f"EXPLAIN QUERY PLAN SELECT id FROM traces WHERE {TRACES} "
            "ORDER BY created_at DESC, rowid DESC LIMIT 10",
            {"ex": ""},
        )
        (index,) = await db.execute_fetchall(
            "SELECT sql FROM sqlite_master WHERE name = 'traces_notable'"
        )
    finally:
        await db.close()
    assert any("USING INDEX traces_notable" in str(row[3]) for row in plan), plan
    assert f"WHERE {NOTABLE}" in " ".join(str(index[0]).split())


async def _old_row(db: aiosqlite.Connection, trace_id: str, trace_json: str) -> None:
    await db.execute(
        "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
        "decided_by, model, backend, task_type, complexity, prompt_tokens, completion_tokens, "
        "duration_ms, cost_usd, trace_json, answered_by) VALUES (?, 's', 2.0, '', 'paid', "
        "'local', 'hard', 'm', 'b', 'debug', 0.5, 1, 1, 1.0, 0.01, ?, 'paid')",
        (trace_id, trace_json),
    )


async def test_m038_marks_the_proxy_rows_stored_before_it_by_their_json(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await database_before(path, m038_traces_proxied)
    await _old_row(old, "proxy-row", '{"source": "proxy", "client": "curl"}')
    # An MCP route whose request quotes the proxy's words: its JSON's source is not "proxy".
    await _old_row(old, "quoting-row", '{"request": "\\"source\\": \\"proxy\\""}')
    await _old_row(old, "mcp-row", '{"trace_id": "mcp-row"}')
    await _old_row(old, "not-json", '"source": "proxy" (cut)')
    await old.close()

    db = await connect(path)  # migrates the rest
    try:
        rows = await db.execute_fetchall("SELECT id, proxied FROM traces ORDER BY id")
        brief = await MemoryStore(db, clock=lambda: 3.0).restore(max_tokens=100_000)
    finally:
        await db.close()
    assert [tuple(r) for r in rows] == [
        ("mcp-row", 0),
        ("not-json", 0),
        ("proxy-row", 1),
        ("quoting-row", 0),
    ]
    assert sorted(t.id for t in brief.traces) == ["mcp-row", "not-json", "quoting-row"]
