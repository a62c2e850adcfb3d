"""Fixtures of the server's tests that several modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from mcp import Client

from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.citations import Repo, opened_repo
from tests.server.inproc import PaidServer, inproc_client, paid_env


@pytest.fixture
def paid_server(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> PaidServer:
    def opened(env: dict[str, str] | None = None) -> AbstractAsyncContextManager[Client]:
        paid = {**paid_env(fake_ollama, fake_anthropic), **(env or {})}
        return inproc_client(workspace, monkeypatch, paid)

    return opened


@pytest.fixture
async def repo(workspace: Path) -> AsyncIterator[Repo]:
    """The citation tests' workspace, indexed, with a memory store (a module may narrow it)."""
    async with opened_repo(workspace) as opened:
        yield opened
