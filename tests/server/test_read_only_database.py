"""The database made read-only while the server runs, over real stdio: each tool call keeps
answering, and says in words that the database cannot be written and what to do; the index
catches up once it can be written again.

Made read-only as a user without chattr or a mount can: its files' write permission taken away
(access() then refuses them to a server that is not root: run as `nobody` when the tests run as
root, through setpriv) and the server's file-size limit set to 0 (prlimit: each write through
the connections already open fails, "disk I/O error", as on a file system remounted
read-only). The `-shm` index keeps its permission: SQLite maps it, as a read-only remount
would let it."""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocp_client import OCPClient
from ocp_server.errors import storage_cause, storage_failed
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import server_env, wait_for_index

NOBODY = 65534


def _server_pids(db: Path) -> list[int]:
    """The processes started with this database (the server, and any worker it started)."""
    marker = f"OCP_DB_PATH={db}".encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes()
            except OSError:
                continue
            if marker in environ:
                found.append(int(entry))
    return found


def _prlimit(pid: int, limit: tuple[int, int] | None = None) -> tuple[int, int]:
    """The file-size limit of `pid` (set to `limit` first, if given), asked as its own user:
    root without CAP_SYS_RESOURCE may not touch another user's limits."""
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None  # ended since it was listed
    if uid == os.geteuid():
        return resource.prlimit(pid, resource.RLIMIT_FSIZE, *([limit] if limit else []))
    code = (
        "import resource, sys; "
        f"print(*resource.prlimit({pid}, resource.RLIMIT_FSIZE, *{[limit] if limit else []}))"
    )
    as_uid = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    done = subprocess.run([*as_uid, sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise ProcessLookupError(done.stderr.strip())
    soft, hard = map(int, done.stdout.split())
    return soft, hard


@contextmanager
def _read_only(db: Path) -> Iterator[None]:
    """The database and its WAL not writable, nor their folder, and the server's writes
    refused; writable again on the way out."""
    # not the snapshot being written: the server renames it over the saved one meanwhile
    passing = ("-shm", "-snapshot-new")
    files = [p for p in sorted(db.parent.glob("ocp.db*")) if not p.name.endswith(passing)]
    pids = _server_pids(db)
    assert pids, "the server's process was not found"
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [*files, db.parent]}
    limits = {}
    for pid in pids:
        try:
            limits[pid] = _prlimit(pid)
        except ProcessLookupError:
            continue  # a worker of the first build that ended since it was listed
    assert limits, "the server's process ended"
    try:
        for path, mode in modes.items():
            path.chmod(mode & ~0o222)
        for pid, (_, hard) in limits.items():
            _prlimit(pid, (0, hard))
        yield
    finally:
        for pid, limit in limits.items():
            try:
                _prlimit(pid, limit)
            except ProcessLookupError:
                pass  # a worker that ended
        for path, mode in modes.items():
            path.chmod(mode)


@pytest.fixture
def unprivileged(workspace: Path) -> Iterator[tuple[Path, list[str]]]:
    """The workspace, and the command that starts the server as a user access() refuses a
    file without write permission: this one, or `nobody` (the workspace copied to a folder
    `nobody` owns) when the tests run as root."""
    server = [sys.executable, "-m", "ocp_server.cli"]
    if os.geteuid() != 0:
        yield workspace, server
        return
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no user the permissions refuse")
    home = Path(tempfile.mkdtemp(prefix="ocp-read-only-"))
    try:
        home.chmod(0o755)
        ws = home / "ws"
        shutil.copytree(workspace, ws, symlinks=True)
        for folder, _, names in os.walk(home):
            for name in [folder, *(os.path.join(folder, n) for n in names)]:
                os.lchown(name, NOBODY, NOBODY)
        yield ws, ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *server]
    finally:
        shutil.rmtree(home, ignore_errors=True)


async def test_a_database_made_read_only_mid_run_is_said_in_words_and_caught_up_after(
    unprivileged: tuple[Path, list[str]], fake_ollama: FakeOllama
) -> None:
    workspace, command = unprivileged
    env = server_env(workspace, fake_ollama, HOME=str(workspace.parent))
    db = Path(env["OCP_DB_PATH"])
    async with OCPClient(command[0], command[1:], env=env) as client:
        await wait_for_index(client, "verify token")
        with _read_only(db):
            # the watcher meets it first (its lease's write): the status says so
            (workspace / "src" / "late.py").write_text("def saved_while_read_only():\n    pass\n")
            async with asyncio.timeout(20):
                while (await client.index_status()).storage_failed is None:
                    await asyncio.sleep(0.2)
            said = (await client.index_status()).storage_failed
            assert said is not None and "cannot be written" in said and str(db) in said
            searched = await client.call("ocp_context_search", {"query": "verify token"})
            assert not searched.is_error
            result = await client.search("verify token")
            assert result.results[0].citation == "src/auth.py:6-8"  # served from what's there
            assert result.note is not None and "cannot be written" in result.note
            saved = await client.call("ocp_result_save", {"notes": ["tokens checked in auth"]})
            assert saved.is_error
            text = tool_text(saved)
            assert "cannot be written" in text and "not writable" in text and str(db) in text
            assert "chattr -i" in text and "OCP_DB_PATH" in text
            assert "internal error" not in text and "Free some space" not in text
        async with asyncio.timeout(60):  # writable again: the watcher's backoff, or a search
            while not (await client.search("saved_while_read_only")).results:
                await asyncio.sleep(0.5)
        saved = await client.call("ocp_result_save", {"notes": ["tokens checked in auth"]})
        assert not saved.is_error, tool_text(saved)
        assert (await client.index_status()).storage_failed is None


def test_a_connection_sqlite_opened_read_only_is_a_storage_failure_said_as_such(
    tmp_path: Path,
) -> None:
    # A connection opened after the file lost its write permission is read-only: SQLite's
    # SQLITE_READONLY was an internal error.
    db = tmp_path / "ocp.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raised:
        reader.execute("INSERT INTO t VALUES (1)")
    reader.close()
    assert storage_failed(raised.value)
    cause = storage_cause(raised.value, db)
    assert "cannot be written" in cause and "opened it read-only" in cause
    assert "OCP_DB_PATH" in cause
