"""Building the index across processes and failures: the lease, a build killed mid-run and resumed,
a corrupt database, where the database lives."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ocp_server.db import DatabaseError
from ocp_server.index import indexer as indexer_module
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.status import index_report
from tests.index.index_rows import row_counts
from tests.workspace_fixture import git


def _add_twelve_modules_written_a_minute_ago(workspace: Path) -> None:
    """Twelve more modules, and every file dated a minute back: a file written just before it
    was read is read again anyway (racy), which the tests of interrupted builds do not count."""
    for i in range(12):
        (workspace / f"mod_{i}.py").write_text(f"def function_{i}():\n    return {i}\n")
    past = time.time() - 60
    for path in workspace.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            os.utime(path, (past, past))


class Killed(Exception):
    """Stands in for the process dying between two batches."""


async def _build_killed_after(files: int, workspace: Path, db_path: Path) -> None:
    """An update of `workspace` into `db_path` that dies once `files` files are done."""

    def die(done: int, total: int) -> None:
        if done >= files:
            raise Killed

    async with await WorkspaceIndex.open(workspace, db_path) as idx:
        with pytest.raises(Killed):
            await idx.update(die)


async def test_second_process_does_not_index_while_the_first_holds_the_lease(
    workspace: Path, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    first = await WorkspaceIndex.open(workspace, db)
    second = await WorkspaceIndex.open(workspace, db)
    try:
        assert await first.update() is not None
        assert await second.update() is None
        assert (await second.search("verify_token", refresh=False)).results
        assert (await second.status()).indexer is False
    finally:
        await first.close()
    assert await second.acquire_lease()  # released on close: the reader takes over
    await second.close()


async def test_killing_the_indexer_mid_run_leaves_a_consistent_database(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_twelve_modules_written_a_minute_ago(workspace)
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 4)
    db_path = tmp_path / "k.db"
    await _build_killed_after(8, workspace, db_path)
    files, _, orphans = row_counts(db_path)
    assert 0 < files < 17 and orphans == 0
    idx = await WorkspaceIndex.open(workspace, db_path)
    summary = await idx.update()
    assert summary is not None and summary.files == 17  # 5 + 12 new modules
    await idx.close()


async def test_a_first_build_killed_mid_run_resumes_where_it_stopped_and_says_it_is_building(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build killed (an IDE closed, `kill -9`) and started again read every file again
    (its stored chunks counted as found with other redaction rules), so a build longer than a
    session never finished; and it said the index was complete while it ran."""
    _add_twelve_modules_written_a_minute_ago(workspace)
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 4)
    db_path = tmp_path / "k.db"
    idx = await WorkspaceIndex.open(workspace, db_path)

    listed: list[int] = []

    def die(done: int, total: int) -> None:
        listed.append(total)
        if done >= 8:
            raise Killed

    with pytest.raises(Killed):
        await idx.update(die)
    await idx.close()
    stored, _, _ = row_counts(db_path)
    assert 0 < stored < listed[0]
    idx = await WorkspaceIndex.open(workspace, db_path)
    building: list[bool] = []
    summary = await idx.update(lambda done, total: building.append(idx.building))
    await idx.close()
    assert summary is not None and summary.files == 17
    assert summary.scanned == listed[0] - stored  # only the files it had not stored
    assert building and all(building)


async def test_a_search_completing_an_interrupted_first_build_does_not_blame_the_git_head(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build interrupted (a full disk, a kill) recorded no HEAD: the search that
    completed it said 'git HEAD changed since the last update', of a HEAD that never moved."""
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 2)
    db_path = tmp_path / "k.db"
    await _build_killed_after(3, workspace, db_path)
    async with await WorkspaceIndex.open(workspace, db_path) as idx:
        response = await idx.search("verify_token")
    assert response.results and not response.status.stale
    assert response.note is not None and "HEAD" not in response.note, response.note
    assert "interrupted" in response.note, response.note


async def test_a_build_interrupted_and_finished_by_a_small_update_is_no_longer_reported(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build of several batches records its progress; one interrupted (a full disk, a kill)
    and completed by an update of one batch left 'build interrupted: 8/18 files: the next
    update completes it' in every status for good."""
    _add_twelve_modules_written_a_minute_ago(workspace)
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 4)
    db_path = tmp_path / "k.db"
    await _build_killed_after(12, workspace, db_path)
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 200)  # what is left is one batch
    async with await WorkspaceIndex.open(workspace, db_path) as idx:
        assert (await index_report(idx)).build.state == "interrupted"
        assert await idx.update() is not None
        assert (await index_report(idx)).build.state == "idle"


async def test_a_corrupt_database_gets_a_clear_error(workspace: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    # an SQLite database with damaged pages (one that is none at all is moved aside:
    # test_corrupt_database.py)
    bad.write_bytes(b"SQLite format 3\0" + b"\xff" * 4080)
    with pytest.raises(DatabaseError, match="move it aside"):
        await WorkspaceIndex.open(workspace, bad)


async def test_the_default_database_lives_in_a_gitignored_ocp_folder(workspace: Path) -> None:
    idx = await WorkspaceIndex.open(workspace)
    await idx.update()
    await idx.close()
    assert (workspace / ".ocp" / "ocp.db").exists()
    assert git(workspace, "status", "--porcelain", "--untracked-files=all").strip() == ""
