"""A save or restore that checks citations reads the workspace's `.ocpignore`, and matching it
asks git for `core.ignoreCase` (`git config`, a subprocess, up to 10 s): that runs in a worker
thread, and the server's other calls (a search in another window) go on meanwhile. Here a
`git` on PATH holds `git config` until the test lets it go, which only a running event loop
can do: on the loop, it was let go by nobody and gave up."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.index import git_settings
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.memory import DecisionIn, MemoryStore

HELD_AT_MOST = 100  # times 0.05 s: how long the fake `git config` waits to be let go


class HeldGit:
    """A `git` first on PATH that waits in `git config` until `release` exists (then runs the
    real git), and says in `log` whether it was let go or gave up."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.started, self.release, self.log = (folder / n for n in ("started", "release", "log"))
        real = shutil.which("git")
        assert real is not None
        script = folder / "git"
        script.write_text(
            "#!/bin/sh\n"
            'case " $* " in *" config "*)\n'
            f"  : > '{self.started}'\n"
            "  i=0\n"
            f"  while [ ! -e '{self.release}' ] && [ $i -lt {HELD_AT_MOST} ]; do\n"
            "    sleep 0.05; i=$((i + 1))\n"
            "  done\n"
            f"  if [ -e '{self.release}' ]; then echo released >> '{self.log}';"
            f" else echo 'gave up' >> '{self.log}'; fi ;;\n"
            "esac\n"
            f'exec "{real}" "$@"\n'
        )
        script.chmod(0o755)

    async def let_go_once_asked(self) -> None:
        """What the event loop does while the call runs: lets `git config` go once it waits."""
        while not self.started.exists():
            await asyncio.sleep(0.01)
        self.release.touch()

    def outcomes(self) -> list[str]:
        return self.log.read_text().split("\n")[:-1] if self.log.exists() else []


@pytest.fixture
async def memory(workspace: Path) -> AsyncIterator[MemoryStore]:
    (workspace / ".ocpignore").write_text("web/\n")
    db_path = workspace.parent / "ocp.db"
    index = await WorkspaceIndex.open(workspace, db_path)
    await index.update()
    conn = await connect(db_path)
    yield MemoryStore(conn, workspace=workspace)
    await conn.close()
    await index.close()


async def _save(memory: MemoryStore) -> None:
    sid = await memory.start_session(str(memory.workspace))
    decision = DecisionIn("Tokens", "compare in constant time", citations=("src/auth.py:6-8",))
    await memory.save(sid, decisions=[decision])


async def _restore(memory: MemoryStore) -> None:
    await memory.restore()


@pytest.mark.parametrize("call", [_save, _restore], ids=["save", "restore"])
async def test_git_asked_for_ignore_case_holds_up_no_other_call(
    memory: MemoryStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: Callable[[MemoryStore], Awaitable[None]],
) -> None:
    if call is _restore:
        await _save(memory)  # a citation for the restore to check
    held = HeldGit(tmp_path / "held-git")
    monkeypatch.setenv("PATH", f"{held.started.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(git_settings, "_CASES", {})  # asked of git again, as after a change
    letting_go = asyncio.create_task(held.let_go_once_asked())
    await call(memory)
    assert held.outcomes() and set(held.outcomes()) == {"released"}, held.outcomes()
    await letting_go
