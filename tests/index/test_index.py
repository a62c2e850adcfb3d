"""WorkspaceIndex end to end on real files and a real SQLite database."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import random
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ocp_server.db import DatabaseError
from ocp_server.errors import InputError
from ocp_server.index import indexer as indexer_module
from ocp_server.index.chunk_columns import READ_MMAP_BYTES
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.status import index_report
from tests.workspace_fixture import git, settled

# the module (the package's `redact` is its function)
redact_module = importlib.import_module("ocp_router.redact")


@pytest.fixture
async def index(workspace: Path, tmp_path: Path) -> AsyncIterator[WorkspaceIndex]:
    idx = await WorkspaceIndex.open(workspace, tmp_path / "db" / "ocp.db")
    yield idx
    await idx.close()


def _counts(db_path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db_path) as db:
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        orphans = db.execute(
            "SELECT count(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()[0]
    return files, chunks, orphans


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


async def test_cold_index_then_search_cites_the_definition(index: WorkspaceIndex) -> None:
    summary = await index.update()
    assert summary is not None and summary.files == 5 and summary.chunks > 0
    assert summary.skipped["binary"] == 1  # logo.png
    response = await index.search("verify_token")
    top = response.results[0]
    assert (top.path, top.symbol, top.kind) == ("src/auth.py", "verify_token", "function")
    assert (top.start_line, top.end_line) == (6, 8)
    assert top.citation == "src/auth.py:6-8"
    assert "verify_token" in top.matched_terms
    assert response.status.files == 5 and not response.status.stale


async def test_search_answers_the_same_when_its_read_only_connection_fails(
    index: WorkspaceIndex,
) -> None:
    await index.update()
    before = await index.search("verify_token")
    broken = sqlite3.connect(":memory:")
    broken.close()  # every execute now raises sqlite3.ProgrammingError
    index._reader = broken
    after = await index.search("verify_token")
    assert after.results == before.results and after.results
    assert after.status.last_update == before.status.last_update


async def test_search_reads_what_the_indexers_connection_just_committed(
    index: WorkspaceIndex, workspace: Path
) -> None:
    await index.update()
    assert not (await index.search("frobnicate_widgets")).results  # the reader is open now
    (workspace / "src" / "widgets.py").write_text("def frobnicate_widgets():\n    return 1\n")
    await index.update()
    top = (await index.search("frobnicate_widgets")).results[0]
    assert top.path == "src/widgets.py" and top.symbol == "frobnicate_widgets"


async def test_search_reads_chunks_through_the_database_mapped_into_memory(
    index: WorkspaceIndex,
) -> None:
    # a first-time chunk's row walks its overflow pages: mapped, not a read() per page
    await index.update()
    assert (await index.search("verify_token")).results
    assert index._reader is not None
    ((mapped,),) = index._reader.execute("PRAGMA mmap_size").fetchall()
    assert mapped == READ_MMAP_BYTES


async def test_search_reads_what_another_process_committed_since_its_last_search(
    workspace: Path, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    writer = await WorkspaceIndex.open(workspace, db)
    searcher = await WorkspaceIndex.open(workspace, db)
    try:
        await writer.update()
        assert not (await searcher.search("frobnicate_widgets", refresh=False)).results
        assert (await searcher.search("verify_token", refresh=False)).results  # nothing new
        (workspace / "src" / "widgets.py").write_text("def frobnicate_widgets():\n    return 1\n")
        await writer.update()
        top = (await searcher.search("frobnicate_widgets", refresh=False)).results[0]
        assert top.path == "src/widgets.py" and top.symbol == "frobnicate_widgets"
    finally:
        await writer.close()
        await searcher.close()


async def test_search_follows_an_ocpignore_created_edited_and_removed(
    index: WorkspaceIndex, workspace: Path
) -> None:
    await index.update()

    async def paths() -> set[str]:
        return {r.path for r in (await index.search("verify_token totalCents", k=20)).results}

    assert {"src/auth.py", "web/billing.ts"} <= await paths()
    ignore = workspace / ".ocpignore"
    ignore.write_text("src/\n")
    found = await paths()
    assert "src/auth.py" not in found and "web/billing.ts" in found
    ignore.write_text("web/billing.ts\n")
    found = await paths()
    assert "src/auth.py" in found and "web/billing.ts" not in found
    ignore.unlink()
    assert {"src/auth.py", "web/billing.ts"} <= await paths()


async def test_an_ocpignore_written_after_the_index_hides_the_links_into_what_it_ignores(
    index: WorkspaceIndex, workspace: Path
) -> None:
    # The listing judges a symlink by where it leads too; the search's check of a newer
    # .ocpignore read the link's own path only, and kept returning it until the next update.
    private = workspace / "private"
    private.mkdir()
    (private / "plans.py").write_text("def merger_plans():\n    return 'acme'\n")
    (workspace / "src" / "plans_link.py").symlink_to(private / "plans.py")
    await index.update()

    async def paths() -> set[str]:
        return {r.path for r in (await index.search("merger_plans", k=10)).results}

    assert {"private/plans.py", "src/plans_link.py"} <= await paths()
    (workspace / ".ocpignore").write_text("private/\n")
    assert not {"private/plans.py", "src/plans_link.py"} & await paths()
    (workspace / ".ocpignore").write_text("other/\n")
    assert {"private/plans.py", "src/plans_link.py"} <= await paths()


@pytest.mark.parametrize("query", ["verify_token", "verifyToken", "verify token", "VerifyToken"])
async def test_every_spelling_of_an_identifier_finds_its_definition_first(
    index: WorkspaceIndex, query: str
) -> None:
    await index.update()
    top = (await index.search(query)).results[0]
    assert top.symbol == "verify_token"


async def test_methods_carry_their_class_as_scope(index: WorkspaceIndex) -> None:
    await index.update()
    top = (await index.search("rotate session")).results[0]
    assert (top.symbol, top.kind, top.scope) == ("rotate_session", "method", "SessionStore")


async def test_ignored_and_secret_files_never_appear_in_results(index: WorkspaceIndex) -> None:
    await index.update()
    paths = {r.path for r in (await index.search("verify_token token API_KEY", k=50)).results}
    assert paths <= {"src/auth.py", "web/billing.ts", "README.md", "keep.log"}
    assert "keep.log" in paths


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
    files, _chunks, orphans = _counts(tmp_path / "db" / "ocp.db")
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


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "NEAR(a b)", "a:b OR c*", "!!!", "   ", "verify_token " * 5000, "()^{}"],
)
async def test_hostile_queries_never_crash(index: WorkspaceIndex, query: str) -> None:
    await index.update()
    response = await index.search(query)
    assert isinstance(response.results, tuple)
    if not query.strip(" !()^{}"):
        assert response.note and "no searchable words" in response.note


@pytest.mark.parametrize("query", ["the of", "a a a", "x", "!!!"])
async def test_a_query_with_nothing_to_search_is_told_what_it_may_hold(
    index: WorkspaceIndex, query: str
) -> None:
    # The note said "(only punctuation or empty)" of "the of" and "a a a" too: an agent
    # told so looks for the punctuation, not for a more specific word.
    await index.update()
    response = await index.search(query)
    assert not response.results
    assert response.note == (
        "the query has no searchable words (it is empty, or only spaces, punctuation, single "
        "characters or words as common as 'the'): give words, a symbol name or a question"
    )


@pytest.mark.parametrize(
    ("path_glob", "language", "named"),
    [
        ("lib/**/*.rs", None, "`path_glob`"),
        (None, "go", "`language`"),
        ("web/*", "python", "`path_glob` and `language` together"),
    ],
)
async def test_a_filter_keeping_no_file_says_so_rather_than_answer_nothing(
    index: WorkspaceIndex, path_glob: str | None, language: str | None, named: str
) -> None:
    """An empty answer reads as "no such code"; a filter that no indexed file passes is the
    caller's mistake to be told of."""
    await index.update()
    response = await index.search("verify token", path_glob=path_glob, language=language)
    assert response.results == ()
    assert response.note and f"no indexed file matches {named}" in response.note


