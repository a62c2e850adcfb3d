"""A .gitignore edited since the last update is seen by the next search: a file it now
ignores is not returned, though the watcher has not re-indexed yet (the search updates
first, as it does for a cited file edited since it was indexed)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex

DRAFT = "export function draftRefund(order: string) { return order }\n"


def _later(path: Path) -> None:
    # the clock's time, not the file system's coarser one: after the update's, whatever the
    # file system's granularity
    now = time.time()
    os.utime(path, (now, now))


async def _index(workspace: Path) -> WorkspaceIndex:
    index = await WorkspaceIndex.open(workspace, workspace.parent / "db" / "ocp.db")
    await index.update()
    return index


async def test_a_file_a_root_gitignore_now_ignores_is_not_returned(workspace: Path) -> None:
    (workspace / "web" / "draft.ts").write_text(DRAFT)  # untracked, not ignored yet
    index = await _index(workspace)
    try:
        before = await index.search("draftRefund", refresh=True)
        assert [r.path for r in before.results][:1] == ["web/draft.ts"]
        with (workspace / ".gitignore").open("a") as f:
            f.write("web/draft.ts\n")
        _later(workspace / ".gitignore")
        after = await index.search("draftRefund", refresh=True)
        assert "web/draft.ts" not in [r.path for r in after.results]
    finally:
        await index.close()


async def test_a_file_a_nested_gitignore_now_ignores_is_not_returned(workspace: Path) -> None:
    (workspace / "web" / "draft.ts").write_text(DRAFT)
    index = await _index(workspace)
    try:
        assert (await index.search("draftRefund", refresh=True)).results
        (workspace / "web" / ".gitignore").write_text("draft.ts\n")
        _later(workspace / "web" / ".gitignore")
        after = await index.search("draftRefund", refresh=True)
        assert "web/draft.ts" not in [r.path for r in after.results]
    finally:
        await index.close()
