"""A disk that refuses the write that starts a session (the first write a command or a tool call
makes when it opens the workspace): `ocp-server restore` and `stats` say so in one line, and the
server's tools answer a tool error naming the cause and keep serving. As on a full disk while
the IDE's server holds the database open (its -wal and -shm files there): here the child's
RLIMIT_FSIZE keeps the WAL from growing past one page (Python ignores SIGXFSZ, so SQLite gets
EFBIG: SQLITE_IOERR, "disk I/O error"; on a full tmpfs it is SQLITE_FULL)."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocp_server.cli import main
from tests.server.raw_server import RawServer
from tests.workspace_fixture import git

WAL_LIMIT = 1_000  # bytes: under the WAL's header and one frame (db.PAGE_SIZE 1 KB), over nothing


# The limit would cut the children's bytecode files short too (importlib keeps a partial write),
# breaking every later import of those modules: they write none.
NO_BYTECODE = {"PYTHONDONTWRITEBYTECODE": "1"}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (WAL_LIMIT, WAL_LIMIT))


@pytest.fixture
def held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Path]:
    """An indexed workspace whose database another connection holds open (its WAL empty)."""
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("def handler(request):\n    return respond(request)\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    assert main(["index", "--workspace", str(ws)]) == 0
    capsys.readouterr()
    holder = sqlite3.connect(ws / ".ocp" / "ocp.db")
    holder.execute("SELECT count(*) FROM sqlite_master").fetchall()
    assert (ws / ".ocp" / "ocp.db-wal").stat().st_size == 0
    yield ws
    holder.close()


@pytest.mark.parametrize("command", ["restore", "stats"])
def test_a_command_whose_session_the_disk_refuses_says_so_in_one_line(
    held: Path, command: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(held), command],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_BYTECODE},
        preexec_fn=_limited,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "session" in lines[0] and "disk I/O error" in lines[0]
    assert str(held / ".ocp" / "ocp.db") in lines[0] and "OCP_DB_PATH" in lines[0]


def test_a_tool_call_whose_session_the_disk_refuses_is_a_tool_error_and_the_server_serves_on(
    held: Path, tmp_path: Path
) -> None:
    raw = RawServer(
        {"OCP_WORKSPACE": str(held), "OCP_OLLAMA_URL": "http://127.0.0.1:9", **NO_BYTECODE},
        cwd=tmp_path,
        preexec=_limited,
    )
    try:
        raw.initialize()
        for tool, arguments in [
            ("ocp_context_search", {"query": "handler"}),
            ("ocp_session_restore", {}),
            ("ocp_context_search", {"query": "respond"}),
        ]:
            reply = raw.call_tool(tool, arguments)
            assert "result" in reply, reply  # not a JSON-RPC error
            result = reply["result"]
            said = result["content"][0]["text"]
            assert result["isError"], said
            assert "session" in said and "disk I/O error" in said, said
            assert str(held / ".ocp" / "ocp.db") in said and "OCP_DB_PATH" in said, said
        assert raw.rpc("ping", {})["result"] == {}
    finally:
        raw.kill()
