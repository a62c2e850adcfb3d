"""A disk that refuses the database's writes (a file-size limit here, `ulimit -f`, as a full disk
or a quota would): the server's first build fails on storage, and the search, `ocp-server status`
and `doctor` say so in words, naming the database and what to do, rather than "internal error"
or "still being built (0 files so far)". The limit is the child's own RLIMIT_FSIZE (Python
ignores SIGXFSZ, so SQLite gets EFBIG: SQLITE_IOERR, "disk I/O error")."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from tests.server.raw_server import RawServer
from tests.workspace_fixture import git

FILE_LIMIT = 400_000  # bytes: the schema fits, the first build's files do not


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    for i in range(300):
        body = "".join(
            f"def handler_{i}_{j}(request_{j}):\n    return respond_{j}(request_{j}, {i * j})\n\n"
            for j in range(20)
        )
        (ws / "src" / f"module_{i}.py").write_text(body)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", *args, "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(ws.parent),
            "OCP_OLLAMA_URL": "http://127.0.0.1:9",
        },
    )


def test_a_first_build_the_disk_refuses_is_said_in_words_by_search_status_and_doctor(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path)
    db = ws / ".ocp" / "ocp.db"
    # The first search waits for the build (up to OCP_FIRST_INDEX_WAIT) and is answered as soon
    # as it fails on storage (`wait_built`). The default 5 s ran out on a loaded machine while
    # the build was still writing its first 400 kB (the note said "still being built", as it
    # rightly does for a build in progress): here up to 50 s, within the 60 s `call_tool` reads.
    raw = RawServer(
        {
            "OCP_WORKSPACE": str(ws),
            "OCP_OLLAMA_URL": "http://127.0.0.1:9",
            "OCP_FIRST_INDEX_WAIT": "50",
        },
        cwd=tmp_path,
        preexec=_limited,
    )
    try:
        raw.initialize()
        notes = []
        for _ in range(3):  # the first search (waiting for the build), and later ones
            result = raw.call_tool("ocp_context_search", {"query": "handler respond"})["result"]
            assert not result.get("isError"), result["content"][0]["text"]
            notes.append(result["structuredContent"]["note"])
        for note in notes:
            assert "still being built" not in note
            assert "disk I/O error" in note and str(db) in note
            assert "ulimit -f" in note and "OCP_DB_PATH" in note and "Free some space" in note
        status = raw.rpc("resources/read", {"uri": "ocp://index/status"})["result"]
        assert "OCP_DB_PATH" in status["contents"][0]["text"]
    finally:
        raw.kill()
    # Other processes, with no limit, read what the server recorded.
    said = _cli(ws, "status")
    assert said.returncode == 0, said.stderr
    storage = [line for line in said.stdout.splitlines() if line.startswith("storage")]
    assert storage and "disk I/O error" in storage[0] and str(db) in storage[0]
    doctor = _cli(ws, "doctor")
    index = [line for line in doctor.stdout.splitlines() if " index " in f" {line} "]
    assert doctor.returncode == 1 and index and index[0].startswith("fail")
    assert "disk I/O error" in index[0] and "OCP_DB_PATH" in index[0]
    # An update that works (room made: here, no limit) says no more of it.
    assert _cli(ws, "index").returncode == 0
    said = _cli(ws, "status")
    assert "storage" not in said.stdout and "300 files" in said.stdout
