"""The index of the workspace fixture, opened on a database of its own and closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.index.workspace import WorkspaceIndex


@pytest.fixture
async def index(workspace: Path, tmp_path: Path) -> AsyncIterator[WorkspaceIndex]:
    idx = await WorkspaceIndex.open(workspace, tmp_path / "db" / "ocp.db")
    yield idx
    await idx.close()
