"""What the index reads again as files change (racy saves, edits, moves, deletions, checkouts, the
watcher) and what it leaves alone; old snapshots let go."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from ocp_server.index import indexer as indexer_module
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.index_rows import rewrite_rows, row_counts
from tests.workspace_fixture import git, settled

# the module (the package's `redact` is its function)
redact_module = importlib.import_module("ocp_router.redact")


async def test_a_same_size_rewrite_within_one_mtime_tick_is_read_again(
    index: WorkspaceIndex, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Git's "racy clean" case: a file rewritten, as many bytes, within the mtime tick the
    # update read it in keeps its size and mtime, and the next update trusted them: the old
    # text stayed indexed until the file changed again.
    auth = workspace / "src" / "auth.py"
    os.utime(auth)  # saved just now, as the update starts
    real_process_file = indexer_module.process_file

    def read_in_the_tick_of_the_save(*args: Any) -> Any:
        done = real_process_file(*args)  # the same moment, however slow the machine is
        read_at = done.candidate.mtime_ns / 1e9
        return dataclasses.replace(done, read_at=read_at) if done.read_at else done

    monkeypatch.setattr(indexer_module, "process_file", read_in_the_tick_of_the_save)
    await index.update()
    monkeypatch.undo()
    before = auth.stat()
    auth.write_text(auth.read_text().replace("verify_token", "verify_tokex"))
    os.utime(auth, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick
    assert auth.stat().st_size == before.st_size
    summary = await index.update()
    assert summary is not None and summary.changed == 1
    found = (await index.search("verify_tokex", refresh=False)).results
    assert found and found[0].path == "src/auth.py"


async def test_a_racy_file_of_a_batch_slower_than_the_racy_window_is_read_again(
    index: WorkspaceIndex, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read within a tick of its save, stored more than RACY_SECONDS later (a slow batch of a
    # big build): the time it was stored no longer said it was racy.
    auth = workspace / "src" / "auth.py"
    saved = time.time() - indexer_module.RACY_SECONDS - 1
    os.utime(auth, (saved, saved))
    real_process_file = indexer_module.process_file

    def read_as_saved(*args: Any) -> Any:
        done = real_process_file(*args)
        return dataclasses.replace(done, read_at=saved) if done.read_at else done

    monkeypatch.setattr(indexer_module, "process_file", read_as_saved)
    await index.update()
    monkeypatch.undo()
    before = auth.stat()
    auth.write_text(auth.read_text().replace("verify_token", "verify_tokex"))
    os.utime(auth, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick
    summary = await index.update()
    assert summary is not None and summary.changed == 1
    found = (await index.search("verify_tokex", refresh=False)).results
    assert found and found[0].path == "src/auth.py"


async def test_a_file_saved_half_a_second_before_it_was_read_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a fresh clone indexed at once every file was read within RACY_SECONDS of its save,
    # and the next update (the watcher's catch-up, right after the first) read and hashed
    # every one again. An mtime with a part below the second comes from a filesystem whose
    # tick is milliseconds: half a second after the save, a rewrite gets another mtime. An
    # mtime in whole seconds may come from a tick of 1 or 2 s (FAT, HFS+): still racy.
    ws = tmp_path / "ws"
    ws.mkdir()
    whole = (time.time_ns() // 10**9 - 10) * 10**9
    for name, mtime_ns in (("fine.py", whole + 123_456_789), ("coarse.py", whole)):
        (ws / name).write_text(f"def {name[:-3]}_function():\n    pass\n")
        os.utime(ws / name, ns=(mtime_ns, mtime_ns))
    real_process_file = indexer_module.process_file

    def read_half_a_second_after_the_save(*args: Any) -> Any:
        done = real_process_file(*args)
        read_at = done.candidate.mtime_ns / 1e9 + 0.5
        return dataclasses.replace(done, read_at=read_at) if done.read_at else done

    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        monkeypatch.setattr(indexer_module, "process_file", read_half_a_second_after_the_save)
        await index.update()
        monkeypatch.undo()
        again = await index.update()
    assert again is not None and again.scanned == 1  # coarse.py


async def test_no_change_reindex_reads_nothing(index: WorkspaceIndex, workspace: Path) -> None:
    settled(workspace)  # saved a while ago: nothing is racy
    await index.update()
    again = await index.update()
    assert again is not None and (again.scanned, again.changed, again.chunks_added) == (0, 0, 0)


async def test_an_edit_rechunks_only_that_file_and_keeps_unchanged_chunks(
    index: WorkspaceIndex, workspace: Path
) -> None:
    settled(workspace)  # saved a while ago: nothing is racy
    await index.update()
    before: dict[str, int] = {
        h: i for h, i in await index.db.execute_fetchall("SELECT content_hash, id FROM chunks")
    }
    auth = workspace / "src" / "auth.py"
    auth.write_text(auth.read_text().replace("return new\n", "return new + '!'\n"))
    summary = await index.update()
    assert summary is not None and (summary.scanned, summary.changed) == (1, 1)
    assert summary.chunks_added == 1 and summary.chunks_removed == 1
    after: dict[str, int] = {
        h: i for h, i in await index.db.execute_fetchall("SELECT content_hash, id FROM chunks")
    }
    kept = set(before) & set(after)
    assert len(kept) == len(after) - 1 and all(before[h] == after[h] for h in kept)
    top = (await index.search("rotate_session")).results[0]
    assert "+ '!'" in top.text


async def test_touch_without_change_costs_a_hash_not_a_rechunk(
    index: WorkspaceIndex, workspace: Path
) -> None:
    settled(workspace)  # saved a while ago: nothing is racy
    await index.update()
    auth = workspace / "src" / "auth.py"
    auth.write_text(auth.read_text())
    summary = await index.update()
    assert summary is not None and (summary.scanned, summary.changed) == (1, 0)


async def test_moved_lines_update_line_numbers_without_reinserting(
    index: WorkspaceIndex, workspace: Path
) -> None:
    await index.update()
    auth = workspace / "src" / "auth.py"
    auth.write_text("# a new first line\n" + auth.read_text())
    summary = await index.update()
    assert summary is not None and summary.chunks_added <= 1
    top = (await index.search("verify_token")).results[0]
    assert (top.start_line, top.end_line) == (7, 9)


async def test_deleted_files_leave_no_rows(
    index: WorkspaceIndex, workspace: Path, tmp_path: Path
) -> None:
    await index.update()
    (workspace / "web" / "billing.ts").unlink()
    summary = await index.update()
    assert summary is not None and summary.removed == 1
    assert not (await index.search("totalCents")).results
    files, _chunks, orphans = row_counts(tmp_path / "db" / "ocp.db")
    assert (files - 1, orphans) == (4, 0)  # the binary logo.png is remembered as skipped


async def test_a_checkout_made_while_nothing_ran_is_noticed_at_the_next_query(
    index: WorkspaceIndex, workspace: Path
) -> None:
    await index.update()
    git(workspace, "checkout", "-qb", "feature")
    (workspace / "src" / "payments.py").write_text("def charge_card(amount):\n    return amount\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "payments")
    response = await index.search("charge_card")
    assert response.results and response.results[0].symbol == "charge_card"
    assert response.note and "HEAD changed" in response.note


async def test_a_search_the_index_cannot_catch_up_for_after_a_checkout_says_it_may_be_behind(
    index: WorkspaceIndex, workspace: Path
) -> None:
    """During a checkout of many files the watcher's update runs (or another window indexes):
    a search answered from the index of the old branch, its files unchanged or not yet read
    again, and only `stale` told it; the note the agent reads said nothing."""
    await index.update()
    git(workspace, "checkout", "-qb", "feature")
    (workspace / "src" / "payments.py").write_text("def charge_card(amount):\n    return amount\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "payments")
    response = await index.search("verify_token", refresh=False)
    assert response.results and response.status.stale
    assert response.note and "HEAD moved" in response.note, response.note
    await index.update()
    caught_up = await index.search("verify_token", refresh=False)
    assert not caught_up.status.stale and caught_up.note is None


async def test_invalid_utf8_is_indexed_as_windows_1252(
    index: WorkspaceIndex, workspace: Path
) -> None:
    (workspace / "latin1.py").write_bytes(b"def caf\xe9():\n    return 'na\xefve'\n")
    summary = await index.update()
    assert summary is not None and "unreadable" not in summary.skipped
    hits = (await index.search("latin1")).results
    assert hits and hits[0].path == "latin1.py"
    assert hits[0].text == "def café():\n    return 'naïve'"  # not replacement characters


async def test_the_watcher_indexes_a_save_within_seconds(
    index: WorkspaceIndex, workspace: Path
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(index.watch(stop))
    try:
        async with asyncio.timeout(20):
            while (await index.status()).last_update is None:
                await asyncio.sleep(0.05)
            (workspace / "src" / "fresh.py").write_text("def brand_new_helper():\n    pass\n")
            while not (await index.search("brand_new_helper", refresh=False)).results:
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_running_update_reports_how_far_it_is(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(9):
        (workspace / f"extra_{i}.py").write_text(f"def extra_{i}():\n    return {i}\n")
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 4)
    seen: list[tuple[int, int]] = []
    idx = await WorkspaceIndex.open(workspace, tmp_path / "p.db")
    try:
        await idx.update(lambda done, total: seen.append((done, total)))
        # Once the work is known, then after every file (not every batch of 4).
        assert seen == [(done, 15) for done in range(16)]
        assert idx.progress == (15, 15)
    finally:
        await idx.close()


async def test_indexing_leaves_the_searches_redaction_cache_alone(
    workspace: Path, tmp_path: Path
) -> None:
    # The index checks every chunk for secrets once; kept, those texts would only evict the
    # ones searches hand out again (the cache holds about 8 MB).
    redact_module._RECENT.clear()
    idx = await WorkspaceIndex.open(workspace, tmp_path / "c.db")
    try:
        summary = await idx.update()
    finally:
        await idx.close()
    assert summary is not None and summary.chunks > 0
    assert redact_module._RECENT.get("def verify_token") is None
    assert not redact_module._RECENT._results


async def test_a_snapshot_read_again_lets_the_old_one_go_first(
    index: WorkspaceIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index write moves the generation on: the old postings are let go before the new
    ones are read (nothing asks for them any more), so a reload never holds both."""
    assert await _old_held_during_reload(index, monkeypatch) == [False]
    assert (await index.search("session token verify", k=3)).results


