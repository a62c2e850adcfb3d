"""The disk holding the database filling up (SQLITE_FULL), with SQLite's `max_page_count` as the
fault seam: a write that would grow the file fails as it does on a full disk, and SQLite ends the
transaction itself. What is already indexed keeps answering, and the error says the disk is full,
not what a second, failed ROLLBACK would say."""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import pytest

from ocp_server.db import DatabaseNaming, connect
from ocp_server.index.lease import take_lease
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.watching import watcher_in, watcher_running
from tests.workspace_fixture import git


def _workspace(tmp_path: Path) -> Path:
    """A workspace of one module defining verify_token."""
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "auth.py").write_text("def verify_token(token):\n    return bool(token)\n")
    return ws


def _committed_workspace(tmp_path: Path) -> Path:
    """A git workspace of one committed module defining verify_token."""
    ws = _workspace(tmp_path)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


async def _no_room_to_grow(db: aiosqlite.Connection) -> None:
    pages = next(iter(await db.execute_fetchall("PRAGMA page_count")))[0]
    await db.execute_fetchall(
        f"PRAGMA max_page_count = {pages}"
    )  # read to its end: a statement left open would keep a read transaction


async def _room_again(db: aiosqlite.Connection) -> None:
    """Space came back: the file may grow again."""
    await db.execute_fetchall("PRAGMA max_page_count = 1073741823")


@asynccontextmanager
async def _watcher_retrying_on_a_full_disk(
    index: WorkspaceIndex, change: Callable[[], None]
) -> AsyncIterator[None]:
    """The block runs with the watcher retrying: it followed the disk, then the disk filled
    and `change` was made, which the watcher's update cannot index. The watcher is stopped and
    the index closed after."""
    async with watcher_running(index):
        await watcher_in(index, "watching")
        await _no_room_to_grow(index.db)
        change()
        await watcher_in(index, "retrying")
        yield


async def test_a_transaction_sqlite_ended_itself_raises_its_own_error_not_the_rollbacks(
    tmp_path: Path,
) -> None:
    db = await connect(tmp_path / "ocp.db")
    try:
        # SQLite ends the transaction itself on some write errors (a COMMIT that finds the disk
        # full, as on a real full filesystem): a trigger does the same here, with RAISE(ROLLBACK).
        await db.execute(
            "CREATE TEMP TRIGGER full BEFORE INSERT ON main.leases "
            "BEGIN SELECT RAISE(ROLLBACK, 'database or disk is full'); END"
        )
        with pytest.raises(sqlite3.DatabaseError, match="disk is full"):
            await take_lease(db, "owner")
        assert not db.in_transaction
        await db.execute("DROP TRIGGER temp.full")  # space came back
        assert await take_lease(db, "owner")
    finally:
        await db.close()


async def test_a_search_whose_update_finds_the_disk_full_answers_from_the_index(
    tmp_path: Path,
) -> None:
    ws = _committed_workspace(tmp_path)
    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        assert await index.update() is not None
        await _no_room_to_grow(index.db)
        # A commit made meanwhile: the search indexes first, and that update cannot grow the file.
        (ws / "src" / "rotate.py").write_text("def rotate_session(old):\n    return old\n" * 80)
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "rotate")
        found = await index.search("verify_token")
        assert [r.path for r in found.results] == ["src/auth.py"]
        assert found.note is not None and "disk" in found.note and "full" in found.note
        assert found.status.stale
        await _room_again(index.db)
        found = await index.search("rotate_session")
        assert {r.path for r in found.results} == {"src/rotate.py"}
        assert not found.status.stale


