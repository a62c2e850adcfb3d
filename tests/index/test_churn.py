"""The index under the churn developers cause: folders swapped for symlinks, edits a search
sees before the watcher does, and an update committing while a search reads its rows."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import watchfiles

from ocp_server.index import indexer as indexer_module
from ocp_server.index import watched as watched_module
from ocp_server.index import workspace as workspace_module
from ocp_server.index.files import Candidate, Listing, list_workspace
from ocp_server.index.indexer import process_file
from ocp_server.index.models import IndexSummary
from ocp_server.index.search import search_chunks
from ocp_server.index.watch_alias import PathAlias
from ocp_server.index.watched import Folders, GitWatch, RelevantChanges, git_watch, new_folder
from ocp_server.index.watched import watched_folders as real_watched_folders
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.watching import armed, watcher_running
from tests.server.inproc import inproc_client
from tests.workspace_fixture import git


def _repository(ws: Path) -> None:
    (ws / "docs").mkdir(parents=True)
    (ws / "docs" / "notes.md").write_text("# Notes\nplain public notes\n")
    (ws / "main.py").write_text("def main():\n    pass\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")


async def test_a_tracked_folder_replaced_by_a_symlink_out_of_the_workspace_is_not_followed(
    tmp_path: Path,
) -> None:
    # git still lists docs/notes.md from its index; opening it would read ~/elsewhere/notes.md.
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    _repository(ws)
    outside.mkdir()
    (outside / "notes.md").write_text("# Private\nouter_private_marker salary table\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        shutil.rmtree(ws / "docs")
        os.symlink(outside, ws / "docs")
        summary = await index.update()
        assert summary is not None
        found = (await index.search("outer_private_marker salary")).results
    finally:
        await index.close()
    assert [r.path for r in found] == []
    assert summary.skipped["symlink_outside"] == 2  # the link itself, and the file below it


def test_a_folder_symlinked_inside_the_workspace_is_judged_by_its_target(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _repository(ws)
    (ws / "private").mkdir()
    (ws / "private" / "notes.md").write_text("kept out\n")
    (ws / ".ocpignore").write_text("private/\n")
    shutil.rmtree(ws / "docs")
    os.symlink("private", ws / "docs")
    listing = list_workspace(ws)
    assert "docs/notes.md" not in {c.path for c in listing.candidates}
    assert "main.py" in {c.path for c in listing.candidates}


def test_a_folder_swapped_for_a_symlink_after_the_listing_is_not_read(tmp_path: Path) -> None:
    ws, outside = (tmp_path / "ws").resolve(), tmp_path / "outside"
    _repository(ws)
    (candidate,) = [c for c in list_workspace(ws).candidates if c.path == "docs/notes.md"]
    outside.mkdir()
    (outside / "notes.md").write_text("outer_private_marker\n")
    shutil.rmtree(ws / "docs")
    os.symlink(outside, ws / "docs")
    done = process_file(ws, Candidate(candidate.path, 21, candidate.mtime_ns), None, 1 << 20)
    assert done.skip == "symlink_outside" and done.chunks is None


def test_a_file_swapped_for_a_link_to_a_secret_file_after_the_listing_is_not_read(
    tmp_path: Path,
) -> None:
    ws = (tmp_path / "ws").resolve()
    _repository(ws)
    (candidate,) = [c for c in list_workspace(ws).candidates if c.path == "docs/notes.md"]
    # A plain config line: nothing in its content says secret, only the target's name does.
    (ws / "docs" / ".env.production").write_text("region = eu-west-1 # prod_marker\n")
    (ws / "docs" / "notes.md").unlink()
    os.symlink(".env.production", ws / "docs" / "notes.md")
    done = process_file(ws, Candidate(candidate.path, 21, candidate.mtime_ns), None, 1 << 20)
    assert done.skip == "secret" and done.chunks is None


REFUND = "def compute_refund(order):\n    return order.total\n"
REFUND_MOVED = "import os\n\n\n\ndef compute_refund(order):\n    return order.total * 2\n"


def _cited_lines(ws: Path, path: str, start: int, end: int) -> str:
    return "\n".join((ws / path).read_text().splitlines()[start - 1 : end])


async def test_a_search_right_after_an_edit_cites_the_file_as_it_is_on_disk(
    tmp_path: Path,
) -> None:
    # An agent edits and searches at once, before the watcher's debounce: the answer cited
    # a.py:1-2 with the old text while those lines now hold `import os`, and said nothing.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text(REFUND)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        (ws / "a.py").write_text(REFUND_MOVED)
        response = await index.search("compute_refund")
    finally:
        await index.close()
    (hit,) = response.results
    assert (hit.path, hit.start_line, hit.end_line) == ("a.py", 5, 6)
    assert hit.text == _cited_lines(ws, "a.py", 5, 6)
    assert response.note is not None and "changed" in response.note
    assert not response.status.stale


async def test_a_search_during_a_running_update_waits_for_it_and_cites_the_edit(
    tmp_path: Path,
) -> None:
    # The watcher's update runs (it listed the files before the edit): the search answered
    # from the index as it was, without waiting for it or indexing after it.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text(REFUND)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    held = asyncio.Event()

    async def running_update() -> None:
        async with index._lock:
            held.set()
            await asyncio.sleep(0.2)

    try:
        await index.update()
        update = asyncio.create_task(running_update())
        await held.wait()
        (ws / "a.py").write_text(REFUND_MOVED)
        response = await index.search("compute_refund")
        await update
    finally:
        await index.close()
    (hit,) = response.results
    assert (hit.start_line, hit.text) == (5, _cited_lines(ws, "a.py", 5, 6))


async def test_a_search_that_may_not_index_says_its_cited_files_changed(tmp_path: Path) -> None:
    # Another window holds the lease (or an update runs): the answer cannot be refreshed,
    # so it says which cited files changed since they were indexed, and is marked stale.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text(REFUND)
    (ws / "b.py").write_text("def unrelated_helper():\n    pass\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        (ws / "a.py").write_text(REFUND_MOVED)
        response = await index.search("compute_refund", refresh=False)
        unchanged = await index.search("unrelated_helper", refresh=False)
    finally:
        await index.close()
    assert response.results[0].path == "a.py" and response.status.stale
    assert response.note is not None and "a.py" in response.note
    assert unchanged.note is None and not unchanged.status.stale


async def test_a_search_reading_its_rows_after_an_update_never_cites_one_file_with_anothers_text(
    tmp_path: Path,
) -> None:
    # A search ranks in the snapshot it loaded, then reads its chunks' rows by id. An update
    # committed in between (another window's watcher) deleted first.py and gave its chunk id
    # to second.py's chunk (ids follow the largest): the answer cited first.py:1-2 with
    # second.py's text. Run as it interleaves: the old snapshot, then the rows after the update.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "first.py").write_text("def parse_quota(text):\n    return int(text)\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        before = await index.snapshot()
        (ws / "first.py").unlink()
        (ws / "second.py").write_text("def parse_quota(raw):\n    return float(raw.strip())\n")
        await index.update()
        results, _ = await search_chunks(index._read, before, "parse quota", k=3)
    finally:
        await index.close()
    for r in results:
        assert (ws / r.path).is_file() and r.text == _cited_lines(
            ws, r.path, r.start_line, r.end_line
        )


def _inotify_watches() -> int:
    """This process's inotify watches (Linux: one `inotify wd:` line per watch)."""
    count = 0
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            count += Path(f"/proc/self/fdinfo/{fd}").read_text().count("inotify wd:")
        except OSError:
            pass
    return count


