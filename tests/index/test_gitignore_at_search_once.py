"""A .gitignore edit that changes nothing (a comment) re-indexes once, not at every search."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex


async def test_a_gitignore_edit_that_changes_nothing_updates_once(workspace: Path) -> None:
    index = await WorkspaceIndex.open(workspace, workspace.parent / "db" / "ocp.db")
    await index.update()
    try:
        with (workspace / ".gitignore").open("a") as f:
            f.write("# a comment\n")
        now = time.time()
        os.utime(workspace / ".gitignore", (now, now))
        first = await index.search("verify token", refresh=True)
        second = await index.search("verify token", refresh=True)
        third = await index.search("verify token", refresh=True)
        assert "re-indexed first" in (first.note or ""), first.note
        assert "re-indexed first" not in (second.note or ""), second.note
        assert "re-indexed first" not in (third.note or ""), third.note
    finally:
        await index.close()
