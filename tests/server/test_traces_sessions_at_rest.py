"""Traces and session ids stored before their rules are redacted at rest: a proxy trace whose
`trace_json` holds an upstream's error quoting a key, a client's model name holding a token
(m023), and a session id holding a token from before `CallerId` refused one, a primary key
other rows point to (m024). A session's workspace is stored redacted from now on too.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import json
from pathlib import Path

import aiosqlite

from ocp_server.db import connect
from ocp_server.index.terms import body_terms
from ocp_server.memory import MemoryStore
from ocp_server.migrations import (
    MIGRATIONS,
    m023_traces_redacted,
    m024_session_ids_redacted,
    migrate,
)
from tests.server.at_rest import database_bytes

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = f"ghp_{BODY}"
ANT_BODY = "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2
ANT = f"sk-ant-api03-{ANT_BODY}"
GHP_MARK = "[REDACTED:github_token]"
NEW = (m023_traces_redacted, m024_session_ids_redacted)


def _held(raw: bytes) -> list[str]:
    return [s for s in (BODY, ANT_BODY) if s.encode() in raw or s.lower().encode() in raw]


_TRACE = (
    "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, decided_by, "
    "model, backend, task_type, complexity, prompt_tokens, completion_tokens, duration_ms, "
    "trace_json, answered_by) VALUES (?, ?, ?, '', 'none', 'paid', ?, ?, 'anthropic', "
    "'explain', 0.2, 1, 1, 1.0, ?, NULL)"
)


async def _old_database(path: Path) -> None:
    """A database as a server before m023 and m024 left it."""
    db = await aiosqlite.connect(path, isolation_level=None)
    await migrate(db, tuple(m for m in MIGRATIONS if m not in NEW))
    error = f'401 {{"error": {{"message": "invalid x-api-key: {ANT}"}}}}'
    detail = {
        "source": "proxy",
        "client": "claude-cli/2.0",
        "model": f"claude-3-5-haiku-{GHP}",
        "reason": "forced",
        "error": error,
        "attempts": [{"backend": "anthropic", "model": "m", "error": error}],
        "notes": [f"relay failed: {error}"],
        "cost_usd": 0.0,
    }
    await db.execute("INSERT INTO sessions VALUES (?, ?, 1.0, NULL, NULL)", ("s", f"/srv/a{GHP}"))
    secret_id = f"feature{GHP}"
    await db.execute(
        "INSERT INTO sessions VALUES (?, '/ws', 1.0, NULL, 'mirror work')", (secret_id,)
    )
    # the id it redacts to is taken already: the renamed one gets a number after it
    await db.execute(
        "INSERT INTO sessions VALUES (?, '/ws', 1.0, NULL, NULL)", (f"feature{GHP_MARK}",)
    )
    await db.execute("BEGIN")
    for n in range(1200):  # more than a batch
        await db.execute(_TRACE, (f"p{n}", "s", 2.0 + n, "classifier", "m", '{"source": "proxy"}'))
    await db.execute("COMMIT")
    await db.execute(
        _TRACE, ("t-last", secret_id, 9000.0, f"upstream: {error}", f"m{GHP}", json.dumps(detail))
    )
    await db.execute(
        "INSERT INTO route_attempts VALUES ('t-last', 0, 9000.0, 'paid', 'anthropic', ?, "
        "'error', 1.0, NULL)",
        (f"m{GHP}",),
    )
    await db.execute(
        "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
        "VALUES (?, 3.0, 'note', 'the mirror pulls nightly', 3.0)",
        (secret_id,),
    )
    await db.execute(
        "INSERT INTO decisions (session_id, created_at, title, decision, renewed_at) "
        "VALUES (?, 4.0, 'Mirror', 'pull nightly', 4.0)",
        (secret_id,),
    )
    await db.execute("INSERT INTO state VALUES ('mirror', 1, 'nightly', ?, 5.0)", (secret_id,))
    await db.execute(
        "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('session', ?, ?)",
        (secret_id, body_terms("mirror work")),
    )
    await db.execute(
        "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), 'session', ?)",
        (secret_id,),
    )
    await db.close()


async def test_traces_and_session_ids_stored_before_their_rules_are_redacted_in_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    await _old_database(path)
    assert _held(database_bytes(path)) == [BODY, ANT_BODY]

    async with aiosqlite.connect(path, isolation_level=None) as upgrade:
        await upgrade.execute("PRAGMA secure_delete = OFF")  # the migrations must not count on it
        assert await migrate(upgrade) == ["m023_traces_redacted", "m024_session_ids_redacted"]
    db = await connect(path)
    (trace_json, session, reason, model), *_ = await db.execute_fetchall(
        "SELECT trace_json, session_id, decided_by, model FROM traces WHERE id = 't-last'"
    )
    refs = {
        table: [r[0] for r in await db.execute_fetchall(f"SELECT session_id FROM {table}")]
        for table in ("notes", "decisions", "state")
    }
    fts = await db.execute_fetchall("SELECT ref_id FROM memory_refs WHERE kind = 'session'")
    sessions = await db.execute_fetchall("SELECT id, workspace FROM sessions ORDER BY rowid")
    brief = await MemoryStore(db, clock=lambda: 10.0).restore(query="mirror work")
    await db.close()

    renamed = f"feature{GHP_MARK}-2"
    assert list(sessions) == [
        ("s", f"/srv/a{GHP_MARK}"),
        (renamed, "/ws"),
        (f"feature{GHP_MARK}", "/ws"),
    ]
    assert session == renamed
    assert refs == {"notes": [renamed], "decisions": [renamed], "state": [renamed]}
    assert list(fts) == [(renamed,)]
    assert [s.summary for s in brief.sessions] == ["mirror work"]
    detail = json.loads(trace_json)
    assert (
        detail["error"]
        == '401 {"error": {"message": "invalid x-api-key: [REDACTED:anthropic_key]"}}'
    )
    assert detail["model"] == f"claude-3-5-haiku-{GHP_MARK}"
    assert detail["attempts"][0]["error"] == detail["error"]
    assert "[REDACTED:anthropic_key]" in reason
    assert model == f"m{GHP_MARK}"
    assert _held(database_bytes(path)) == []


async def test_a_session_stores_its_workspace_redacted(tmp_path: Path) -> None:
    path = tmp_path / "ocp.db"
    db = await connect(path)
    store = MemoryStore(db, clock=lambda: 1.0)
    sid = await store.start_session(f"/srv/backup{GHP}/app")
    rows = await db.execute_fetchall("SELECT workspace FROM sessions WHERE id = ?", (sid,))
    await db.close()
    assert list(rows) == [(f"/srv/backup{GHP_MARK}/app",)]
    assert _held(database_bytes(path)) == []
