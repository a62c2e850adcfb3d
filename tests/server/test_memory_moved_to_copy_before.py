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
from tests.server.copy_fixture import (
    CHANGED,
    COPY,
    EDITED,
    HANDLE,
    HEAD,
    REFUSAL,
    copied_elsewhere_then_changed,
    handle_decision,
    moved_out,
    only_stale,
    reindexed,
    saved,
    token_decision,
)
from tests.workspace_fixture import git


async def _as_an_older_server_left_it(
    ws: Workspace, path: str, start: int, end: int, symbol: str | None = None
) -> None:
    """The citation moved to `path`:start-end (named `symbol`, when the older check renamed it
    after the copy), that file signed as checked as it is now."""
    db = ws.memory.db
    await db.execute(
        "UPDATE memory_citations SET status = 'moved', path = ?, start_line = ?, end_line = ?, "
        "moved_from = cited, symbol = coalesce(?, symbol), namesakes = NULL",
        (path, start, end, symbol),
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


async def _upgraded(
    app: AppState, ws: Workspace, path: str, start: int, end: int, symbol: str | None = None
) -> wire.RestoreResult:
    """The restore after the upgrade (m041) of what an older server left (moved to `path`)."""
    await ws.index.update()
    await _as_an_older_server_left_it(ws, path, start, end, symbol)
    await migrate(ws.memory.db)
    return await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))


async def test_a_citation_an_older_server_moved_to_a_copy_is_stale_after_the_upgrade(
    app: AppState, workspace: Path
) -> None:
    ws = await saved(app, workspace, token_decision())
    copied_elsewhere_then_changed(workspace)
    await ws.index.update()
    await _as_an_older_server_left_it(ws, "src/legacy_auth.py", 6, 8)
    before = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    assert [d.verified for d in before.decisions] == ["moved"], before.brief  # as it was
    assert await migrate(ws.memory.db) == [m041_rejudge_moved_citations.__name__]
    out = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    stale = only_stale(out)
    assert stale.citations[0].citation == "src/auth.py:6-8", out.brief
    assert CHANGED in out.brief


async def test_a_function_moved_out_of_its_file_stays_moved_after_the_upgrade(
    app: AppState, workspace: Path
) -> None:
    ws = await saved(app, workspace, token_decision())
    moved_out(workspace)
    out = await _upgraded(app, ws, "src/tokens.py", 4, 6)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "src/tokens.py:4-6"


async def test_a_citation_an_older_server_moved_to_a_renamed_copy_in_its_file_is_stale(
    app: AppState, workspace: Path
) -> None:
    # The older check found lines cited in `handle` in a copy pasted above it under another
    # name, took that name for the citation's symbol, and so, judged again from where it was
    # saved, the citation looked for `handle_v1`, found it unchanged: still moved.
    mod = workspace / "mod.py"
    mod.write_text(HEAD + HANDLE)
    ws = await saved(app, workspace, handle_decision("mod.py:5-7"))
    mod.write_text(HEAD + "# kept for the old callers\n" + COPY + "\n\n" + EDITED)
    out = await _upgraded(app, ws, "mod.py", 6, 8, "handle_v1")
    stale = only_stale(out)
    assert stale.citations[0].citation == "mod.py:5-7", out.brief
    assert f"-`{REFUSAL}` +`return None`" in out.brief, out.brief


async def test_a_citation_an_older_server_moved_to_a_copy_is_stale_once_its_file_was_renamed(
    app: AppState, workspace: Path
) -> None:
    # Judged again from where it was saved, the citation's saved file was gone (git mv):
    # not judged at all, and it stayed 'moved' into the legacy copy.
    ws = await saved(app, workspace, token_decision())
    copied_elsewhere_then_changed(workspace)
    git(workspace, "mv", "src/auth.py", "src/authn.py")
    out = await _upgraded(app, ws, "src/legacy_auth.py", 6, 8)
    stale = only_stale(out)
    assert stale.citations[0].citation.startswith("src/authn.py:"), out.brief
    assert CHANGED in out.brief


async def test_a_function_moved_out_of_a_file_renamed_since_stays_moved(
    app: AppState, workspace: Path
) -> None:
    ws = await saved(app, workspace, token_decision())
    moved_out(workspace)
    git(workspace, "mv", "src/auth.py", "src/authn.py")
    out = await _upgraded(app, ws, "src/tokens.py", 4, 6)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "src/tokens.py:4-6"


async def test_a_function_renamed_as_it_moved_in_its_file_stays_moved_beside_one_alike(
    app: AppState, workspace: Path
) -> None:
    # Judged again from where it was saved under the name of the definition most like it
    # (for an older server's rename after a copy), a citation this server had confirmed
    # moved with its function renamed was stale: `handle_admin` holds its lines changed.
    mod = workspace / "mod.py"
    admin = HANDLE.replace("def handle", "def handle_admin").replace("PermissionError", "KeyError")
    mod.write_text(HEAD + HANDLE + "\n\n" + admin)
    ws = await saved(app, workspace, handle_decision("mod.py:5-7"))
    served = HANDLE.replace("def handle", "def serve")
    for extra in ("", "\n\ndef later():\n    return 1\n"):
        mod.write_text("import settings\n\nLIMIT = 3\n\n\n" + served + "\n\n" + admin + extra)
        out = await reindexed(app, ws)
        assert [d.verified for d in out.decisions] == ["moved"], out.brief
        assert out.decisions[0].citations[0].citation == "mod.py:7-9", out.brief
