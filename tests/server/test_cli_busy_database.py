"""Another process holding the workspace database's write lock past the busy timeout (a second
IDE window's first build, a `sqlite3` shell left in a transaction): each command says so in
one line naming the database's state and what to do, as the server's tools do, not with
sqlite3's traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocp_server import db
from ocp_server.cli import main


@pytest.mark.parametrize("command", [["status"], ["index"], ["search", "verify_token"]])
def test_a_command_on_a_database_another_process_keeps_locked_says_it_is_busy(
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    assert main(["index", "--workspace", str(workspace)]) == 0
    (workspace / "src" / "later.py").write_text("def later_helper():\n    pass\n")
    capsys.readouterr()
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # not the 5 s a real wait allows
    holder = sqlite3.connect(workspace / ".ocp" / "ocp.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        status = main([*command, "--workspace", str(workspace)])
    finally:
        holder.close()
    said = capsys.readouterr().err
    assert status == 1, said
    assert "database is busy" in said and "held its write lock" in said and "try again" in said
