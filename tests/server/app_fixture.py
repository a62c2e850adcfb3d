"""The server's AppState over the workspace fixture, for tests that call its tools in-process
without the MCP framing (a pytest plugin, see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.app import AppState
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import Workspace
from tests.fakes import FakeOllama


@pytest.fixture
async def app(
    workspace: Path, fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AppState]:
    """The app, its database beside the workspace (`workspace.parent / "ocp.db"`)."""
    monkeypatch.setenv("OCP_OLLAMA_URL", fake_ollama.url)
    settings = ServerSettings(workspace=workspace, db_path=workspace.parent / "ocp.db")
    state = await AppState.create(settings)
    yield state
    await state.aclose()


async def opened(app: AppState, workspace: Path) -> Workspace:
    """The workspace opened by the app (not watched) and indexed as it is now."""
    ws = await app.workspace(workspace.resolve(), watch=False)
    await ws.index.update()
    return ws
