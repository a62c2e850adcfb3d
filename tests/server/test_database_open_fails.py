"""A database SQLite cannot open at all ("unable to open database file": OCP_DB_PATH a link
into a folder that is gone, such as an unmounted drive): the CLI says so and names
OCP_DB_PATH, and nothing else. aiosqlite's failed connect only *queues* its worker thread's
stop; a thread still running when asyncio.run closes the loop printed "RuntimeError: Event
loop is closed" under the clear error."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.errors import DatabaseError


def _link_into_a_missing_folder(tmp_path: Path) -> Path:
    """A path SQLite fails to open while everything OCP checks first passes: the link exists
    (so no new file is made at it) and leads into a folder that does not exist."""
    db = tmp_path / "db" / "ocp.db"
    db.parent.mkdir()
    db.symlink_to(tmp_path / "unmounted" / "ocp.db")
    return db


def _connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def test_a_failed_open_returns_only_after_its_connection_thread_ended(
    tmp_path: Path,
) -> None:
    db = _link_into_a_missing_folder(tmp_path)
    before = _connection_threads()
    with pytest.raises(DatabaseError, match="unable to open database file"):
        await connect(db)
    # No await between the error and this look: the thread is gone already, not ending later
    assert _connection_threads() == before


@pytest.mark.parametrize("args", [["index"], ["search", "verify token"]])
def test_the_cli_says_the_database_cannot_be_opened_and_prints_no_traceback(
    tmp_path: Path, args: list[str]
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "auth.py").write_text("def verify_token(token):\n    return token\n")
    db = _link_into_a_missing_folder(tmp_path)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "OCP_DB_PATH": str(db)}
    # Several runs: the stray traceback came from a race the old code lost most of the time
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", "--workspace", str(workspace), *args],
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode != 0, done.stdout
        assert "unable to open database file" in done.stderr, done.stderr
        assert "OCP_DB_PATH" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and "Event loop is closed" not in done.stderr, (
            done.stderr
        )


@pytest.mark.parametrize("below", ["ocp.db", "deeper/ocp.db"])
async def test_a_database_whose_folder_is_a_file_names_that_file(
    tmp_path: Path, below: str
) -> None:
    # It said "[Errno 17] File exists: '<folder>'" (or "Not a directory"): read as a clash,
    # not as the file standing where the database's folder should be.
    (tmp_path / "notes").write_text("a file\n")
    with pytest.raises(DatabaseError) as caught:
        await connect(tmp_path / "notes" / below)
    assert str(caught.value) == (
        f"cannot open the OCP database at {tmp_path / 'notes' / below}: {tmp_path / 'notes'} "
        "is a file, not a folder. Set OCP_DB_PATH to a path in a folder, or move that file."
    )
