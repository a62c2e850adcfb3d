"""A database path that names a named pipe (FIFO) or a socket is refused at once with an error
naming OCP_DB_PATH and what it must name. Opened read-only (to ask SQLite whether the file is
a database, when a `-wal` or `-shm` file beside it is readable by others), a pipe waits for a
writer for ever: `ocp-server status` never ended. Run as a command with a timeout, so the old
code's wait cannot hang the suite."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def _status(ws: Path, db: Path, command: str = "status") -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", command],
            cwd=ws,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ["PATH"], "HOME": str(ws.parent), "OCP_DB_PATH": str(db)},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"ocp-server {command} still waiting after 60 s with OCP_DB_PATH={db}")


@pytest.mark.parametrize("side_file", [False, True], ids=["alone", "with_a_readable_wal"])
def test_ocp_db_path_naming_a_pipe_is_refused_at_once(tmp_path: Path, side_file: bool) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.py").write_text("x = 1\n")
    db = tmp_path / "ocp.db"
    os.mkfifo(db)
    if side_file:  # an older version's -wal, readable by others
        Path(f"{db}-wal").write_bytes(b"")
        os.chmod(f"{db}-wal", 0o644)
    done = _status(ws, db)
    assert done.returncode != 0
    assert f"OCP_DB_PATH names {db}, which is a named pipe (FIFO)" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert db.exists() and not Path(f"{db}-shm").exists()


def test_ocp_db_path_naming_a_socket_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    db = tmp_path / "s.db"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(db))
        done = _status(ws, db)
    assert done.returncode != 0
    assert f"OCP_DB_PATH names {db}, which is a socket" in done.stderr, done.stderr


@pytest.mark.parametrize("built", [False, True], ids=["new", "built"])
@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_pipe_beside_the_database_is_refused_naming_ocp_db_path(
    tmp_path: Path, suffix: str, built: bool
) -> None:
    # SQLite opens its side files itself: a -shm pipe failed with "disk I/O error" and the
    # advice to move the database aside (its memory lost with it); a -wal pipe was unlinked
    # without a word. The database is left as it is, and so is the pipe.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.py").write_text("x = 1\n")
    db = tmp_path / "ocp.db"
    if built:
        assert _status(ws, db, "index").returncode == 0
    before = db.read_bytes() if built else None
    side = Path(f"{db}{suffix}")
    side.unlink(missing_ok=True)
    os.mkfifo(side)
    # `status` opens no database that is not there yet
    for command in ("status", "index") if built else ("index",):
        done = _status(ws, db, command)
        assert done.returncode != 0, (command, done.stdout)
        assert (
            f"OCP_DB_PATH names {db}, beside which {side.name} is a named pipe (FIFO), "
            "not a file" in done.stderr
        ), done.stderr
        assert "Traceback" not in done.stderr, done.stderr
    assert stat.S_ISFIFO(os.lstat(side).st_mode)
    if built:
        assert db.read_bytes() == before
