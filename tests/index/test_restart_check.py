"""A server's first update after a restart checks every file for changes made while no server
ran; its searches answer meanwhile from the index as it was, and say that such changes may be
missing (a file changed while the server was down is not served stale silently)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ocp_server.index.workspace import WorkspaceIndex
from tests.index.watching import watcher_running


async def test_a_search_during_the_check_after_a_restart_says_changes_may_be_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "auth.py").write_text("def verify_token(token):\n    return bool(token)\n")
    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        assert await index.update() is not None
    (ws / "src" / "later.py").write_text("def zqlater():\n    pass\n")  # while no server ran
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    checked = asyncio.Event()
    update = index._indexer.update

    async def held(*args: object, **kwargs: object) -> object:
        await checked.wait()
        return await update(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index._indexer, "update", held)
    async with watcher_running(index):
        async with asyncio.timeout(30):
            while not index._lock.locked():  # the watcher's first update has begun
                await asyncio.sleep(0.02)
        found = await index.search("verify_token")
        assert [r.path for r in found.results] == ["src/auth.py"]
        assert found.note is not None and "changed while it was not running" in found.note
        checked.set()
        async with asyncio.timeout(30):
            while index.watcher_state != "watching":
                await asyncio.sleep(0.02)
        found = await index.search("zqlater")
        assert [r.path for r in found.results] == ["src/later.py"] and found.note is None
