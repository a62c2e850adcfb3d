"""A route handed on because the local model could not be reached says so in its trace
(`local_unavailable`, not `escalated`), and the stored trace, `ocp-server stats` and old
records agree: an escalation is a model that was reached and failed (or judged too weak)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

import ocp_wire as wire
from ocp_server.db import connect
from ocp_server.migrations import MIGRATIONS, Migration, migrate
from ocp_server.savings import savings_report
from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env, text_of

LOCAL_ASK = "explain what verify_token does"


async def _route(client: Any, request: str = LOCAL_ASK) -> wire.RouteResult:
    routed = await client.call_tool("ocp_model_route", {"request": request})
    assert not routed.is_error, text_of(routed)
    return wire.RouteResult.model_validate(routed.structured_content)


async def _stored(db_path: Path) -> list[tuple[Any, ...]]:
    db = await connect(db_path)
    try:
        found = await db.execute_fetchall(
            "SELECT escalated, local_unavailable, trace_json FROM traces"
        )
        return [tuple(row) for row in found]
    finally:
        await db.close()


async def _report(db_path: Path) -> Any:
    db = await connect(db_path)
    try:
        return await savings_report(db, since=None)
    finally:
        await db.close()


async def test_a_local_model_down_handed_to_the_paid_model_is_local_unavailable(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    refused_url: str,
) -> None:
    env = paid_env(fake_ollama, fake_anthropic) | {"OCP_OLLAMA_URL": refused_url}
    async with inproc_client(workspace, monkeypatch, env) as client:
        out = await _route(client)
    assert out.answered_by == "paid" and out.trace.tier == "local"
    assert out.trace.local_unavailable and not out.trace.escalated
    assert "after escalating" not in out.note
    assert "the local model could not be reached" in out.note
    ((escalated, unavailable, stored),) = await _stored(workspace.parent / "ocp.db")
    assert (escalated, unavailable) == (0, 1)
    assert json.loads(stored)["trace"]["local_unavailable"] is True
    report = await _report(workspace.parent / "ocp.db")
    assert (report["escalations"], report["local_unavailable"]) == (0, 1)


async def test_a_local_model_down_handed_to_the_agent_is_local_unavailable(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    async with inproc_client(workspace, monkeypatch, {"OCP_OLLAMA_URL": refused_url}) as client:
        out = await _route(client)
    assert out.answered_by == "agent"
    assert out.trace.local_unavailable and not out.trace.escalated
    ((escalated, unavailable, _),) = await _stored(workspace.parent / "ocp.db")
    assert (escalated, unavailable) == (0, 1)


async def test_a_local_model_that_answered_an_error_escalated(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.fail_next(500)
    async with inproc_client(workspace, monkeypatch, paid_env(fake_ollama, fake_anthropic)) as c:
        out = await _route(c)
    assert out.answered_by == "paid"
    assert out.trace.escalated and not out.trace.local_unavailable
    assert "after escalating" in out.note
    report = await _report(workspace.parent / "ocp.db")
    assert (report["escalations"], report["local_unavailable"]) == (1, 0)


def _before(name: str) -> tuple[Migration, ...]:
    """The migrations an OCP from before `name` ran."""
    return MIGRATIONS[: [m.__name__ for m in MIGRATIONS].index(name)]


_OLD_TRACE = {"escalated": True, "decision": "local", "tier": "local"}


async def test_records_from_before_are_read_and_counted_as_they_happened(tmp_path: Path) -> None:
    """Rows an older OCP stored (escalated = 1 for a local model down too, no
    local_unavailable) are migrated: the local model down ones become local_unavailable."""
    path = tmp_path / "ocp.db"
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        # the schema before local_unavailable
        await migrate(db, _before("m034_local_unavailable"))
        await db.execute(
            "INSERT INTO sessions (id, workspace, started_at) VALUES ('s', '/w', ?)", (time.time(),)
        )
        attempts: dict[str, list[tuple[str, str, str | None]]] = {
            "down-agent": [("local", "error", "BackendUnavailable")],
            "down-paid": [("local", "error", "BackendUnavailable"), ("mid", "ok", None)],
            "error-paid": [("local", "error", "BackendResponseError"), ("mid", "ok", None)],
        }
        for trace_id, tried in attempts.items():
            answered = "mid" if trace_id.endswith("paid") else None
            route_to = "paid" if answered else "agent"
            await db.execute(
                "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
                "decided_by, model, backend, task_type, complexity, prompt_tokens, "
                "completion_tokens, duration_ms, trace_json, answered_by, tier, answered_tier, "
                "escalated) VALUES (?, 's', ?, 'r', ?, 'local', 'heuristic', 'm', 'b', 'explain', "
                "0.1, 1, 1, 1.0, ?, ?, 'local', ?, 1)",
                (trace_id, time.time(), route_to, json.dumps({"trace": _OLD_TRACE}), route_to,
                 answered),
            )  # fmt: skip
            await db.executemany(
                "INSERT INTO route_attempts VALUES (?, ?, ?, ?, 'b', 'm', ?, 1.0, ?)",
                [(trace_id, n, time.time(), *attempt) for n, attempt in enumerate(tried)],
            )
    finally:
        await db.close()
    db = await connect(path)  # migrates the rest
    try:
        rows = await db.execute_fetchall(
            "SELECT id, escalated, local_unavailable FROM traces ORDER BY id"
        )
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    assert [tuple(r) for r in rows] == [
        ("down-agent", 0, 1),
        ("down-paid", 0, 1),
        ("error-paid", 1, 0),
    ]
    assert (report["escalations"], report["local_unavailable"]) == (1, 2)
    # an old trace's JSON, without the field, is still a trace
    old = wire.RouteTrace.model_fields
    assert not old["local_unavailable"].is_required()


def _proxy_row(local_error: str) -> dict[str, Any]:
    """A trace's JSON as the proxy stored it before it told an unreachable local model from
    one that failed: every local failure's error_type BackendUnavailable, its words in the
    attempt's `error` (proxy/local.py then)."""
    return {
        "dialect": "anthropic",
        "tier": "local",
        "answered_tier": "mid",
        "escalated": True,
        "attempts": [
            {"tier": "local", "backend": "ollama", "model": "llama3.2", "outcome": "error",
             "duration_ms": 3.0, "error": local_error, "error_type": "BackendUnavailable"},
            {"tier": "mid", "backend": "anthropic", "model": "claude-sonnet-4-6",
             "outcome": "ok", "duration_ms": 900.0, "error": None, "error_type": None},
        ],
        "source": "proxy",
    }  # fmt: skip


