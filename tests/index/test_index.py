"""WorkspaceIndex end to end on real files and a real SQLite database: what a search reads and
answers, hostile queries, notes, and the token budget."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocp_server.index.chunk_columns import READ_MMAP_BYTES
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.index_rows import rewrite_rows


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


@pytest.mark.parametrize("query", ["the of", "a a a", "x", "!!!", "a" * 65])
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
        "characters, words as common as 'the' or words longer than 64 characters): give "
        "words, a symbol name or a question"
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
