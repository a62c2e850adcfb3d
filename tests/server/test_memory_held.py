"""Forgetting while another process holds the database (a second IDE window, a database browser,
`sqlite3` left open in a terminal): the answer names the process, and the erase finishes
once it lets go."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened
from tests.server.inproc import inproc_client, text_of
from tests.server.test_memory_at_rest import database_bytes

_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
    if sys.argv[2] == "write":
        db.execute("BEGIN IMMEDIATE")
    else:  # a read transaction: its snapshot keeps the -wal file from being truncated
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM notes").fetchall()
    print("held", flush=True)
    sys.stdin.readline()  # until the test lets go
    db.execute("ROLLBACK")
    """
)


@asynccontextmanager
async def held(db_path: Path, how: str, *more_args: str) -> AsyncIterator[subprocess.Popen[str]]:
    """Another process holding the database (`how`: "read" or "write") until the block ends,
    with `more_args` on its command line. Waited for in a thread: this process's index watcher
    may hold the write lock, and it commits only if the loop runs."""
    script = db_path.parent / "hold.py"  # a short command line: `python hold.py ocp.db ...`
    script.write_text(_HOLDER)
    holder = subprocess.Popen(
        ["python3", script.name, db_path.name, how, *more_args],
        cwd=db_path.parent,
        executable=sys.executable,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == "held\n"
        yield holder
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


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