# What the proxy wrote for each local failure, over its history, and what it was.
_PROXY_ERRORS = {
    # could not be reached: the router's words (since the proxy used them), httpx's before
    "reach": ("cannot reach ollama at http://localhost:11434. Start it with `ollama serve`", 1),
    "connect": ("ConnectError: All connection attempts failed", 1),
    "broke": ("ollama at http://localhost:11434 broke the connection (ReadError(''))", 1),
    "remote": ("RemoteProtocolError: Server disconnected without sending a response.", 1),
    "pull": ('HTTP 404 {"error":"model \'llama3.2\' not found, try pulling it first"}', 1),
    # reached, and failed: an escalation
    "http500": ('HTTP 500 {"error":"llama runner process has terminated"}', 0),
    "timeout": ("no complete answer within 60s; raise OCP_LOCAL_TIMEOUT or use a smaller", 0),
    "read-timeout": ("ReadTimeout: timed out", 0),
    "explained-timeout": ("ollama at http://localhost:11434 did not answer in time", 0),
    "malformed": ("a line that is not JSON", 0),
    "in-stream": ("cannot allocate memory: the model needs 9 GiB", 0),
}


@pytest.mark.parametrize("before", ["m034_local_unavailable", "m037_proxy_local_unavailable"])
async def test_proxy_records_from_before_are_told_apart_by_their_local_errors(
    tmp_path: Path, before: str
) -> None:
    """The proxy's rows from before m034 (or stored before m037 on a database m034 had already
    migrated) say in each attempt's `error` what failed: those whose every local failure
    says the model could not be reached move to local_unavailable, as the proxy counts them
    now; a model that answered an error stays an escalation."""
    path = tmp_path / "ocp.db"
    await _old_proxy_rows(path, before)
    db = await connect(path)  # migrates the rest
    try:
        rows = await db.execute_fetchall(
            "SELECT id, escalated, local_unavailable, trace_json FROM traces"
        )
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    found = {r[0]: (r[1], r[2]) for r in rows}
    assert found == {k: (1 - down, down) for k, (_, down) in _PROXY_ERRORS.items()}
    down = sum(d for _, d in _PROXY_ERRORS.values())
    assert (report["escalations"], report["local_unavailable"]) == (len(found) - down, down)
    stored = {r[0]: json.loads(r[3]) for r in rows}  # the JSON says what the columns say
    assert stored["reach"]["escalated"] is False and stored["reach"]["local_unavailable"] is True
    assert stored["http500"]["escalated"] is True


