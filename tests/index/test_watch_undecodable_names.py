"""Names that are not UTF-8 in a watched workspace (a Latin-1 `café.txt` from an old archive).
watchfiles stops at any event naming one, a read included ("Unable to decode path"): a folder
of such a name listed (by the index's own listing, at every update: git's opens it), a file of
one opened by an editor, and the whole watcher failed and retried, up to every 30 s, saying in
every search that changes may be missing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ocp_server.index import watched as watched_module
from ocp_server.index.models import IndexSummary
from ocp_server.index.polled import PolledFolders
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.watching import found, watched


def _odd(folder: Path, name: bytes) -> Path:
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + name))


async def _until_found(index: WorkspaceIndex, query: str, path: str) -> None:
    async with asyncio.timeout(20):
        while path not in await found(index, query):
            await asyncio.sleep(0.05)


async def _assert_watching(index: WorkspaceIndex) -> None:
    # A new folder the watcher places its watches on again (watched.py) is "starting" until the
    # update that catches up with it returns, an update that may have indexed the file a test
    # waited for already: watching follows it, within the update's time.
    async with asyncio.timeout(20):
        while (status := await index.status()).watcher == "starting":
            await asyncio.sleep(0.05)
    assert status.watcher == "watching" and status.watcher_error is None
    assert not status.stale


@pytest.mark.parametrize("git", [False, True], ids=["plain", "git"])
async def test_names_that_are_not_utf8_leave_the_watcher_watching_and_quiet(
    tmp_path: Path, git: bool
) -> None:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "lib").mkdir()
    (ws / "src" / "a.py").write_text("def alpha():\n    pass\n")
    (ws / "lib" / "b.py").write_text("def beta():\n    pass\n")
    odd_folder = _odd(ws, b"old\xe9")  # its files are never indexed (undecodable_name)
    odd_folder.mkdir()
    (odd_folder / "x.py").write_text("y = 1\n")
    odd_file = _odd(ws / "src", b"caf\xe9.txt")
    odd_file.write_text("z\n")
    if git:  # git's listing of untracked files opens the odd folder at every update
        subprocess.run(["git", "init", "-q", str(ws)], check=True)
    async with watched(ws, tmp_path / "db" / "ocp.db") as index:
        os.listdir(odd_folder)  # read by someone else: an editor, a shell
        odd_file.read_text()
        odd_file.write_text("zz\n")  # in the same instant as a change to index
        (ws / "src" / "late.py").write_text("def saved_late():\n    pass\n")
        await _until_found(index, "saved_late", "src/late.py")
        (ws / "src" / "a.py").write_text("def alpha_again():\n    pass\n")
        await _until_found(index, "alpha_again", "src/a.py")
        # A name made after the watcher started, in a folder it watches: the event naming it
        # stops watchfiles; the changes of that instant and after are still found.
        _odd(ws / "lib", b"neu\xe9.txt").write_text("n\n")
        (ws / "lib" / "b.py").write_text("def beta_again():\n    pass\n")
        await _until_found(index, "beta_again", "lib/b.py")
        (ws / "lib" / "c.py").write_text("def gamma_later():\n    pass\n")
        await _until_found(index, "gamma_later", "lib/c.py")
        await _assert_watching(index)

        # Quiet: no update runs while nothing changes (each update's listing opening the odd
        # folder must not start the next one).
        await asyncio.sleep(2)  # the last change's update, and any echo of it, are over
        updates: list[float] = []
        update = index.update

        async def counted(*args: Any, **kwargs: Any) -> IndexSummary | None:
            updates.append(time.monotonic())
            return await update(*args, **kwargs)

        index.update = counted  # type: ignore[method-assign]
        await asyncio.sleep(4)
        assert updates == []
        await _assert_watching(index)


async def test_a_workspace_whose_own_path_is_not_utf8_is_watched_by_polling(
    tmp_path: Path,
) -> None:
    # Every path in it is one watchfiles cannot decode: its folders are polled.
    ws = _odd(tmp_path, b"\xdcbung")
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "a.py").write_text("def alpha():\n    pass\n")
    async with watched(ws, tmp_path / "db" / "ocp.db") as index:
        (ws / "src" / "b.py").write_text("def beta_new():\n    pass\n")
        await _until_found(index, "beta_new", "src/b.py")
        (ws / "src" / "new").mkdir()
        (ws / "src" / "new" / "c.py").write_text("def gamma_deeper():\n    pass\n")
        await _until_found(index, "gamma_deeper", "src/new/c.py")
        await _assert_watching(index)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="Linux's /proc names the folder")
async def test_a_workspace_whose_own_path_is_not_utf8_is_watched_by_the_os_not_polled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every folder of it was polled: each entry stat'ed every second (0.5-0.8 s a poll for
    # 3,000 folders). Watched through /proc/self/fd/<fd> (watch_alias.py), the edits are found
    # by the OS's watches and the paths told are the workspace's own.
    polled: list[tuple[str, ...]] = []

    class Recorded(PolledFolders):
        def __init__(self, folders: tuple[str, ...]) -> None:
            super().__init__(folders)
            polled.append(self.folders)

    monkeypatch.setattr(watched_module, "PolledFolders", Recorded)
    ws = _odd(tmp_path, b"\xdcbung")
    (ws / "src" / "deep").mkdir(parents=True)
    (ws / "src" / "deep" / "a.py").write_text("def alpha():\n    pass\n")
    async with watched(ws, tmp_path / "db" / "ocp.db") as index:
        (ws / "src" / "deep" / "a.py").write_text("def alpha_edited():\n    pass\n")
        await _until_found(index, "alpha_edited", "src/deep/a.py")
        (ws / "src" / "new").mkdir()
        (ws / "src" / "new" / "c.py").write_text("def gamma_deeper():\n    pass\n")
        await _until_found(index, "gamma_deeper", "src/new/c.py")
        await _assert_watching(index)
    assert polled and all(folders == () for folders in polled), polled
