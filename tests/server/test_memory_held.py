"""Forgetting while another process holds the database (a second IDE window, a database browser,
`sqlite3` left open in a terminal): the answer names the process, and the erase finishes
once it lets go."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened
from tests.server.at_rest import database_bytes
from tests.server.held import held
from tests.server.inproc import inproc_client, text_of


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="names holders from /proc/locks")
async def test_a_forget_while_another_process_reads_names_it_and_erases_once_it_lets_go(
    app: AppState, workspace: Path
) -> None:
    word = "snorvelquist"  # nowhere else
    ws = await opened(app, workspace)
    saved = await app.save(ws, wire.SaveArgs(notes=[f"the {word} job runs nightly"]))
    db_path = workspace.parent / "ocp.db"

    def trace() -> bool:
        raw = database_bytes(db_path)
        return word.encode() in raw or word[-7:].encode() in raw

    async with held(db_path, "read") as holder:
        forgotten = await app.save(ws, wire.SaveArgs(forget_notes=saved.note_ids))
        assert forgotten.forgotten == [f"note #{saved.note_ids[0]}"]
        (warning,) = forgotten.warnings
        assert f"pid {holder.pid} (" in warning and "-wal" in warning
        assert "erased at the next" in warning
    await app.save(ws, wire.SaveArgs(notes=["an unrelated note, later"]))
    assert not trace()


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="names holders from /proc/locks")
async def test_a_forget_while_another_process_writes_says_which_process_holds_the_database(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocp_server import db

    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # how long a write waits for the lock
    async with inproc_client(workspace, monkeypatch) as client:
        saved = await client.call_tool("ocp_result_save", {"notes": ["the deploy runs at 2am"]})
        note = saved.structured_content["note_ids"][0]
        while (await client.call_tool("ocp_context_search", {"query": "x"})).structured_content[
            "index"
        ]["building"]:
            pass  # the first build writes too: lock after it
        async with held(workspace.parent / "ocp.db", "write") as holder:
            result = await client.call_tool("ocp_result_save", {"forget_notes": [note]})
        assert result.is_error
        text = text_of(result)
        assert "busy" in text and "try again" in text
        assert f"pid {holder.pid} (" in text  # what to close, or wait for
        again = await client.call_tool("ocp_result_save", {"forget_notes": [note]})
        assert not again.is_error and again.structured_content["forgotten"] == [f"note #{note}"]


TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="names holders from /proc/locks")
async def test_a_holders_command_line_is_shown_without_the_secrets_it_carries(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder's command line goes into the answer, to the agent and on to its model: a
    token passed as an argument (`--token ghp_...`) was shown as it was."""
    from ocp_server import db

    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    async with inproc_client(workspace, monkeypatch) as client:
        saved = await client.call_tool("ocp_result_save", {"notes": ["the deploy runs at 2am"]})
        note = saved.structured_content["note_ids"][0]
        while (await client.call_tool("ocp_context_search", {"query": "x"})).structured_content[
            "index"
        ]["building"]:
            pass
        db_path = workspace.parent / "ocp.db"
        async with held(db_path, "write", "--token", TOKEN) as holder:
            result = await client.call_tool("ocp_result_save", {"forget_notes": [note]})
        text = text_of(result)
        assert f"pid {holder.pid} (" in text
        assert TOKEN not in text and TOKEN[:12] not in text
