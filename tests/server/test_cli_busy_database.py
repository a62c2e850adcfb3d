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
from ocp_server.db_holders import named_holders
from tests.server.held import held


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


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="names holders from /proc/locks")
async def test_a_holder_whose_command_line_has_line_breaks_is_named_on_one_line(
    tmp_path: Path,
) -> None:
    # `python3 -c "<a script of several lines>"`: its lines went into the one-line message
    db_path = tmp_path / "ocp.db"
    made = sqlite3.connect(db_path)
    made.execute("PRAGMA journal_mode = WAL")  # its -shm holds the locks named
    made.execute("CREATE TABLE notes (id INTEGER)")
    made.commit()
    async with held(db_path, "write", "import sqlite3\nwhile True:\n\tpass") as holder:
        named = named_holders(db_path)
    made.close()
    assert named is not None and f"pid {holder.pid} (" in named
    assert "\n" not in named and "\t" not in named and "import sqlite3 while True: pass" in named
