"""The server's database while other processes use it or a user removes it, over real stdio:
`ocp-server status` run beside a serving IDE window leaves that window's index working, and a
`.ocp/` folder deleted while serving (`git clean -xfd`, a reset by hand) is built again instead
of failing every later call."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.raw_server import RawServer


def _found(raw: RawServer, query: str) -> list[str]:
    result = raw.call_tool("ocp_context_search", {"query": query})["result"]
    assert not result.get("isError"), result["content"][0]["text"]
    return [hit["path"] for hit in result["structuredContent"]["results"]]


def _found_soon(raw: RawServer, query: str, path: str) -> list[str]:
    """Search until `path` is found or 20 s pass (the watcher re-indexes within a second)."""
    deadline = time.monotonic() + 20
    while path not in (found := _found(raw, query)) and time.monotonic() < deadline:
        time.sleep(0.3)
    return found


def _serve(ws: Path, **env: str) -> RawServer:
    raw = RawServer(
        {"OCP_WORKSPACE": str(ws), "OCP_OLLAMA_URL": "http://127.0.0.1:9", **env},
        cwd=ws.parent,
    )
    raw.initialize()
    return raw


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "auth.py").write_text("def verify_token(token):\n    return bool(token)\n")
    return ws


@pytest.fixture
def served(ws: Path) -> Iterator[tuple[RawServer, Path]]:
    raw = _serve(ws)
    yield raw, ws
    raw.kill()


@pytest.mark.parametrize("database", [".ocp/ocp.db", "ocp.db"], ids=["own", "in-workspace"])
def test_ocp_server_status_run_beside_the_server_leaves_its_index_working(
    ws: Path, database: str
) -> None:
    env = {} if database.startswith(".ocp/") else {"OCP_DB_PATH": str(ws / database)}
    raw = _serve(ws, **env)
    try:
        _status_beside(raw, ws, ws / database, env)
    finally:
        raw.kill()


def _status_beside(raw: RawServer, ws: Path, db_path: Path, env: dict[str, str]) -> None:
    assert _found(raw, "verify_token") == ["src/auth.py"]
    # Another process's connection closing must not think it was the last one: that one
    # checkpoints and deletes the -wal and -shm files the server still has open.
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(ws), "status"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ws.parent), **env},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert Path(f"{db_path}-wal").exists()
    (ws / "src" / "rotate.py").write_text("def rotate_session(old):\n    return old[::-1]\n")
    assert _found_soon(raw, "rotate_session", "src/rotate.py")[0] == "src/rotate.py"
    saved = raw.call_tool("ocp_result_save", {"summary": "status ran beside the server"})["result"]
    assert not saved.get("isError"), saved
    assert raw.close_stdin_and_wait() < 5
    assert "Traceback" not in raw.stderr()


def test_a_database_deleted_while_serving_is_built_again(
    served: tuple[RawServer, Path],
) -> None:
    raw, ws = served
    assert _found(raw, "verify_token") == ["src/auth.py"]
    shutil.rmtree(ws / ".ocp")  # what `git clean -xfd` does to the ignored folder
    (ws / "src" / "rotate.py").write_text("def rotate_session(old):\n    return old[::-1]\n")
    assert _found_soon(raw, "rotate_session", "src/rotate.py")[0] == "src/rotate.py"
    assert (ws / ".ocp" / "ocp.db").exists()
    # What is saved now lands in the database on disk, where the next session finds it.
    saved = raw.call_tool("ocp_result_save", {"summary": "saved after the reset"})["result"]
    assert not saved.get("isError"), saved
    assert raw.close_stdin_and_wait() < 5
    again = RawServer(
        {"OCP_WORKSPACE": str(ws), "OCP_OLLAMA_URL": "http://127.0.0.1:9"}, cwd=ws.parent
    )
    try:
        again.initialize()
        brief = again.call_tool("ocp_session_restore", {})["result"]
        assert "saved after the reset" in brief["content"][0]["text"]
    finally:
        again.kill()


async def test_an_unreadable_database_says_deleting_it_loses_session_memory(
    tmp_path: Path,
) -> None:
    # it holds the index (derived, rebuilt by `ocp-server index`) and session memory (not)
    from ocp_server.db import connect
    from ocp_server.errors import DatabaseError

    db_path = tmp_path / ".ocp" / "ocp.db"
    db_path.parent.mkdir()
    # an SQLite database with damaged pages (one that is none at all is moved aside:
    # test_corrupt_database.py)
    db_path.write_bytes(b"SQLite format 3\0" + b"\xff" * 4080)
    with pytest.raises(DatabaseError) as caught:
        await connect(db_path)
    message = str(caught.value)
    assert "session memory" in message and "only holds derived data" not in message
    assert "ocp-server index" in message
