"""Running the real watcher in a test: started, armed, and stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ocp_server.index.models import IndexSummary
from ocp_server.index.workspace import WorkspaceIndex


async def armed(index: WorkspaceIndex, ws: Path, name: str) -> None:
    """Until a file saved now is found through the running watcher (it is armed then)."""
    while (await index.status()).last_update is None:
        await asyncio.sleep(0.05)
    *folders, file = name.split("/")
    (ws.joinpath(*folders)).mkdir(parents=True, exist_ok=True)
    (ws / name).write_text(f"def {file.removesuffix('.py')}():\n    pass\n")
    while not (await index.search(file.removesuffix(".py"), refresh=False)).results:
        await asyncio.sleep(0.1)


async def watcher_in(index: WorkspaceIndex, state: str, within: float = 30.0) -> None:
    """Until `index`'s watcher is in `state` ("watching", "retrying", "polling"…)."""
    async with asyncio.timeout(within):
        while (await index.status()).watcher != state:
            await asyncio.sleep(0.05)


@asynccontextmanager
async def watcher_running(index: WorkspaceIndex) -> AsyncIterator[asyncio.Task[None]]:
    """The task of `index`'s watcher, started (not waited for); the watcher stopped and the
    index closed after."""
    stop = asyncio.Event()
    task = asyncio.create_task(index.watch(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await index.close()


@asynccontextmanager
async def watched(ws: Path, db_path: Path) -> AsyncIterator[WorkspaceIndex]:
    """The workspace's index with its watcher running, armed, and quiet: no update is due but
    one a change made from now on brings (a test that the watcher follows a change fails when
    it does not, rather than pass on an update the arming caused)."""
    index = await WorkspaceIndex.open(ws, db_path)
    done: list[object] = []
    update = index.update

    async def counted(*args: Any, **kwargs: Any) -> IndexSummary | None:
        try:
            return await update(*args, **kwargs)
        finally:
            done.append(None)

    index.update = counted  # type: ignore[method-assign]
    async with watcher_running(index):
        async with asyncio.timeout(30):
            while len(done) < 2:  # the watcher's first update, and the one catching up after it
                await asyncio.sleep(0.05)
            # Written now, the marker is indexed by an update its event brings, and by no other:
            # once it is found, no update is due. Written again should the watcher not be
            # armed yet.
            marker = ws / "armed_marker.py"
            while True:
                marker.write_text(f"def armed_marker():\n    return {len(done)}\n")
                try:
                    async with asyncio.timeout(3):
                        while "armed_marker.py" not in await found(index, "armed_marker"):
                            await asyncio.sleep(0.05)
                    break
                except TimeoutError:
                    continue
        yield index


async def found(index: WorkspaceIndex, query: str) -> set[str]:
    """The paths a search finds without indexing first (what the watcher indexed)."""
    return {r.path for r in (await index.search(query, refresh=False)).results}