async def test_a_filter_keeping_files_where_nothing_matches_adds_no_note(
    index: WorkspaceIndex,
) -> None:
    await index.update()
    response = await index.search("zebra quagga", path_glob="src/*", language="python")
    assert response.results == ()
    assert response.note is None


async def test_token_budget_packs_the_best_results_and_trims(index: WorkspaceIndex) -> None:
    await index.update()
    full = (await index.search("session token verify", k=5)).results
    budget = (await index.search("session token verify", k=5, max_tokens=60)).results
    assert budget and len(budget) <= len(full)
    assert budget[0].path == full[0].path
    assert sum(len(r.text) for r in budget) < sum(len(r.text) for r in full)


async def rewrite_rows(index: WorkspaceIndex, sql: str) -> None:
    """Rows changed as an index write changes them: with the generation moved on, so searches
    read them again (a snapshot keeps the rows it answered with)."""
    await index.db.execute(sql)
    await index.db.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
    )
    await index.db.commit()


async def test_the_token_budget_uses_the_counts_stored_at_index_time(
    index: WorkspaceIndex,
) -> None:
    from ocp_router.tokens import estimate_tokens
    from ocp_server.index.lexicon import unpack_text

    await index.update()
    rows = list(await index.db.execute_fetchall("SELECT text, tokens FROM chunks"))
    assert rows and all(tokens == estimate_tokens(unpack_text(t)) for t, tokens in rows)
    fits = (await index.search("session token verify", k=5, max_tokens=4000)).results
    assert fits and not any(r.truncated for r in fits)
    # counted as far larger than they are: the first no longer fits whole, the rest not at all
    await rewrite_rows(index, "UPDATE chunks SET tokens = 100000")
    (only,) = (await index.search("session token verify", k=5, max_tokens=4000)).results
    assert only.truncated and only.citation == fits[0].citation


