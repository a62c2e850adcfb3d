"""Older servers stored a citation as "moved" to a copy of the cited code: another file's copy
of `verify_token` while src/auth.py, still defining it, changed (fixed for new checks since).
Such a row stayed wrong: it pointed into the copy's file, signed as checked, so no restore
checked it again, and a check from the copy found the copy unchanged. Now a citation found
moved is judged again from where it was saved, and m041 has every file a moved citation
points into checked at the next restore: stale, at its saved place. A function that did move
out of its file is still followed where it went."""

from __future__ import annotations

import os
from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.migrations import m041_rejudge_moved_citations, migrate
from ocp_server.workspaces import Workspace
from tests.server.app_fixture import opened
from tests.workspace_fixture import AUTH_PY

COMPARE = "return hmac.compare_digest(token, secret)"
DECISION = {"title": "token check", "decision": "constant time", "citations": ["verify_token"]}


async def _as_an_older_server_left_it(ws: Workspace, path: str, start: int, end: int) -> None:
    """The citation moved to `path`:start-end, that file signed as checked as it is now."""
    db = ws.memory.db
    await db.execute(
        "UPDATE memory_citations SET status = 'moved', path = ?, start_line = ?, end_line = ?, "
        "moved_from = cited",
        (path, start, end),
    )
    stat = os.stat(ws.path / path)
    await db.execute("DELETE FROM memory_files")
    await db.execute(
        "INSERT INTO memory_files (path, size, mtime_ns) VALUES (?, ?, ?)",
        (path, stat.st_size, stat.st_mtime_ns),
    )
    await db.execute("UPDATE decisions SET stale = 0")
    await db.execute(
        "DELETE FROM _migrations WHERE name = ?", (m041_rejudge_moved_citations.__name__,)
    )


async def test_a_citation_an_older_server_moved_to_a_copy_is_stale_after_the_upgrade(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(decisions=[wire.DecisionArg.model_validate(DECISION)]))
    (workspace / "src" / "legacy_auth.py").write_text(AUTH_PY)  # the copy, as cited
    (workspace / "src" / "auth.py").write_text(AUTH_PY.replace(COMPARE, "return token == secret"))
    await ws.index.update()
    await _as_an_older_server_left_it(ws, "src/legacy_auth.py", 6, 8)
    before = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    assert [d.verified for d in before.decisions] == ["moved"], before.brief  # as it was
    assert await migrate(ws.memory.db) == [m041_rejudge_moved_citations.__name__]
    out = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    assert not out.decisions, out.brief
    (stale,) = out.stale
    assert stale.citations[0].citation == "src/auth.py:6-8", out.brief
    assert "return token == secret" in out.brief


async def test_a_function_moved_out_of_its_file_stays_moved_after_the_upgrade(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(decisions=[wire.DecisionArg.model_validate(DECISION)]))
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    (workspace / "src" / "tokens.py").write_text("import hmac\n\n\n" + AUTH_PY[start:end])
    (workspace / "src" / "auth.py").write_text(AUTH_PY[:start] + AUTH_PY[end:])
    await ws.index.update()
    await _as_an_older_server_left_it(ws, "src/tokens.py", 4, 6)
    await migrate(ws.memory.db)
    out = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "src/tokens.py:4-6"