# The error_type each of _PROXY_ERRORS' local attempts has once migrated: as the proxy types
# it now (proxy/local.py).
_TYPED = {
    "reach": "BackendUnavailable",
    "connect": "BackendUnavailable",
    "broke": "BackendUnavailable",
    "remote": "BackendUnavailable",
    "pull": "BackendUnavailable",
    "http500": "BackendResponseError",
    "timeout": "BackendTimeout",
    "read-timeout": "BackendTimeout",
    "explained-timeout": "BackendTimeout",
    "malformed": "BackendResponseError",
    "in-stream": "BackendResponseError",
}


@pytest.mark.parametrize(
    "before",
    ["m034_local_unavailable", "m037_proxy_local_unavailable", "m039_proxy_local_error_types"],
)
async def test_proxy_attempts_from_before_are_typed_as_the_proxy_types_them_now(
    tmp_path: Path, before: str
) -> None:
    """m037 told the rows apart but left every old local attempt BackendUnavailable, in
    route_attempts and the trace JSON: a model that answered HTTP 500 read "unavailable"
    beside its escalation."""
    path = tmp_path / "ocp.db"
    await _old_proxy_rows(path, before)
    db = await connect(path)  # migrates the rest
    try:
        attempts = await db.execute_fetchall(
            "SELECT trace_id, n, error_type FROM route_attempts ORDER BY trace_id, n"
        )
        traces = await db.execute_fetchall("SELECT id, trace_json FROM traces")
    finally:
        await db.close()
    assert {t: kind for t, n, kind in attempts if n == 0} == _TYPED
    assert {kind for _, n, kind in attempts if n == 1} == {None}
    stored = {t: json.loads(text)["attempts"] for t, text in traces}
    assert {t: tried[0]["error_type"] for t, tried in stored.items()} == _TYPED  # the same
    assert {tried[1]["error_type"] for tried in stored.values()} == {None}


async def _old_proxy_rows(path: Path, before: str) -> None:
    """A database migrated up to `before`, holding one proxy row a _PROXY_ERRORS entry, each
    with the local attempt every proxy failure was typed then (BackendUnavailable)."""
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await migrate(db, _before(before))
        await db.execute(
            "INSERT INTO sessions (id, workspace, started_at) VALUES ('s', '/w', ?)", (time.time(),)
        )
        for trace_id, (error, _) in _PROXY_ERRORS.items():
            await db.execute(
                "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
                "decided_by, model, backend, task_type, complexity, prompt_tokens, "
                "completion_tokens, duration_ms, trace_json, answered_by, tier, answered_tier, "
                "escalated) VALUES (?, 's', ?, '', 'paid', 'local', 'heuristic', 'm', 'b', "
                "'explain', 0.1, 1, 1, 1.0, ?, 'paid', 'local', 'mid', 1)",
                (trace_id, time.time(), json.dumps(_proxy_row(error))),
            )
            await db.executemany(
                "INSERT INTO route_attempts VALUES (?, ?, ?, ?, ?, ?, ?, 1.0, ?)",
                [
                    (trace_id, 0, time.time(), "local", "ollama", "llama3.2", "error",
                     "BackendUnavailable"),
                    (trace_id, 1, time.time(), "mid", "anthropic", "claude", "ok", None),
                ],
            )  # fmt: skip
    finally:
        await db.close()
