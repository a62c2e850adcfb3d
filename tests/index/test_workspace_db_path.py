"""Where a workspace's database is: OCP_DB_PATH is read by the settings alone, and the index
opened without a path uses the same `<workspace>/.ocp/ocp.db` the settings default to."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.settings import ServerSettings


async def test_an_index_opened_without_a_path_uses_the_settings_default_not_ocp_db_path(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The variable is the settings' to read: a caller that means it passes db_path_for's path.
    monkeypatch.setenv("OCP_DB_PATH", str(tmp_path / "elsewhere.db"))
    async with await WorkspaceIndex.open(workspace) as index:
        assert index.db_path == ServerSettings.from_env({}).db_path_for(workspace.resolve())
    assert not (tmp_path / "elsewhere.db").exists()