async def test_a_save_on_a_full_disk_says_so_and_the_next_one_after_space_returns_is_kept(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocp_server import workspaces
    from tests.server.inproc import inproc_client, text_of

    opened: list[aiosqlite.Connection] = []  # the server's memory connections, as it opens them

    async def recorded(db_path: Path, naming: DatabaseNaming | None = None) -> aiosqlite.Connection:
        opened.append(db := await connect(db_path, naming))
        return db

    monkeypatch.setattr(workspaces, "connect", recorded)
    async with inproc_client(workspace, monkeypatch) as client:
        found = await client.call_tool("ocp_context_search", {"query": "verify_token"})
        assert not found.is_error and "src/auth.py" in text_of(found)
        for db in opened:
            await _no_room_to_grow(db)
        summary = "a decision saved while the disk is full: " + "rotate the tokens daily " * 200
        saved = await client.call_tool("ocp_result_save", {"summary": summary})
        assert saved.is_error
        assert "is full" in text_of(saved) and "internal error" not in text_of(saved)
        found = await client.call_tool("ocp_context_search", {"query": "verify_token"})
        assert not found.is_error and "src/auth.py" in text_of(found)
        for db in opened:
            await _room_again(db)
        saved = await client.call_tool("ocp_result_save", {"summary": "kept once space returned"})
        assert not saved.is_error, text_of(saved)
        brief = await client.call_tool("ocp_session_restore", {})
        assert "kept once space returned" in text_of(brief)


async def test_while_the_watcher_retries_on_a_full_disk_a_search_says_the_index_is_stale(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")

    def saved() -> None:
        (ws / "src" / "rotate.py").write_text("def rotate_session(old):\n    return old\n" * 80)

    async with _watcher_retrying_on_a_full_disk(index, saved):
        # The result cites a file that did not change: only the watcher knows the index is
        # behind the disk, and the search's status and note say so.
        found = await index.search("verify_token")
        assert [r.path for r in found.results] == ["src/auth.py"]
        assert found.status.stale
        assert found.note is not None and "disk" in found.note and "full" in found.note
        assert (await index.status()).stale
        await _room_again(index.db)
        async with asyncio.timeout(60):
            while not (await index.search("rotate_session")).results:
                await asyncio.sleep(0.1)
        await watcher_in(index, "watching")
        found = await index.search("rotate_session")
        assert not found.status.stale and found.note is None


async def test_once_a_searchs_own_update_succeeds_the_index_is_no_longer_called_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Space freed while the watcher waits to retry (up to RETRY_MAX, 30 s): a search whose own
    update then indexes what changed said the index was stale, and the disk full, until the
    watcher's next retry. The watcher is woken to retry at once, and follows the disk again."""
    from ocp_server.index import workspace_watch

    monkeypatch.setattr(workspace_watch, "RETRY_FIRST", 600.0)  # no retry of its own here
    ws = _workspace(tmp_path)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")

    def edited() -> None:
        (ws / "src" / "auth.py").write_text(
            "def verify_token(token):\n    return rotate_session(token)\n" * 80
        )

    async with _watcher_retrying_on_a_full_disk(index, edited):
        assert (await index.search("verify_token", refresh=False)).status.stale
        await _room_again(index.db)
        # the result cites a file changed on disk: the search indexes it first, and succeeds
        found = await index.search("verify_token")
        assert found.note is not None and "re-indexed first" in found.note, found.note
        assert "full" not in found.note
        assert not found.status.stale
        assert not (await index.status()).stale
        await watcher_in(index, "watching")  # the watcher retried at once: not 600 s later
        (ws / "src" / "later.py").write_text("def zqlater():\n    pass\n")
        async with asyncio.timeout(30):
            while not (await index.search("zqlater", refresh=False)).results:
                await asyncio.sleep(0.1)


async def test_a_first_build_the_disk_is_too_full_for_is_not_waited_for(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocp_server.index import workspace as workspace_module
    from ocp_server.index import workspace_watch
    from tests.server.inproc import inproc_client, text_of

    async def full_from_the_start(
        db_path: Path, naming: DatabaseNaming | None = None
    ) -> aiosqlite.Connection:
        db = await connect(db_path, naming)  # created and migrated; the first build has no room
        await _no_room_to_grow(db)
        return db

    monkeypatch.setattr(workspace_module, "connect", full_from_the_start)
    # No retry while the search runs: a retry build in progress would rightly say "still
    # being built", which is not what this test is about.
    monkeypatch.setattr(workspace_watch, "RETRY_FIRST", 600.0)
    # The wait is long enough to be seen in the note ("waited 5.0s"), which a search that
    # waits out a build that failed says.
    async with inproc_client(workspace, monkeypatch, first_index_wait=5.0) as client:
        found = await client.call_tool("ocp_context_search", {"query": "verify_token"})
    out = found.structured_content
    assert out is not None and not found.is_error, text_of(found)
    assert out["results"] == [] and out["index"]["stale"]
    assert "still being built" not in out["note"] and "waited" not in out["note"], out["note"]
    assert "disk" in out["note"] and "is full" in out["note"], out["note"]


async def test_searches_leave_a_first_build_that_fails_on_storage_to_the_watchers_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each search after a checkout ran the failing update again (reading every file changed
    to find the disk still full): one search tries after each of the watcher's failures (room
    may have been made), the others answer at once from the index as it is, and say why."""
    from ocp_server.index import workspace_watch

    monkeypatch.setattr(workspace_watch, "RETRY_FIRST", 600.0)  # no retry of its own here
    ws = _committed_workspace(tmp_path)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    searching = asyncio.current_task()
    by_search: list[object] = []
    update = index._indexer.update

    async def counted(*args: object, **kwargs: object) -> object:
        if asyncio.current_task() is searching:  # the test's own task: a search's update
            by_search.append(args)
        return await update(*args, **kwargs)  # type: ignore[arg-type]

    def committed() -> None:
        (ws / "src" / "rotate.py").write_text("def rotate_session(old):\n    return old\n" * 80)
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "rotate")  # the HEAD moved: each search would index first

    async with _watcher_retrying_on_a_full_disk(index, committed):
        monkeypatch.setattr(index._indexer, "update", counted)
        found = [await index.search("verify_token") for _ in range(3)]
        assert len(by_search) == 1
    for answer in found:
        assert [r.path for r in answer.results] == ["src/auth.py"]
        assert answer.note is not None and str(index.db_path) in answer.note
        assert "full" in answer.note and "OCP_DB_PATH" in answer.note
        assert answer.status.stale


def test_a_disk_too_full_for_the_new_databases_tables_is_said_so_not_damaged_pages(
    tmp_path: Path,
) -> None:
    # The database's tables need over 300 kB: a disk (here a file-size limit) that refuses
    # them failed with "disk I/O error" while they were made, and the error said the database
    # had damaged pages, to move it aside (memory lost) and index again.
    ws = _workspace(tmp_path)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "index", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "OCP_OLLAMA_URL": "http://127.0.0.1:9",
            # the limit cut rich's 150 kB emoji table's .pyc short (importlib keeps a partial
            # write): every later process printing with rich failed on "marshal data too short"
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    assert done.returncode != 0
    said = done.stderr
    assert "damaged pages" not in said and "move it aside" not in said, said
    assert "disk I/O error" in said and "ulimit -f" in said and "Free some space" in said, said
    assert str(ws / ".ocp" / "ocp.db") in said
