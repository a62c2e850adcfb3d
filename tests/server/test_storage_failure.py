"""A disk that refuses the database's writes (a file-size limit here, `ulimit -f`, as a full disk
or a quota would): the server's first build fails on storage, and the search, `ocp-server status`
and `doctor` say so in words, naming the database and what to do, rather than "internal error"
or "still being built (0 files so far)". The limit is the child's own RLIMIT_FSIZE (Python
ignores SIGXFSZ, so SQLite gets EFBIG: SQLITE_IOERR, "disk I/O error")."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ocp_server.cli import main
from tests.server.raw_server import RawServer
from tests.workspace_fixture import git

# bytes: the schema fits (it needs over 300 kB), the first build's files do not: 100 files
# index to 0.85 MB (300, as before, took three times as long to fail and to index)
FILE_LIMIT = 400_000
FILES = 100


# The limit would cut a child's bytecode file short too (importlib keeps a partial write), and
# every later import of that module would fail: the children write none.
NO_BYTECODE = {"PYTHONDONTWRITEBYTECODE": "1"}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    for i in range(FILES):
        body = "".join(
            f"def handler_{i}_{j}(request_{j}):\n    return respond_{j}(request_{j}, {i * j})\n\n"
            for j in range(20)
        )
        (ws / "src" / f"module_{i}.py").write_text(body)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


def _cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str]:
    """`ocp-server <args>` run in this process (no file-size limit here): exit status, output."""
    status = main([*args, "--workspace", str(ws)])
    return status, capsys.readouterr().out


def test_a_first_build_the_disk_refuses_is_said_in_words_by_search_status_and_doctor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
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
            **NO_BYTECODE,
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
    # Other processes, with no limit, read what the server recorded (the commands run here).
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    code, said = _cli(capsys, ws, "status")
    assert code == 0, said
    storage = [line for line in said.splitlines() if line.startswith("storage")]
    assert storage and "disk I/O error" in storage[0] and str(db) in storage[0]
    code, said = _cli(capsys, ws, "doctor")
    index = [line for line in said.splitlines() if " index " in f" {line} "]
    assert code == 1 and index and index[0].startswith("fail")
    assert "disk I/O error" in index[0] and "OCP_DB_PATH" in index[0]
    # An update that works (room made: here, no limit) says no more of it.
    assert _cli(capsys, ws, "index")[0] == 0
    said = _cli(capsys, ws, "status")[1]
    assert "storage" not in said and f"{FILES} files" in said


def test_ocp_server_index_on_a_disk_that_refuses_its_writes_says_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    # The schema fits and the first batches' writes do not: `ocp-server index` ended in
    # sqlite3.OperationalError's traceback (only the database's set-up was said in words).
    ws = _workspace(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path), "OCP_OLLAMA_URL": "http://127.0.0.1:9"}
    env.update(NO_BYTECODE)
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(ws), "index"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limited,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    said = done.stderr.replace("\n", " ")
    assert "disk I/O error" in said and str(ws / ".ocp" / "ocp.db") in said
    assert "OCP_DB_PATH" in said and "ocp-server index" in said
