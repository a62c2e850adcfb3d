"""A workspace whose folder's name is not UTF-8 (a Latin-1 `Übung` made by an old system, an
archive's names), over real stdio. Its path is stored (the database's workspace, the
session's) and told (the status); SQLite's text refused it ("surrogates not allowed") and
every tool call failed with that, said as an internal error."""

from __future__ import annotations

import os
from pathlib import Path

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import wait_for_index


async def test_a_workspace_whose_name_is_not_utf8_is_searched_saved_and_restored(
    tmp_path: Path, fake_ollama: FakeOllama
) -> None:
    ws = Path(os.fsdecode(os.fsencode(tmp_path) + b"/\xdcbung"))  # Latin-1 "Übung"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "auth.py").write_text("def verify_token(token):\n    return bool(token)\n")
    env = {"OCP_WORKSPACE": str(ws), "OCP_OLLAMA_URL": fake_ollama.url}  # its own .ocp/ocp.db
    async with OCPClient(env=env) as client:
        found = await wait_for_index(client, "verify token")
        assert found.results[0].citation == "src/auth.py:1-2"
        saved = await client.call("ocp_result_save", {"notes": ["tokens are checked in auth"]})
        assert not saved.is_error, tool_text(saved)
        restored = await client.call("ocp_session_restore", {})
        assert not restored.is_error and "tokens are checked in auth" in tool_text(restored)
        status = await client.index_status()
        assert status.workspace == f"{tmp_path}/\\xdcbung"  # the byte shown, not refused
        assert status.database == f"{tmp_path}/\\xdcbung/.ocp/ocp.db"
