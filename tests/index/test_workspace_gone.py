"""A workspace folder that goes away while it is served (removed, moved away, its drive
unmounted) lists no file: an update stops there rather than take that for every file
deleted, and the index is still whole when the folder comes back."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ocp_server.errors import DatabaseError
from ocp_server.index import workspace_updates, workspace_watch
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.index.workspace_root import WorkspaceGone
from ocp_server.status import index_report
from tests.index.built import write_files
from tests.index.watching import watcher_in, watcher_running
from tests.workspace_fixture import git

FILES = {
    "app.py": "def serve_alpha():\n    return 1\n",
    "lib/util.py": "def helper_beta():\n    return 2\n",
}


@pytest.mark.parametrize("db_inside", [False, True], ids=["db_elsewhere", "db_in_workspace"])
async def test_a_workspace_moved_away_and_back_keeps_its_index(
    tmp_path: Path, db_inside: bool
) -> None:
    ws = write_files(tmp_path / "ws", FILES)
    # .ocp/ocp.db moves away with the folder: the open database follows it
    index = await WorkspaceIndex.open(ws, None if db_inside else tmp_path / "db" / "ocp.db")
    try:
        assert (await index.update()) is not None
        ws.rename(tmp_path / "away")  # a mount gone, a folder renamed in a file manager
        with pytest.raises(WorkspaceGone, match="is gone"):
            await index.update()
        status = await index.status()
        assert status.files == 2 and status.stale
        assert status.workspace_gone is not None and str(ws) in status.workspace_gone
        report = await index_report(index)
        assert report.workspace_gone == status.workspace_gone
        # a search answers from the index as it was, and says why; a database that moved
        # away with the folder (.ocp/ocp.db) is read where it went, not by its old path
        found = await index.search("serve_alpha")
        assert [r.path for r in found.results][:1] == ["app.py"]
        assert found.note is not None and "is gone" in found.note
        assert "changed on disk" not in found.note  # (its files are not there to change)
        (tmp_path / "away").rename(ws)
        summary = await index.update()
        assert summary is not None
        assert (summary.files, summary.removed, summary.changed) == (2, 0, 0)
        assert (await index.status()).workspace_gone is None
    finally:
        await index.close()


async def test_a_search_whose_database_was_removed_with_the_folder_names_it(
    tmp_path: Path,
) -> None:
    # Its first search read the rows by the database's path: "unable to open database file"
    ws = write_files(tmp_path / "ws", FILES)
    index = await WorkspaceIndex.open(ws)
    try:
        await index.update()
        shutil.rmtree(ws)
        with pytest.raises(DatabaseError, match="is not there any more") as caught:
            await index.search("serve_alpha")
        assert str(ws / ".ocp" / "ocp.db") in str(caught.value)
    finally:
        await index.close()


async def test_a_git_workspace_removed_and_checked_out_again_keeps_its_rows(
    tmp_path: Path,
) -> None:
    ws = write_files(tmp_path / "ws", FILES)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    shutil.copytree(ws / ".git", tmp_path / "saved.git")
    index = await WorkspaceIndex.open(ws, tmp_path / "db" / "ocp.db")
    try:
        await index.update()
        ids = list(await index.db.execute_fetchall("SELECT id, path FROM files ORDER BY path"))
        shutil.rmtree(ws)
        with pytest.raises(WorkspaceGone):
            await index.update()
        assert list(await index.db.execute_fetchall("SELECT id, path FROM files ORDER BY path"))
        ws.mkdir()
        shutil.copytree(tmp_path / "saved.git", ws / ".git")
        git(ws, "checkout", "-q", "--", ".")
        summary = await index.update()
        assert summary is not None and summary.removed == 0
        # the same rows: memories' citations of them still resolve
        assert (
            list(await index.db.execute_fetchall("SELECT id, path FROM files ORDER BY path")) == ids
        )
    finally:
        await index.close()


async def test_a_workspace_emptied_in_place_is_indexed_as_empty(tmp_path: Path) -> None:
    # Every file deleted from a folder that is still there (the same drive) is what it says.
    ws = write_files(tmp_path / "ws", FILES)
    index = await WorkspaceIndex.open(ws, tmp_path / "db" / "ocp.db")
    try:
        await index.update()
        (ws / "app.py").unlink()
        shutil.rmtree(ws / "lib")
        summary = await index.update()
        assert summary is not None and (summary.files, summary.removed) == (0, 2)
        assert (await index.status()).workspace_gone is None
    finally:
        await index.close()


_UNMOUNTED = textwrap.dedent(
    """
    import asyncio, subprocess, sys
    from pathlib import Path
    from ocp_server.index.workspace import WorkspaceIndex
    from ocp_server.index.workspace_root import WorkspaceGone

    store, ws, db = (Path(p) for p in sys.argv[1:4])

    def mount(*args):
        subprocess.run(["mount", *args], check=True)

    async def main():
        mount("-t", "tmpfs", "none", str(store))
        (store / "app.py").write_text("def serve_alpha():\\n    return 1\\n")
        mount("--bind", str(store), str(ws))
        index = await WorkspaceIndex.open(ws, db)
        await index.update()
        subprocess.run(["umount", str(ws)], check=True)  # the empty folder below is left
        try:
            await index.update()
            print("updated", (await index.status()).files)
        except WorkspaceGone as exc:
            print("gone", (await index.status()).files, exc)
        mount("--bind", str(store), str(ws))
        summary = await index.update()
        print("back", summary.files, summary.changed)
        await index.close()

    asyncio.run(main())
    """
)


def test_a_workspace_whose_drive_is_unmounted_keeps_its_index(tmp_path: Path) -> None:
    # A mount point left empty: the folder is there, on another device than when indexed.
    # Run in a mount namespace of its own (unshare -m), so nothing outside it sees the mounts.
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("no mount namespace here (unshare -m needs CAP_SYS_ADMIN)")
    store, ws = tmp_path / "store", tmp_path / "ws"
    store.mkdir()
    ws.mkdir()
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", sys.executable, "-c", _UNMOUNTED]
        + [str(store), str(ws), str(tmp_path / "db" / "ocp.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gone 1 "), lines
    assert "unmounted" in lines[0]
    assert lines[1] == "back 1 0"


async def test_a_missing_folder_opens_only_a_database_that_holds_it(tmp_path: Path) -> None:
    # A folder that is not there is served from its kept index; a database holding another
    # workspace is not taken over by a mistyped one
    ws = write_files(tmp_path / "ws", FILES)
    db = tmp_path / "db" / "ocp.db"
    index = await WorkspaceIndex.open(ws, db)
    await index.update()
    await index.close()
    ws.rename(tmp_path / "away")
    kept = await WorkspaceIndex.open(ws, db)
    try:
        assert (await kept.status()).workspace_gone is not None
    finally:
        await kept.close()
    with pytest.raises(NotADirectoryError):
        await WorkspaceIndex.open(tmp_path / "typo", db)
    with pytest.raises(NotADirectoryError):
        await WorkspaceIndex.open(tmp_path / "typo", tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


async def test_a_folder_gone_while_watched_is_logged_once_not_at_every_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A folder moved away from a running server logged a WARNING "the index watcher ... failed
    # (FileNotFoundError: ... was deleted ...); retrying in 30.0s" at every retry, every 30 s
    # for as long as it stayed away, beside the one line saying it is gone.
    monkeypatch.setattr(workspace_watch, "RETRY_FIRST", 0.01)
    monkeypatch.setattr(workspace_watch, "RETRY_MAX", 0.01)
    ws = write_files(tmp_path / "ws", FILES)
    index = await WorkspaceIndex.open(ws, tmp_path / "db" / "ocp.db")
    with caplog.at_level("DEBUG", logger=workspace_watch.__name__):
        caplog.set_level("DEBUG", logger=workspace_updates.__name__)
        async with watcher_running(index):
            await watcher_in(index, "watching")
            ws.rename(tmp_path / "away")
            async with asyncio.timeout(30):
                while sum("retrying in" in r.getMessage() for r in caplog.records) < 3:
                    await asyncio.sleep(0.02)
            (tmp_path / "away").rename(ws)
            await watcher_in(index, "watching")
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert [m for _, m in said if "is gone" in m or "watcher" in m] == [
        f"the workspace folder {ws} is gone: it was removed or moved away. The index is kept "
        "as it was, and updated once the folder is back"
    ]
    assert (logging.getLevelName(logging.INFO), f"the workspace folder {ws} is back") in said


async def test_another_failure_once_the_folder_is_back_is_logged_as_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The retries were said at DEBUG as long as the folder counted as gone, which only an
    # update that works ends: back but unreadable (permissions, a full disk), the watcher
    # failed at every retry and the log at WARNING said nothing of it.
    monkeypatch.setattr(workspace_watch, "RETRY_FIRST", 0.01)
    monkeypatch.setattr(workspace_watch, "RETRY_MAX", 0.01)
    ws = write_files(tmp_path / "ws", FILES)
    index = await WorkspaceIndex.open(ws, tmp_path / "db" / "ocp.db")

    def retries() -> list[str]:
        return [r.levelname for r in caplog.records if "retrying in" in r.getMessage()]

    with caplog.at_level("DEBUG", logger=workspace_watch.__name__):
        async with watcher_running(index):
            await watcher_in(index, "watching")
            ws.rename(tmp_path / "away")
            async with asyncio.timeout(30):
                while len(retries()) < 2:
                    await asyncio.sleep(0.02)
            assert set(retries()) == {"DEBUG"}  # the folder gone: said once, elsewhere

            async def denied(*args: object, **kwargs: object) -> None:
                raise PermissionError(13, "Permission denied", str(ws))

            monkeypatch.setattr(index._indexer, "update", denied)
            (tmp_path / "away").rename(ws)
            async with asyncio.timeout(30):
                while "WARNING" not in retries():
                    await asyncio.sleep(0.02)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "PermissionError" in warned[0]