async def test_the_old_snapshot_is_let_go_even_while_the_thread_that_read_it_lingers(
    index: WorkspaceIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker thread keeps its last work item, and that item's future its result, until the
    # OS runs the thread again: on a loaded machine after the next reload began, which then
    # held both snapshots (the test above failed once so in a loaded run).
    import time
    from concurrent.futures import thread

    from ocp_server.index.lexical import Snapshot

    run = thread._WorkItem.run

    def descheduled_after(item: Any) -> None:
        run(item)
        if isinstance(getattr(item.future, "_result", None), Snapshot):
            time.sleep(0.5)  # before the thread lets go of `item`

    monkeypatch.setattr(thread._WorkItem, "run", descheduled_after)
    assert await _old_held_during_reload(index, monkeypatch) == [False]


async def _old_held_during_reload(
    index: WorkspaceIndex, monkeypatch: pytest.MonkeyPatch
) -> list[bool]:
    """Whether the old snapshot was alive when the reload after an index write began (one
    entry a load)."""
    import gc
    import weakref

    from ocp_server.index import lexical

    await index.update()
    old = weakref.ref((await index.snapshot()).chunk_body.records)  # (no weakref to a Snapshot)
    load = lexical.read_snapshot  # a load of the whole index
    held_during_load: list[bool] = []

    def watched(conn: sqlite3.Connection, generation: str) -> object:
        gc.collect()
        held_during_load.append(old() is not None)
        return load(conn, generation)

    monkeypatch.setattr(lexical, "read_snapshot", watched)
    await rewrite_rows(index, "UPDATE chunks SET tokens = tokens")
    new = await index.snapshot()
    assert new is await index.snapshot()  # the new one is kept for the next search
    return held_during_load
