"""The watcher under the things users do to a workspace while it runs: the workspace folder
deleted and made again, the OS's watch limit reached."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import watchfiles
from watchfiles._rust_notify import RustNotify

from ocp_server.index import watched as watched_module
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.watching import found, watched, watcher_running


async def test_a_workspace_deleted_and_made_again_is_watched_again(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def alpha_before():\n    pass\n")
    async with watched(ws, tmp_path / "db" / "ocp.db") as index:
        shutil.rmtree(ws)  # a `rm -rf` and a fresh clone: the old folder's watches are gone
        async with asyncio.timeout(60):
            while (await index.status()).watcher != "retrying":
                await asyncio.sleep(0.05)
        # Said so in the status meanwhile, rather than "watching" a folder that is no more.
        assert "was deleted" in str((await index.status()).watcher_error)
        ws.mkdir()
        (ws / "b.py").write_text("def beta_after():\n    pass\n")
        async with asyncio.timeout(60):
            while "b.py" not in await found(index, "beta_after"):
                await asyncio.sleep(0.1)
            # And watched, not only indexed once: a later save is found too.
            while (await index.status()).watcher != "watching":
                await asyncio.sleep(0.05)
            (ws / "c.py").write_text("def gamma_later():\n    pass\n")
            while "c.py" not in await found(index, "gamma_later"):
                await asyncio.sleep(0.1)
        assert await found(index, "alpha_before") == set()


# What watchfiles 1.3 raises when inotify_add_watch fails with ENOSPC, as seen with
# `unshare -Ur` and /proc/sys/user/max_inotify_watches lowered to 10 in that namespace.
LIMIT = (
    'OS file watch limit reached. about ["{path}"] '
    '(Error {{ kind: MaxFilesWatch, paths: ["{path}"] }})'
)


async def test_the_os_watch_limit_reached_falls_back_to_polling_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    polled: list[bool] = []

    def limited(paths: list[str], *args: Any, **kwargs: Any) -> Any:
        force_polling = args[1] if len(args) > 1 else kwargs["force_polling"]
        polled.append(bool(force_polling))
        if not force_polling:  # inotify is out of watches; polling needs none
            raise OSError(LIMIT.format(path=paths[-1]))
        return RustNotify(paths, *args, **kwargs)

    monkeypatch.setattr(watchfiles.main, "RustNotify", limited)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def alpha():\n    pass\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "db" / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(60):
            while (await index.status()).watcher != "polling":
                await asyncio.sleep(0.05)
            (ws / "b.py").write_text("def beta_polled():\n    pass\n")
            while "b.py" not in await found(index, "beta_polled"):
                await asyncio.sleep(0.1)
        status = await index.status()
        assert status.watcher == "polling"
        assert "max_user_watches" in str(status.watcher_error)
        assert polled[0] is False and polled[-1] is True


def test_only_the_watch_limit_counts_as_the_watch_limit() -> None:
    assert watched_module.watch_limit_reached(OSError(LIMIT.format(path="/w")))
    assert watched_module.watch_limit_reached(OSError("Too many open files (os error 24)"))
    assert not watched_module.watch_limit_reached(OSError("No space left on device"))
    assert not watched_module.watch_limit_reached(FileNotFoundError("No path was found."))


async def test_polling_tries_file_watches_again_and_watches_once_they_are_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocp_server.index import workspace_watch

    out_of_watches = [True]  # until another program lets its watches go

    def limited(paths: list[str], *args: Any, **kwargs: Any) -> Any:
        force_polling = args[1] if len(args) > 1 else kwargs["force_polling"]
        if not force_polling and out_of_watches[0]:
            raise OSError(LIMIT.format(path=paths[-1]))
        return RustNotify(paths, *args, **kwargs)

    monkeypatch.setattr(watchfiles.main, "RustNotify", limited)
    monkeypatch.setattr(workspace_watch, "INOTIFY_RETRY_S", 0.2)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def alpha():\n    pass\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "db" / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(60):
            while (await index.status()).watcher != "polling":
                await asyncio.sleep(0.05)
            # tried again meanwhile (each try an update), still out of watches: polling
            # throughout, never "starting" while a try is under way
            seen = set()
            for _ in range(50):
                seen.add((await index.status()).watcher)
                await asyncio.sleep(0.01)
            assert seen == {"polling"}
            out_of_watches[0] = False
            while (await index.status()).watcher != "watching":
                await asyncio.sleep(0.05)
            assert (await index.status()).watcher_error is None
            (ws / "b.py").write_text("def beta_watched():\n    pass\n")
            while "b.py" not in await found(index, "beta_watched"):
                await asyncio.sleep(0.1)