async def test_chunks_indexed_before_counts_were_stored_are_counted_at_search_time(
    index: WorkspaceIndex,
) -> None:
    await index.update()
    whole = (await index.search("session token verify", k=5)).results
    counted = (await index.search("session token verify", k=5, max_tokens=120)).results
    assert len(counted) < len(whole) or counted[-1].truncated  # the budget binds
    await rewrite_rows(index, "UPDATE chunks SET tokens = NULL")
    uncounted = (await index.search("session token verify", k=5, max_tokens=120)).results
    shape = [(r.citation, r.text, r.truncated) for r in counted]
    assert [(r.citation, r.text, r.truncated) for r in uncounted] == shape


async def test_a_row_whose_redaction_flag_is_not_known_yet_is_read_again(
    index: WorkspaceIndex,
) -> None:
    """The flags are filled in without a new generation (after an upgrade, or rules another
    process wrote): a row read while its flag was unknown is not kept, so a later search reads
    the flag the indexer found; rows with their flag known are kept."""
    await index.update()
    await index.db.execute("UPDATE chunks SET clean = NULL")  # no new generation
    await index.db.commit()
    first = (await index.search("session token verify", k=5)).results
    snap = await index.snapshot()
    assert first and len(snap.answers) == 0 and not any(r.clean for r in first)
    await index.db.execute("UPDATE chunks SET clean = 1")  # found clean, still no new generation
    await index.db.commit()
    again = (await index.search("session token verify", k=5)).results
    assert await index.snapshot() is snap  # the same snapshot: only the flags were re-read
    assert [r.citation for r in again] == [r.citation for r in first]
    assert all(r.clean for r in again) and len(snap.answers) == len(again)


