"""The index keeps working when things go wrong: a file name that is not UTF-8, a locked
database, an indexer killed mid-run, two workspaces pointed at one database, a file that stops
being binary."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import watchfiles

from ocp_server import proc
from ocp_server.db import DatabaseError
from ocp_server.index import indexer as indexer_module
from ocp_server.index import lease as lease_module
from ocp_server.index import workspace_watch
from ocp_server.index.files import Candidate, Listing, list_workspace
from ocp_server.index.indexer import Progress, process_file
from ocp_server.index.lease import LEASE_NAME, LEASE_SECONDS
from ocp_server.index.models import IndexSummary
from ocp_server.index.own_files import OwnFiles
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.watching import watcher_running
from tests.workspace_fixture import git

BAD_NAME = os.fsdecode(b"caf\xe9_latin1.py")  # Latin-1 bytes: not valid UTF-8


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses names that are not UTF-8")
@pytest.mark.parametrize("tracked", [True, False], ids=["git", "plain"])
async def test_a_file_name_that_is_not_utf8_is_skipped_and_counted(
    tmp_path: Path, tracked: bool
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "good.py").write_text("def still_indexed():\n    pass\n")
    (ws / BAD_NAME).write_text("def never_seen():\n    pass\n")
    if tracked:
        git(ws, "init", "-q")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "init")
    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        summary = await index.update()
        assert summary is not None and summary.files == 1
        assert summary.skipped.get("undecodable_name") == 1
        assert (await index.search("still_indexed")).results


async def test_a_file_saved_before_the_watcher_is_armed_is_indexed(
    workspace: Path, tmp_path: Path
) -> None:
    # The watcher's first update lists the files, then the watcher arms: a file saved in
    # between raises no event, so it waited for its next save (a save during a first build).
    index = await WorkspaceIndex.open(workspace, tmp_path / "ocp.db")
    real_update = index.update
    saved = False

    async def save_after_listing(
        progress: Progress | None = None, *, max_files: int | None = None
    ) -> IndexSummary | None:
        nonlocal saved
        summary = await real_update(progress, max_files=max_files)
        if not saved:
            saved = True
            (workspace / "src" / "between.py").write_text("def saved_before_armed():\n    pass\n")
        return summary

    index.update = save_after_listing  # type: ignore[method-assign]
    async with watcher_running(index):
        async with asyncio.timeout(20):
            while "src/between.py" not in {
                hit.path for hit in (await index.search("saved_before_armed")).results
            }:
                await asyncio.sleep(0.1)


async def test_the_watcher_survives_a_locked_database_and_indexes_later_edits(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace_watch, "RETRY_FIRST", 0.1)
    index = await WorkspaceIndex.open(workspace, tmp_path / "ocp.db")
    real_update = index.update
    failures = 0

    async def locked_once(progress: Progress | None = None) -> IndexSummary | None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise sqlite3.OperationalError("database is locked")
        return await real_update(progress)

    monkeypatch.setattr(index, "update", locked_once)
    async with watcher_running(index):
        async with asyncio.timeout(20):  # the first update failed; the retry indexes
            while not (await index.search("verify_token")).results:
                await asyncio.sleep(0.05)
        assert failures == 1
        (workspace / "src" / "late.py").write_text("def written_after_the_lock():\n    pass\n")
        async with asyncio.timeout(20):
            while not (await index.search("written_after_the_lock")).results:
                await asyncio.sleep(0.1)


async def test_the_watchers_failure_is_in_the_status_while_it_retries(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = await WorkspaceIndex.open(workspace, tmp_path / "ocp.db")

    async def always_locked(progress: Progress | None = None) -> IndexSummary | None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(index, "update", always_locked)
    async with watcher_running(index) as watcher:
        async with asyncio.timeout(10):
            while (await index.status()).watcher != "retrying":
                await asyncio.sleep(0.02)
        status = await index.status()
        assert status.watcher_error == "OperationalError: database is locked"
        # A search's answer carries the same status (what an agent sees).
        searched = (await index.search("verify_token", refresh=False)).status
        assert (searched.watcher, searched.watcher_error) == ("retrying", status.watcher_error)
        assert not watcher.done()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _hold_lease(db_path: Path, pid: int, started: str | None, host: str) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT OR REPLACE INTO leases (name, owner, pid, expires_at, started, host) "
            "VALUES (?, 'crashed-run', ?, ?, ?, ?)",
            (LEASE_NAME, pid, time.time() + 3600, started, host),
        )


async def test_a_lease_left_by_a_crashed_indexer_is_taken_over_at_once(
    workspace: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "ocp.db"
    async with await WorkspaceIndex.open(workspace, db_path):
        pass  # creates and migrates the database
    _hold_lease(db_path, _dead_pid(), "1", proc.host())
    async with await WorkspaceIndex.open(workspace, db_path) as index:
        summary = await index.update()
    assert summary is not None and summary.files == 5


async def test_a_lease_of_a_live_holder_or_another_host_is_respected(
    workspace: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "ocp.db"
    async with await WorkspaceIndex.open(workspace, db_path):
        pass
    me = os.getpid()
    for started, host in ((proc.start_token(me), proc.host()), ("1", "another-host")):
        _hold_lease(db_path, me if host == proc.host() else _dead_pid(), started, host)
        async with await WorkspaceIndex.open(workspace, db_path) as index:
            assert await index.update() is None, host


@pytest.mark.parametrize("stall", [0.8, 2.0], ids=["batches-within-the-lease", "stalled-past-it"])
async def test_an_update_longer_than_the_lease_keeps_it_and_no_second_window_indexes_beside_it(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stall: float
) -> None:
    """The lease was renewed only between updates: a first build longer than its 30 s (a large
    repository) let a second window take it over and index the same files beside it, each
    writing chunks of files the other had written (duplicated results). Renewed at each
    batch, it is kept; a build stalled past it (the machine slept) stops for the new holder."""
    for i in range(6):
        (workspace / f"mod_{i}.py").write_text(f"def function_{i}():\n    return {i}\n")
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 2)
    ahead = [0.0]  # seconds the lease's clock is moved on: the build takes that long

    class Clock:
        @staticmethod
        def time() -> float:
            return time.time() + ahead[0]

    monkeypatch.setattr(lease_module, "time", Clock)
    db_path = tmp_path / "ocp.db"
    first = await WorkspaceIndex.open(workspace, db_path)
    second = await WorkspaceIndex.open(workspace, db_path)
    real = indexer_module.process_file
    reached, go = threading.Event(), threading.Event()
    calls = [0]

    def slow(ws: Path, candidate: Candidate, known_hash: str | None, limit: int) -> object:
        calls[0] += 1
        if calls[0] == 1:  # the first batch takes most of the lease
            ahead[0] += LEASE_SECONDS * 0.8
        elif calls[0] == 3:  # and so does the second: past the lease taken at the start
            ahead[0] += LEASE_SECONDS * stall
            reached.set()
            go.wait(30)
        return real(ws, candidate, known_hash, limit)

    monkeypatch.setattr(indexer_module, "process_file", slow)
    try:
        building = asyncio.create_task(first.update())
        assert await asyncio.to_thread(reached.wait, 30)
        taken_over = await second.update()
        go.set()
        stopped = await building
        if stall < 1:  # the first window still indexes, and finishes
            assert taken_over is None and stopped is not None
        else:  # the second one indexed all, and the first stopped at its next batch
            assert taken_over is not None and taken_over.files == 11 and stopped is None
    finally:
        go.set()
        await first.close()
        await second.close()
    with sqlite3.connect(db_path) as db:
        twice = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, start_line, end_line"
            " HAVING count(*) > 1)"
        ).fetchone()[0]
    assert twice == 0


async def test_a_listing_longer_than_the_lease_keeps_it(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renewed at each batch only, a listing longer than the lease (git waiting its 60 s, a
    huge tree) let another window take the lease over and this update stop at its first
    batch, and the other's likewise: neither finished."""
    ahead = [0.0]

    class Clock:
        @staticmethod
        def time() -> float:
            return time.time() + ahead[0]

    monkeypatch.setattr(lease_module, "time", Clock)
    monkeypatch.setattr(indexer_module, "LEASE_RENEWAL_SECONDS", 0.01)
    listing, go = threading.Event(), threading.Event()

    def slow(workspace: Path, *, max_file_bytes: int, own_files: OwnFiles) -> Listing:
        ahead[0] += LEASE_SECONDS * 2  # the listing takes twice the lease
        listing.set()
        go.wait(30)
        return list_workspace(workspace, max_file_bytes=max_file_bytes, own_files=own_files)

    monkeypatch.setattr(indexer_module, "list_workspace", slow)
    db_path = tmp_path / "ocp.db"
    first = await WorkspaceIndex.open(workspace, db_path)
    second = await WorkspaceIndex.open(workspace, db_path)
    try:
        building = asyncio.create_task(first.update())
        assert await asyncio.to_thread(listing.wait, 30)
        deadline = time.monotonic() + 30
        while _lease_ends(db_path) < Clock.time() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # the running update renews it meanwhile
        assert await second.update() is None
        go.set()
        assert await building is not None
    finally:
        go.set()
        await first.close()
        await second.close()