@pytest.mark.skipif(sys.platform != "linux", reason="counts inotify watches")
async def test_the_watcher_never_watches_through_a_symlink_out_of_the_workspace(
    tmp_path: Path,
) -> None:
    # watchfiles follows symlinks when it watches a tree: `data -> /mnt/datasets` cost a
    # watch per folder out there (from the limit the user's IDE shares) and an update on
    # every write there.
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "main.py").write_text("def main():\n    pass\n")
    for i in range(60):
        (outside / f"d{i}").mkdir(parents=True)
    os.symlink(outside, ws / "data")
    before = _inotify_watches()
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(30):
            await armed(index, ws, "src/armed_marker.py")
        watches = _inotify_watches() - before
    assert 0 < watches < 10  # ws and src, not the 61 folders outside


def test_the_watcher_watches_a_nested_repositorys_top_folder_only(tmp_path: Path) -> None:
    # Its files are not indexed: a write deeper in it (its build, its own checkout) cost a
    # listing of the whole workspace that found nothing to do.
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "tools" / "inner" / "pkg" / "deep").mkdir(parents=True)
    git(ws / "tools" / "inner", "init", "-q")
    folders = real_watched_folders(ws)
    assert str(ws / "src") in folders and str(ws / "tools" / "inner") in folders
    assert not [f for f in folders if f.startswith(str(ws / "tools" / "inner" / "pkg"))]
    # its `.git` removed, it is plain folders of the workspace: watched again from the top
    assert new_folder({(watchfiles.Change.deleted, str(ws / "tools" / "inner" / ".git"))})


