"""A file that keeps changing (a log appended ten times a second) costs the watcher a pass
every few seconds while it does, and one when it settles, not one every debounce (300 ms: 96
passes in 20 s). A file edited once is indexed at the next debounce, as before."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ocp_server.index.hot_files import HOT_EVERY_S, HOT_GAP_S, HOT_STREAK, HotFiles
from ocp_server.index.models import IndexSummary
from tests.index.watching import found, watched

APPENDS = 60  # ten a second: six seconds of a file that keeps changing


async def test_a_file_appended_ten_times_a_second_is_indexed_every_few_seconds_and_settled(
    workspace: Path, tmp_path: Path
) -> None:
    async with watched(workspace, tmp_path / "hot.db") as index:
        passes: list[object] = []
        update = index.update

        async def counted(*args: Any, **kwargs: Any) -> IndexSummary | None:
            passes.append(None)
            return await update(*args, **kwargs)

        index.update = counted  # type: ignore[method-assign]
        log = workspace / "events_log.py"
        for n in range(APPENDS):
            with log.open("a") as f:
                f.write(f"def event_{n}():\n    return {n}\n")
            await asyncio.sleep(0.1)
        last = f"event_{APPENDS - 1}"
        async with asyncio.timeout(60):  # settled: its last lines are indexed, unasked
            while "events_log.py" not in await found(index, last):
                await asyncio.sleep(0.1)
        # three passes before the file counts as hot, one per HOT_EVERY_S then, one settled
        # (the old watcher took one per debounce: about twenty here)
        assert len(passes) <= HOT_STREAK + APPENDS / 10 / HOT_EVERY_S + 2, len(passes)


async def test_a_file_edited_once_after_a_hot_one_is_indexed_at_once(
    workspace: Path, tmp_path: Path
) -> None:
    async with watched(workspace, tmp_path / "hot.db") as index:
        log = workspace / "events_log.py"
        for n in range(3 * HOT_STREAK):  # hot now
            with log.open("a") as f:
                f.write(f"def event_{n}():\n    return {n}\n")
            await asyncio.sleep(0.1)
        passes: list[object] = []
        update = index.update

        async def counted(*args: Any, **kwargs: Any) -> IndexSummary | None:
            passes.append(None)
            return await update(*args, **kwargs)

        index.update = counted  # type: ignore[method-assign]
        (workspace / "edited_once.py").write_text("def edited_once():\n    return 1\n")
        async with asyncio.timeout(30):
            while "edited_once.py" not in await found(index, "edited_once"):
                await asyncio.sleep(0.05)
        assert passes, "indexed by a pass of its own, not left to the hot file's"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_only_a_file_changing_in_a_streak_waits_and_never_longer_than_hot_every_s() -> None:
    clock = Clock()
    hot = HotFiles(clock)
    waits = []
    for _ in range(HOT_STREAK + 3):
        waits.append(hot.wait(["log.txt"]))
        if waits[-1] == 0.0:
            hot.passed()
        clock.now += 0.3
    assert waits[: HOT_STREAK - 1] == [0.0] * (HOT_STREAK - 1)
    assert all(0.0 < w <= HOT_EVERY_S for w in waits[HOT_STREAK - 1 :]), waits
    # another file changing with it: indexed now
    assert hot.wait(["log.txt", "src/app.py"]) == 0.0
    # the hot file quiet for a while, then changed: its streak starts again
    clock.now += HOT_GAP_S + 0.1
    assert hot.wait(["log.txt"]) == 0.0
