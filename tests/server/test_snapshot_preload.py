"""A server's open workspace reads its snapshot ahead of the first search (workspaces.py,
WorkspaceIndex.preload): the first search finds it read, an index written since is still
what a search answers from, and a first build is not read ahead."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import Workspace, close_workspace, open_workspace, stop_workspace


async def _settled(ws: Workspace) -> None:
    """Until the watcher's first update is done and the snapshot read (or not)."""
    for _ in range(500):
        if ws.index.watcher_state in ("watching", "polling", "standby") and not any(
            t.get_name().startswith("snapshot ") for t in asyncio.all_tasks()
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the workspace did not settle: {ws.index.watcher_state}")


async def _opened(folder: Path, db: Path) -> Workspace:
    return await open_workspace(ServerSettings(db_path=db), folder, "session", watch=True)


async def _closed(ws: Workspace) -> None:
    stop_workspace(ws)
    await close_workspace(ws)


def _project(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "refund.py").write_text("def compute_refund(order):\n    return order.total\n")
    return folder, tmp_path / "ocp.db"


async def test_the_first_search_finds_the_snapshot_read(tmp_path: Path) -> None:
    folder, db = _project(tmp_path)
    async with await WorkspaceIndex.open(folder, db) as index:
        await index.update()
    ws = await _opened(folder, db)
    try:
        await _settled(ws)
        assert ws.index.snapshots.loads == {"full": 1}  # no search yet
        found = await ws.index.search("compute refund", refresh=False)
        assert ws.index.snapshots.loads == {"full": 1}  # the search read none of its own
    finally:
        await _closed(ws)
    assert [r.path for r in found.results] == ["refund.py"]


async def test_an_index_written_after_the_snapshot_was_read_is_what_a_search_answers_from(
    tmp_path: Path,
) -> None:
    folder, db = _project(tmp_path)
    async with await WorkspaceIndex.open(folder, db) as index:
        await index.update()
    ws = await _opened(folder, db)
    try:
        await _settled(ws)
        (folder / "ledger.py").write_text("def settle_ledger(entries):\n    return entries\n")
        assert await ws.index.update() is not None  # written after the snapshot was read
        found = await ws.index.search("settle ledger", refresh=False)
    finally:
        await _closed(ws)
    assert [r.path for r in found.results] == ["ledger.py"]


async def test_a_workspace_not_indexed_yet_is_not_read_ahead(tmp_path: Path) -> None:
    folder, db = _project(tmp_path)
    ws = await _opened(folder, db)
    try:
        await _settled(ws)  # the watcher's first update is the first build
        assert not ws.index.snapshots.loads
        found = await ws.index.search("compute refund", refresh=False)
    finally:
        await _closed(ws)
    assert [r.path for r in found.results] == ["refund.py"]


async def test_a_damaged_saved_snapshot_is_read_from_the_rows_and_saved_for_the_next_start(
    tmp_path: Path,
) -> None:
    folder, db = _project(tmp_path)
    async with await WorkspaceIndex.open(folder, db) as index:
        await index.update()
    Path(f"{db}-snapshot").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)  # not a zip
    for expected in ({"full": 1}, {"saved": 1}):  # the second start reads what the first saved
        ws = await _opened(folder, db)
        try:
            await _settled(ws)
            found = await ws.index.search("compute refund", refresh=False)
            assert ws.index.snapshots.loads == expected
            await ws.index.snapshots.saved()
        finally:
            await _closed(ws)
        assert [r.path for r in found.results] == ["refund.py"]
