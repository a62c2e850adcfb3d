"""The effort (thinking) a route's caller asked is a column of `traces` (m049): the route
tool's `effort`, the proxy's `output_config.effort` or `reasoning_effort`, and, for the route
tool's rows stored before, what their trace's JSON says."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from ocp_server.db import connect
from ocp_server.migrations import m049_traces_effort
from tests.fakes import FakeOllama
from tests.server.local_routes import route_locally
from tests.server.memory_fixtures import database_before


def _efforts(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT decided_by, effort FROM traces ORDER BY created_at")
        return [(str(r[0]), r[1]) for r in rows]


async def test_a_routes_effort_is_stored_in_its_traces_column(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOllama(capabilities=["completion", "tools", "thinking"]) as thinker:
        await route_locally(workspace, monkeypatch, thinker, effort="high")
        await route_locally(workspace, monkeypatch, thinker)
    assert [e for _, e in _efforts(workspace.parent / "ocp.db")] == ["high", None]


async def _old_row(db: aiosqlite.Connection, trace_id: str, trace_json: str, proxied: int) -> None:
    await db.execute(
        "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
        "decided_by, model, backend, task_type, complexity, prompt_tokens, completion_tokens, "
        "duration_ms, cost_usd, trace_json, answered_by, proxied) VALUES (?, 's', 2.0, '', "
        "'local', 'local', ?, 'm', 'b', 'debug', 0.5, 1, 1, 1.0, 0.0, ?, 'local', ?)",
        (trace_id, trace_id, trace_json, proxied),
    )


async def test_m049_fills_the_effort_of_the_route_tools_rows_stored_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = await database_before(path, m049_traces_effort)
    await _old_row(old, "asked-high", '{"trace": {"effort": "high"}}', 0)
    await _old_row(old, "asked-none", '{"trace": {"effort": null}}', 0)
    await _old_row(old, "not-json", '{"trace": {"effort": "high"', 0)
    await _old_row(old, "proxied", '{"source": "proxy", "trace": {"effort": "high"}}', 1)
    await old.close()
    db = await connect(path)  # migrates the rest
    try:
        rows = await db.execute_fetchall("SELECT id, effort FROM traces ORDER BY id")
    finally:
        await db.close()
    assert [tuple(r) for r in rows] == [
        ("asked-high", "high"),
        ("asked-none", None),
        ("not-json", None),
        ("proxied", None),  # the proxy kept no effort before m049: its JSON's is not one
    ]
