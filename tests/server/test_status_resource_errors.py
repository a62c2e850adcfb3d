"""The `ocp://index/status` resource when the workspace's database cannot be opened: a
JSON-RPC error with the internal-error code (-32603, as MCP answers a server-side failure of
a resource read), its message naming the database's path and why, not code 0 (what the SDK's
low-level server makes of an exception it was not told about)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR

import ocp_wire as wire
from tests.server.inproc import inproc_client


async def test_the_status_of_a_database_that_cannot_be_opened_names_it_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("def serve():\n    return 1\n")
    db = tmp_path / "db" / "ocp.db"
    db.parent.mkdir()
    db.symlink_to(tmp_path / "unmounted" / "ocp.db")  # a link into a drive that is not there
    async with inproc_client(ws, monkeypatch, env={"OCP_DB_PATH": str(db)}) as client:
        with pytest.raises(MCPError) as raised:
            await client.read_resource(wire.STATUS_URI)
        assert raised.value.error.code == INTERNAL_ERROR
        message = raised.value.error.message
        assert str(db) in message and "unable to open database file" in message
        # the server keeps serving: the same read fails the same way, not with a crash
        with pytest.raises(MCPError) as again:
            await client.read_resource(wire.STATUS_URI)
        assert again.value.error.code == INTERNAL_ERROR