async def test_a_chunk_id_used_again_after_a_deletion_answers_with_its_new_row(
    tmp_path: Path,
) -> None:
    """Chunk ids are used again (the next id follows the largest): a file deleted and another
    indexed in its place may take its chunk's id, and a search must answer with the new row,
    not one a search of the old snapshot kept."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "first.py").write_text("def parse_quota(text):\n    return int(text)\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        (old,) = (await index.search("parse quota", k=1)).results
        (ws / "first.py").unlink()
        await index.update()
        (ws / "second.py").write_text("def parse_quota(text):\n    return float(text.strip())\n")
        await index.update()
        ids = list(await index.db.execute_fetchall("SELECT id FROM chunks"))
        (new,) = (await index.search("parse quota", k=1)).results
    finally:
        await index.close()
    assert old.path == "first.py" and len(ids) == 1  # the new chunk, in the old one's place
    assert (new.path, new.text) == ("second.py", (ws / "second.py").read_text().rstrip("\n"))


async def test_filters_by_glob_and_language(index: WorkspaceIndex) -> None:
    await index.update()
    ts = (await index.search("verifyToken cents", language="typescript")).results
    assert ts and all(r.path.endswith(".ts") for r in ts)
    only_src = (await index.search("token", path_glob="src/*")).results
    assert only_src and all(r.path.startswith("src/") for r in only_src)


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("src/**/*.py", "src/auth.py"),
        ("src/**/auth.py", "src/auth.py"),
        ("**/*.md", "README.md"),
        ("**/README.md", "README.md"),
    ],
)
async def test_a_double_star_folder_in_a_glob_also_matches_no_folder_at_all(
    index: WorkspaceIndex, written: str, path: str
) -> None:
    # The tool's own example, 'src/**/*.py', found nothing in src/ itself: fnmatch read
    # `**/` as "something, then a slash". Git and shells with globstar match zero folders.
    await index.update()
    found = (await index.search("tokens verified", path_glob=written)).results
    assert found and {r.path for r in found} == {path}


@pytest.mark.parametrize(
    ("written", "paths"),
    [
        ("**/*.{py,ts}", {"src/auth.py", "web/billing.ts"}),
        ("{src,web}/*", {"src/auth.py", "web/billing.ts"}),
        ("{src/*.py,README.{md,txt}}", {"src/auth.py", "README.md"}),
        ("src/*.{py}", {"src/auth.py"}),  # one alternative, as ripgrep and VS Code read it
    ],
)
async def test_a_glob_with_brace_alternatives_matches_any_of_them(
    index: WorkspaceIndex, written: str, paths: set[str]
) -> None:
    # `src/**/*.{ts,tsx}` is how agents (and their Glob tools) write "these extensions":
    # fnmatch has no braces, and it matched nothing, an empty answer read as "no such code".
    await index.update()
    found = (await index.search("token verify tokens", path_glob=written, k=20)).results
    assert {r.path for r in found} == paths


def test_a_glob_of_too_many_brace_alternatives_is_an_error_naming_path_glob() -> None:
    from ocp_server.index.globs import glob_matcher

    with pytest.raises(InputError, match=r"^path_glob: .* over 256 alternatives"):
        glob_matcher("{a,b}" * 10)


def test_a_glob_of_many_double_star_folders_matches_as_fnmatch_would() -> None:
    # Globs of two `**/` or more are matched by an automaton (each `(?:.*/)?` more made the
    # regex backtrack into the others, hours a path): it answers as the regex does, on
    # random globs and paths of these characters.
    from ocp_server.index.globs import _DOUBLE_STAR_FOLDER, _Automaton, _fnmatch_body

    def agree(glob: str, path: str) -> None:
        pieces = _DOUBLE_STAR_FOLDER.split(glob)
        regex = re.compile("(?s:" + "(?:.*/)?".join(map(_fnmatch_body, pieces)) + r")\Z")
        assert _Automaton(pieces).matches(path) == bool(regex.match(path)), (glob, path)

    # an unclosed `[` in one piece and a `]` in a later one are no class together
    agree("[/**/]/**/x", "[/]/x")
    rng = random.Random(7)
    parts = ["a", "b", "/", "*", "?", "**/", "[ab]", "[!a]", "[", "]", ".", "[a-]", "[]a]", "\n"]
    for _ in range(3000):
        glob = "".join(rng.choice(parts) for _ in range(rng.randint(0, 10)))
        for _ in range(10):
            agree(glob, "".join(rng.choice("ab/.[]\n") for _ in range(rng.randint(0, 12))))


async def _filters_as_src(index: WorkspaceIndex, written: str) -> None:
    """`written` ({root}: the workspace's path) finds what "src/*" finds, and something."""
    await index.update()
    glob = written.format(root=index.workspace.as_posix())
    expected = [r.citation for r in (await index.search("token", path_glob="src/*")).results]
    found = [r.citation for r in (await index.search("token", path_glob=glob)).results]
    assert expected and found == expected


@pytest.mark.parametrize("written", ["./src/*", "././src/*", "{root}/src/*", "{root}/./src/*"])
async def test_a_glob_written_from_the_workspace_or_its_absolute_path_filters_as_a_relative_one(
    index: WorkspaceIndex, written: str
) -> None:
    # Agents write "./src/*" or the absolute path; both matched nothing, a silent empty answer.
    await _filters_as_src(index, written)


async def test_an_absolute_glob_outside_the_workspace_is_an_error_naming_path_glob(
    index: WorkspaceIndex,
) -> None:
    await index.update()
    with pytest.raises(InputError, match=r"^path_glob: '/etc/\*' is not inside the workspace"):
        await index.search("token", path_glob="/etc/*")


@pytest.mark.parametrize("written", ["web/../src/*", "src/x/../*", "{root}/web/../src/*"])
async def test_a_glob_that_steps_back_with_dot_dot_filters_as_the_folder_it_names(
    index: WorkspaceIndex, written: str
) -> None:
    await _filters_as_src(index, written)


@pytest.mark.parametrize("written", ["../*", "../other/src/*.py", "src/../../other/*"])
async def test_a_relative_glob_leading_out_of_the_workspace_is_an_error_naming_path_glob(
    index: WorkspaceIndex, written: str
) -> None:
    # It can match nothing: an empty answer would read as "no such code".
    await index.update()
    with pytest.raises(InputError, match=r"^path_glob: .* leads out of the workspace"):
        await index.search("token", path_glob=written)


@pytest.mark.parametrize(
    ("written", "wrong"),
    [
        ("[", "unclosed character class; the '[' at character 1 has no ']'"),
        ("src/[ab", "unclosed character class; the '[' at character 5 has no ']'"),
        ("{a,b", "unclosed alternate group; the '{' at character 1 has no '}'"),
        ("src/*.{py,{ts,js}", "unclosed alternate group; the '{' at character 7 has no '}'"),
        ("a}", "unopened alternate group; the '}' at character 2 closes no '{'"),
        ("[z-a]", "invalid range 'z-a' in a character class"),
        ("src/[!a-cz-x]*", "invalid range 'z-x' in a character class"),
    ],
)
async def test_a_malformed_glob_is_an_error_naming_path_glob_and_what_is_wrong(
    index: WorkspaceIndex, written: str, wrong: str
) -> None:
    # fnmatch reads these as literal characters or a class of nothing: they matched no file,
    # and the answer said only that no file matched (ripgrep says the glob is malformed).
    await index.update()
    with pytest.raises(InputError) as raised:
        await index.search("token", path_glob=written)
    assert str(raised.value).startswith(f"path_glob: {written!r} is malformed: {wrong}")


@pytest.mark.parametrize("written", ["[!]]*", "[]-]*", "[{]*", "[}]*", "src/[a-z]*.{py,ts}"])
async def test_a_glob_whose_brackets_and_braces_close_is_not_malformed(
    index: WorkspaceIndex, written: str
) -> None:
    await index.update()
    await index.search("token", path_glob=written)  # raises InputError if called malformed


@pytest.mark.parametrize("blank", ["", "  "])
async def test_a_blank_language_is_no_filter(index: WorkspaceIndex, blank: str) -> None:
    # Agents send empty optional arguments; the wire allows "".
    await index.update()
    everything = [r.citation for r in (await index.search("verifyToken cents")).results]
    assert everything
    assert [
        r.citation for r in (await index.search("verifyToken cents", language=blank)).results
    ] == everything


@pytest.mark.parametrize("named", ["ts", ".ts", "TypeScript"])
async def test_a_language_named_by_its_file_extension_or_in_any_case_filters_as_its_name(
    index: WorkspaceIndex, named: str
) -> None:
    await index.update()
    ts = (await index.search("verifyToken cents", language=named)).results
    assert ts and all(r.path.endswith(".ts") for r in ts)


async def test_a_language_that_names_none_is_an_error_listing_the_known_ones(
    index: WorkspaceIndex,
) -> None:
    # Not an empty answer: an agent would read that as "no such code".
    await index.update()
    with pytest.raises(InputError) as refused:
        await index.search("token", language="klingon")
    message = str(refused.value)
    assert message.startswith("language: 'klingon'") and "python" in message


async def test_invalid_utf8_is_indexed_with_replacement(
    index: WorkspaceIndex, workspace: Path
) -> None:
    (workspace / "latin1.py").write_bytes(b"def caf\xe9():\n    return 'na\xefve'\n")
    summary = await index.update()
    assert summary is not None and "unreadable" not in summary.skipped
    hits = (await index.search("latin1")).results
    assert hits and hits[0].path == "latin1.py"
    assert "\ufffd" in hits[0].text  # the undecodable bytes became replacement characters


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
    files, _, orphans = _counts(db_path)
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
    stored, _, _ = _counts(db_path)
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


@pytest.mark.parametrize("whole", [None, 1, 150, 700, 900, 5_000, 10**6])
@pytest.mark.parametrize("first_line_chars", [40, 2_000])
@pytest.mark.parametrize("room", [39, 40, 41, 55, 90, 200, 10_000])
def test_a_result_cut_to_the_budget_keeps_the_longest_run_of_lines_that_fits(
    room: int, first_line_chars: int, whole: int | None
) -> None:
    """Whatever the whole text's count the search starts its guess from."""
    from ocp_router.tokens import estimate_tokens
    from ocp_server.index.models import SearchResult
    from ocp_server.index.search import _trimmed

    lines = [f"    value_{i} = compute(value_{i - 1}, {i * 37})  # step {i}" for i in range(60)]
    lines[7] = ""  # an empty line counts too
    lines[0] = lines[0].ljust(first_line_chars, "x")  # long: not even the first line fits
    result = SearchResult("src/a.py", 10, 69, "f", "function", 1.0, "\n".join(lines), clean=True)
    cut = _trimmed(result, room, whole)
    # the plain definition: lines are added while the text so far fits
    fitting = 0
    while fitting < len(lines) and estimate_tokens("\n".join(lines[: fitting + 1])) <= room:
        fitting += 1
    if room < 40 or fitting == 0:
        assert cut is None
        return
    assert cut is not None
    assert cut.text == "\n".join(lines[:fitting])
    assert (cut.start_line, cut.end_line) == (10, 10 + fitting - 1)
    assert cut.truncated and not cut.clean


def test_a_snapshots_answer_rows_keep_at_most_their_bounds_the_oldest_going_first() -> None:
    from ocp_server.index.lexical import AnswerRows, ChunkRow

    def row(text: str) -> ChunkRow:
        return ChunkRow(1, 2, None, "function", None, text, 3, 1)

    kept = AnswerRows(max_chars=10, max_rows=3)
    kept.put(1, row("abcd"))
    kept.put(2, row("efgh"))
    kept.put(2, row("efgh"))  # again: counted once
    kept.put(3, row("ijkl"))  # 12 characters: the oldest goes
    assert kept.get(1) is None and kept.get(2) == row("efgh") and kept.get(3) == row("ijkl")
    kept.put(4, row("x" * 11))  # larger than the bound: not kept, the others stay
    assert kept.get(4) is None and len(kept) == 2
    kept.put(5, row("a"))
    kept.put(6, row("b"))  # 10 characters, but a fourth row: the oldest goes
    assert kept.get(2) is None and len(kept) == 3


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


def test_a_glob_matches_alike_when_fnmatch_ends_its_patterns_as_python_3_14_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fnmatch

    from ocp_server.index.globs import glob_matcher

    plain = fnmatch.translate
    monkeypatch.setattr(fnmatch, "translate", lambda p: plain(p)[:-2] + r"\z")
    matches = glob_matcher("src/**/*.py")
    assert matches("src/app.py") and matches("src/a/b/app.py")
    assert not matches("lib/app.py")