def _lease_ends(db_path: Path) -> float:
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT expires_at FROM leases WHERE name = ?", (LEASE_NAME,)).fetchone()
    return float(row[0]) if row else 0.0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="start times come from /proc")
async def test_a_reused_pid_does_not_keep_a_dead_holders_lease(
    workspace: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "ocp.db"
    async with await WorkspaceIndex.open(workspace, db_path):
        pass
    # This process's pid, but recorded with another start time: the holder that took the
    # lease is gone and its pid went to someone else.
    _hold_lease(db_path, os.getpid(), "12345", proc.host())
    async with await WorkspaceIndex.open(workspace, db_path) as index:
        assert await index.update() is not None


def test_ocp_server_index_after_a_killed_run_indexes_instead_of_waiting(
    workspace: Path, tmp_path: Path
) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    db_path = workspace / ".ocp" / "ocp.db"
    cli = [sys.executable, "-m", "ocp_server.cli", "index", str(workspace)]
    subprocess.run(cli, env=env, check=True, capture_output=True, timeout=60)
    _hold_lease(db_path, _dead_pid(), "1", proc.host())  # as a `kill -9` mid-run leaves it
    (workspace / "src" / "new.py").write_text("def after_the_crash():\n    pass\n")
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "another ocp-server process" not in done.stdout + done.stderr
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM files WHERE path = 'src/new.py'").fetchone()[0]


async def test_a_database_of_another_workspace_is_refused(workspace: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.py").write_text("def from_the_other_project():\n    pass\n")
    async with await WorkspaceIndex.open(workspace, shared) as index:
        await index.update()
    with pytest.raises(DatabaseError, match="holds the workspace .*OCP_DB_PATH"):
        await WorkspaceIndex.open(other, shared)
    # The same workspace opens it again; a workspace whose database lives inside it always
    # owns that database, even after the folder moved.
    async with await WorkspaceIndex.open(workspace, shared) as index:
        assert (await index.search("verify_token")).results
    # A database inside a parent folder is still another workspace's.
    with pytest.raises(DatabaseError, match="holds the workspace"):
        await WorkspaceIndex.open(tmp_path, shared)
    own = workspace / ".ocp" / "ocp.db"
    async with await WorkspaceIndex.open(workspace, own):
        pass
    moved = tmp_path / "moved"
    workspace.rename(moved)
    async with await WorkspaceIndex.open(moved, moved / ".ocp" / "ocp.db"):
        pass


async def test_a_database_of_a_workspace_with_a_name_that_is_not_utf8_is_refused_to_another(
    workspace: Path, tmp_path: Path
) -> None:
    # The database records the path with `\\xff` escapes (path_text); the owner check looked
    # for a folder named so, found none and let the other workspace take the database over.
    odd = tmp_path / os.fsdecode(b"proj\xff")
    workspace.rename(odd)
    shared = tmp_path / "shared.db"
    async with await WorkspaceIndex.open(odd, shared) as index:
        await index.update()
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(DatabaseError, match=r"holds the workspace .*proj\\xff"):
        await WorkspaceIndex.open(other, shared)
    async with await WorkspaceIndex.open(odd, shared) as index:
        assert (await index.search("verify_token")).results
    odd.rename(tmp_path / "gone")  # the recorded folder is gone: the database is free again
    async with await WorkspaceIndex.open(other, shared):
        pass


async def test_a_moved_workspaces_own_database_by_another_spelling_follows_it(
    workspace: Path, tmp_path: Path
) -> None:
    # On a case-insensitive filesystem OCP_DB_PATH may name .ocp/ocp.db as .ocp/OCP.db: the
    # same file, which a moved workspace owns; simulated with a hard link (the same inode by
    # another name). By spelling it was foreign, and refused while the old folder exists.
    async with await WorkspaceIndex.open(workspace, workspace / ".ocp" / "ocp.db") as index:
        await index.update()
    moved = tmp_path / "moved"
    workspace.rename(moved)
    workspace.mkdir()  # the recorded folder exists again: only ownership lets the move through
    other_spelling = moved / ".ocp" / "OCP.db"
    os.link(moved / ".ocp" / "ocp.db", other_spelling)
    async with await WorkspaceIndex.open(moved, other_spelling) as index:
        assert (await index.search("verify_token")).results
    # A database elsewhere holding the old (still existing) folder is still refused.
    shared = tmp_path / "shared.db"
    async with await WorkspaceIndex.open(workspace, shared):
        pass
    with pytest.raises(DatabaseError, match="holds the workspace"):
        await WorkspaceIndex.open(moved, shared)


async def test_writes_to_a_database_inside_the_workspace_are_not_edits(
    workspace: Path,
) -> None:
    db_path = workspace / "ocp.db"  # OCP_DB_PATH pointed inside the workspace
    async with await WorkspaceIndex.open(workspace, db_path) as index:
        for suffix in ("", "-wal", "-shm", "-journal"):
            assert not index._relevant(watchfiles.Change.modified, f"{db_path}{suffix}")
        assert index._relevant(watchfiles.Change.modified, str(workspace / "ocp.db.py"))


async def test_a_database_inside_the_workspace_is_never_read_as_one_of_its_files(
    workspace: Path,
) -> None:
    # Reading it would open and close the database's files in this process, which drops
    # every SQLite lock the process holds on them (POSIX locks): see test_database_faults.
    db_path = workspace / "ocp.db"  # OCP_DB_PATH pointed inside the workspace
    async with await WorkspaceIndex.open(workspace, db_path) as index:
        first = await index.update()
        (workspace / "src" / "new.py").write_text("def added_later():\n    pass\n")
        second = await index.update()  # the -wal and -shm files exist now
        rows = await index.db.execute_fetchall("SELECT path FROM files WHERE path LIKE 'ocp.db%'")
        assert list(rows) == []
        assert first is not None and second is not None
        assert second.skipped == first.skipped


async def test_a_database_in_the_workspace_by_another_spelling_is_never_read_nor_an_edit(
    workspace: Path, tmp_path: Path
) -> None:
    # On a case-insensitive filesystem (macOS, Windows) OCP_DB_PATH may spell the workspace in
    # another case than the IDE does (/users/me/proj for /Users/me/Proj), or the database in
    # another case than the disk (git lists `data/ocp.db` for `Data/OCP.db`): the names did not
    # match, so the database was listed and read as a file of the workspace (dropping this
    # process's SQLite locks on it) and its writes were edits to the watcher. Simulated with
    # hard links: the same files, by a path that is not the workspace's and by other names.
    db_path = tmp_path / "Elsewhere" / "OCP.db"
    db_path.parent.mkdir()
    async with await WorkspaceIndex.open(workspace, db_path) as index:
        first = await index.update()
        (workspace / "data").mkdir()
        for suffix in ("", "-wal", "-shm"):  # the -wal and -shm files exist now
            os.link(f"{db_path}{suffix}", workspace / "data" / f"ocp.db{suffix}")
        (workspace / "src" / "new.py").write_text("def added_later():\n    pass\n")
        second = await index.update()
        rows = await index.db.execute_fetchall(
            "SELECT path FROM files WHERE lower(path) LIKE '%ocp.db%'"
        )
        assert list(rows) == []
        assert first is not None and second is not None
        assert second.skipped == first.skipped and second.files == first.files + 1
        for suffix in ("", "-wal", "-shm"):
            linked = str(workspace / "data" / f"ocp.db{suffix}")
            assert not index._relevant(watchfiles.Change.modified, linked), suffix
        assert index._relevant(watchfiles.Change.modified, str(workspace / "src" / "new.py"))


def test_a_file_gone_named_as_the_database_but_for_case_is_its_in_its_folder(
    tmp_path: Path,
) -> None:
    # A deleted file has no identity left (SQLite deletes its -journal): its folder's is used.
    db_path = tmp_path / "ws" / "data" / "ocp.db"
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    own = OwnFiles.of(tmp_path / "ws", db_path)
    assert own.written(str(db_path.parent / "OCP.db-journal"))
    (tmp_path / "ws" / "other").mkdir()
    assert not own.written(str(tmp_path / "ws" / "other" / "OCP.db-journal"))
    assert not own.written(str(db_path.parent / "ocp.db.py"))


@contextmanager
def _fifo_with_a_writer(pipe: Path, data: bytes) -> Iterator[None]:
    """A named pipe at `pipe` whose writer (blocked until a reader opens it) sends `data`: the
    old code read it instead of hanging the test. A writer still waiting at the end is let go."""
    os.mkfifo(pipe)

    def write() -> None:
        try:
            with open(pipe, "wb") as out:  # blocks until the pipe has a reader
                out.write(data)
        except OSError:
            pass  # the reader had already closed it

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield
    finally:
        while writer.is_alive():
            os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
            writer.join(0.05)


def test_a_file_swapped_for_a_named_pipe_after_listing_is_skipped_unread(tmp_path: Path) -> None:
    # Between the listing's stat and the read, a file can become a FIFO; reading one blocks
    # until something writes to it, for ever if nothing does. A writer is put on this one so
    # the old read returned its text (instead of hanging the test).
    ws = tmp_path / "ws"
    ws.mkdir()
    pipe = ws / "swapped.py"
    with _fifo_with_a_writer(pipe, b"def from_the_pipe():\n    pass\n"):
        processed = process_file(ws, Candidate("swapped.py", 30, 0), None, 1000)
    assert processed.skip == "unreadable" and processed.chunks is None


@pytest.mark.parametrize("ignore_file", [".ocpignore", "sub/.gitignore"])
def test_a_named_pipe_as_an_ignore_file_is_not_read(tmp_path: Path, ignore_file: str) -> None:
    # A FIFO named .ocpignore (or a .gitignore outside git) was read as the ignore file: the
    # listing, and with it every update and search, waited for a writer for ever. A writer
    # is put on this one so the old read returned its rules (instead of hanging the test).
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "sub" / "kept.py").write_text("def kept():\n    pass\n")
    pipe = ws / ignore_file
    with _fifo_with_a_writer(pipe, b"*.py\n"):
        listing = list_workspace(ws, max_file_bytes=1000)
    assert [c.path for c in listing.candidates] == ["sub/kept.py"]


async def test_a_file_that_stops_being_binary_is_counted_again(
    workspace: Path, tmp_path: Path
) -> None:
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        first = await index.update()
        assert first is not None and first.files == 5 and first.skipped["binary"] == 1
        (workspace / "logo.png").write_text("now plain text mentioning verify_token\n")
        second = await index.update()
        status = await index.status()
    assert second is not None and second.files == 6 and status.files == 6
    assert "binary" not in second.skipped


async def test_a_file_that_grows_past_the_size_limit_after_the_listing_is_skipped_unread(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grows = workspace / "src" / "grows.py"
    grows.write_text("def small_at_listing():\n    pass\n")

    def list_then_grow(root: Path, *, max_file_bytes: int, own_files: OwnFiles) -> Listing:
        listing = list_workspace(root, max_file_bytes=max_file_bytes, own_files=own_files)
        with grows.open("a") as out:  # written to between the stat and the read
            out.write("def grown_past_the_limit():\n    pass\n" * 100)
        return listing

    monkeypatch.setattr(indexer_module, "list_workspace", list_then_grow)
    async with await WorkspaceIndex.open(
        workspace, tmp_path / "ocp.db", max_file_bytes=1000
    ) as index:
        summary = await index.update()
        found = await index.search("grown_past_the_limit small_at_listing")
    assert summary is not None and summary.skipped.get("too_large") == 1
    assert all(r.path != "src/grows.py" for r in found.results)
