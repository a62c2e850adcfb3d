"""Cited files the index may not read: one grown past OCP_MAX_FILE_BYTES is stale and
cannot be cited until it shrinks; a secret or linked-out file is refused as any file not
indexed, without telling its size; one replaced by a symlink loop is stale."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ocp_server.memory import DecisionIn, NoteIn
from ocp_server.memory.citing import CITABLE
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import close_workspace, open_workspace
from tests.server.citations import Repo


async def test_a_cited_file_grown_past_the_size_limit_is_not_read_and_its_citation_is_stale(
    workspace: Path,
) -> None:
    settings = ServerSettings(db_path=workspace.parent / "ocp.db", max_file_bytes=4_000)
    ws = await open_workspace(settings, workspace, "s1", watch=False)
    try:
        await ws.index.update()
        decisions = [DecisionIn("Token check", "constant time", citations=("verify_token",))]
        await ws.memory.save("s1", decisions=decisions)
        with (workspace / "src" / "auth.py").open("a") as grown:
            grown.write("# generated\n" * 1_000)  # the cited lines are still there, unchanged
        too_large = "src/auth.py is larger than OCP_MAX_FILE_BYTES (4,000 bytes): not read"
        for _ in range(2):  # before the index saw it grow, and after
            brief = await ws.memory.restore()
            assert brief.decisions == ()
            assert [c.change for s in brief.stale for c in s.citations] == [too_large]
            await ws.index.update()
        with pytest.raises(
            ValueError,
            match=re.escape(
                f"`notes[0].citations[0]`: {CITABLE} (got 'src/auth.py:11-21'); {too_large}"
            ),
        ):
            await ws.memory.save("s1", notes=[NoteIn("sessions", ("src/auth.py:11-21",))])
    finally:
        await close_workspace(ws)


async def test_citing_a_large_file_the_index_may_not_read_says_only_that_it_is_not_indexed(
    workspace: Path, tmp_path: Path
) -> None:
    # A secret file, or one through a link out of the workspace, is refused as any file the
    # index does not hold: the refusal must not tell whether it exists and how large it is.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "dump.log").write_text("x\n" * 3_000)
    (workspace / "logs").symlink_to(outside)
    (workspace / ".env").write_text("API_TOKEN=abc\n" * 400)
    settings = ServerSettings(db_path=workspace.parent / "ocp.db", max_file_bytes=4_000)
    ws = await open_workspace(settings, workspace, "s1", watch=False)
    try:
        await ws.index.update()
        for path in (".env", "logs/dump.log"):
            with pytest.raises(ValueError, match="is not in the workspace index"):
                await ws.memory.save("s1", notes=[NoteIn("where", (f"{path}:1-2",))])
    finally:
        await close_workspace(ws)


async def test_a_cited_file_replaced_by_a_symlink_loop_makes_its_citation_stale(
    repo: Repo,
) -> None:
    await repo.decide("src/auth.py:6-8")
    (repo.root / "src" / "auth.py").unlink()
    os.symlink("auth.py", repo.root / "src" / "auth.py")  # a link to itself
    brief = await repo.memory.restore()
    assert [s.title for s in brief.stale] == ["Token check"]