async def test_a_file_force_added_to_git_is_indexed_by_the_watcher(
    workspace: Path, tmp_path: Path
) -> None:
    # `git add -f debug.log` (ignored by *.log) writes .git/index only, which the watcher
    # ignored: the file waited for the next unrelated change.
    index = await WorkspaceIndex.open(workspace, tmp_path / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(30):
            await armed(index, workspace, "src/armed_marker.py")
            git(workspace, "add", "-f", "debug.log")
            while "debug.log" not in {
                r.path for r in (await index.search("verify_token failed", refresh=False)).results
            }:
                await asyncio.sleep(0.1)


async def test_a_file_excluded_in_git_info_exclude_leaves_the_index_with_the_watcher(
    workspace: Path, tmp_path: Path
) -> None:
    # An edit to .git/info/exclude changes no file of the work tree: the watcher missed it.
    exclude = workspace / ".git" / "info" / "exclude"
    exclude.parent.mkdir(exist_ok=True)
    index = await WorkspaceIndex.open(workspace, tmp_path / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(30):
            await armed(index, workspace, "src/scratch_notes.py")
            with exclude.open("a") as file:
                file.write("\nsrc/scratch_notes.py\n")
            while (await index.search("scratch_notes", refresh=False)).results:
                await asyncio.sleep(0.1)


def test_the_watcher_follows_git_index_and_exclude_but_not_gits_other_writes(
    workspace: Path, tmp_path: Path
) -> None:
    relevant = RelevantChanges(workspace, tmp_path / "ocp.db", git_watch(workspace))
    git_dir = workspace / ".git"
    for followed in ("index", "info/exclude", "HEAD", "refs/heads/main"):
        assert relevant(watchfiles.Change.modified, str(git_dir / followed)), followed
    for ignored in ("index.lock", "objects/ab/cdef", "info/exclude~", "ORIG_HEAD", "logs/HEAD"):
        assert not relevant(watchfiles.Change.modified, str(git_dir / ignored)), ignored
    folders = real_watched_folders(workspace)
    assert str(git_dir / "info") in folders
    assert not [f for f in folders if f.startswith(str(git_dir / "objects"))]


async def test_a_file_saved_in_a_folder_made_after_the_watcher_started_is_indexed(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.py").write_text("def main():\n    pass\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(30):
            await armed(index, ws, "first_marker.py")
            await armed(index, ws, "pkg/deeper/later_marker.py")
            await armed(index, ws, "pkg/deeper/another_marker.py")
    assert index.watcher_error is None


async def test_a_file_saved_before_the_watches_are_in_place_is_indexed_by_the_catch_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The watcher's catch-up update ran while the folders were still being listed, before any
    # watch was in place: a file saved after its scan and before the watches raised no event,
    # and waited for some other change (a listing is slow on a loaded machine).
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.py").write_text("def main():\n    pass\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    update = index.update
    started: list[None] = []
    caught_up = threading.Event()

    async def counted(*args: Any, **kwargs: Any) -> IndexSummary | None:
        started.append(None)
        try:
            return await update(*args, **kwargs)
        finally:
            if len(started) >= 2:
                caught_up.set()

    def listed_then_saved(
        workspace: Path, git: GitWatch | None = None, alias: PathAlias | None = None
    ) -> Folders:
        if not (ws / "saved_meanwhile.py").exists():
            if len(started) >= 2:  # the catch-up already runs: the save comes after its scan
                caught_up.wait(30)
            (ws / "saved_meanwhile.py").write_text("def saved_meanwhile():\n    pass\n")
        return real_watched_folders(workspace, git, alias)

    index.update = counted  # type: ignore[method-assign]
    monkeypatch.setattr(watched_module, "watched_folders", listed_then_saved)
    stop = asyncio.Event()
    task = asyncio.create_task(index.watch(stop))
    try:
        async with asyncio.timeout(30):
            while not (await index.search("saved_meanwhile", refresh=False)).results:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await index.close()


async def test_a_folder_deleted_before_the_watcher_starts_is_not_watched_and_not_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The folder list is made, then watching starts: a folder deleted in between made
    # watchfiles raise FileNotFoundError, a warning and a retry 0.5 s later.
    ws = tmp_path / "ws"
    (ws / "build" / "tmp").mkdir(parents=True)
    (ws / "main.py").write_text("def main():\n    pass\n")
    listed: list[set[str]] = []

    def listed_then_deleted(
        workspace: Path, git: GitWatch | None = None, alias: PathAlias | None = None
    ) -> Folders:
        folders = real_watched_folders(workspace, git, alias)
        if not listed:
            shutil.rmtree(ws / "build")
        listed.append(set(folders))
        return folders

    monkeypatch.setattr(watched_module, "watched_folders", listed_then_deleted)
    monkeypatch.setattr(workspace_module, "watched_folders", listed_then_deleted, raising=False)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    async with watcher_running(index):
        async with asyncio.timeout(30):
            await armed(index, ws, "src/armed_marker.py")
    assert index.watcher_error is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    # Listed again, without the deleted folders. Compared by name: `src`, which the marker
    # makes once the first update is done, may be in either listing (the first one runs
    # after that update, later still on a loaded machine).
    deleted = {str(ws / "build"), str(ws / "build" / "tmp")}
    assert len(listed) >= 2 and deleted <= listed[0] and not deleted & listed[1], listed


async def test_a_checkout_finishing_during_an_update_is_noticed_at_the_next_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The update listed the files, then read HEAD: a checkout finishing in between left the
    # old branch's files recorded under the new HEAD, and no search saw a change to index.
    ws = tmp_path / "ws"
    _repository(ws)
    git(ws, "checkout", "-qb", "feature")
    (ws / "feature_only.py").write_text("def feature_only_func():\n    pass\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "feature")
    git(ws, "checkout", "-q", "-")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")

    def listing_then_checkout(*args: object, **kwargs: object) -> Listing:
        listing = list_workspace(*args, **kwargs)  # type: ignore[arg-type]
        git(ws, "checkout", "-q", "feature")
        return listing

    try:
        await index.update()
        monkeypatch.setattr(indexer_module, "list_workspace", listing_then_checkout)
        (ws / "main.py").write_text("def main():\n    return 1\n")
        await index.update()
        monkeypatch.undo()
        found = (await index.search("feature_only_func")).results
    finally:
        await index.close()
    assert [r.path for r in found][:1] == ["feature_only.py"]


async def test_a_tracked_file_deleted_from_the_work_tree_is_not_counted_unreadable(
    tmp_path: Path,
) -> None:
    # `rm -r docs` without `git rm`: git still lists docs/notes.md; the status reported it
    # as an unreadable file.
    ws = tmp_path / "ws"
    _repository(ws)
    shutil.rmtree(ws / "docs")
    listing = list_workspace(ws)
    assert [c.path for c in listing.candidates] == ["main.py"]
    assert listing.skipped == {}


async def test_the_search_tool_right_after_an_edit_cites_lines_the_file_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through the real server, its watcher running: the edit is searched for at once, before
    # the watcher's debounce has passed.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text(REFUND)
    async with inproc_client(ws, monkeypatch) as client:
        first = await client.call_tool("ocp_context_search", {"query": "compute_refund"})
        assert first.structured_content and first.structured_content["results"]
        (ws / "a.py").write_text(REFUND_MOVED)
        result = await client.call_tool("ocp_context_search", {"query": "compute_refund"})
    out = result.structured_content
    assert out is not None
    hit = out["results"][0]
    assert (hit["path"], hit["start_line"]) == ("a.py", 5)
    assert hit["text"] == _cited_lines(ws, "a.py", hit["start_line"], hit["end_line"])
    assert not out["index"]["stale"]
