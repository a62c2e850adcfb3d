"""Over real stdio: a workspace whose git work tree holds a named pipe named .gitignore. git
waits on it for ever; the first search used to wait for the first build, and the build for
git's 60 s timeout, so the first results came after a minute."""

from __future__ import annotations

import os
from pathlib import Path

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env, wait_for_index


async def test_a_pipe_named_gitignore_does_not_hold_back_the_first_results(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    os.mkfifo(workspace / "src" / ".gitignore")  # never written to: git would wait for ever
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        result = await wait_for_index(client, "verify token")  # within 30 s, or fails
    assert result.results[0].citation == "src/auth.py:6-8"
    # listed without git, the root .gitignore still applied
    assert not any(r.citation.startswith(("debug.log", "node_modules")) for r in result.results)
