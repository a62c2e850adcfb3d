"""A value a file names as a secret (`DB_PASSWORD = "..."`) is hidden wherever the file repeats
it, in whichever of its chunks a search returns: a chunk that only quotes it
(`connect(DB_HOST, user, "...")`) has nothing of its own to tell it by. The file's named values
are found once, when it is indexed (index/file_secrets.py).

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import json
from pathlib import Path

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_server.app import AppState
from ocp_server.workspaces import Workspace
from tests.fakes import FakeOllama
from tests.server.app_fixture import opened
from tests.server.stdio_env import server_env, wait_for_index

VALUE = "s3cr3t" + "Value9Q"
PREAMBLE = f'''"""Warehouse connections."""

import logging

DB_HOST = "warehouse.internal"
DB_PASSWORD = "{VALUE}"
logger = logging.getLogger(__name__)
'''
STEPS = "".join(f'    logger.info("connected, step {n}")\n' for n in range(30))
BODY = f'''

def warehouse_rows(table: str) -> list[str]:
    """Every row of `table`, as text."""
    rows = []
    for n in range(10):
        rows.append(f"{{table}}:{{n}}")
    logger.info("read %d rows", len(rows))
    return rows


def open_warehouse(user: str) -> object:
    """Connect to the warehouse as `user`, and say so."""
    conn = connect(DB_HOST, user, "{VALUE}")
{STEPS}    return conn
'''


def _write(workspace: Path, preamble: str = PREAMBLE) -> None:
    (workspace / "src" / "warehouse.py").write_text(preamble + BODY)


async def _alone(
    state: AppState, ws: Workspace, max_tokens: int | None = None
) -> wire.SearchResult:
    """The open_warehouse chunk, returned without the one that names the value."""
    args = wire.SearchArgs(query="open_warehouse", k=1, max_tokens=max_tokens)
    result = await state.search(ws, args)
    (top,) = result.results
    assert top.symbol == "open_warehouse" and "connect(DB_HOST" in top.text
    return result


def _dumped(result: wire.SearchResult) -> str:
    return json.dumps(result.model_dump(mode="json"))


async def test_a_value_named_in_another_chunk_is_hidden_in_a_chunk_returned_alone(
    app: AppState, workspace: Path
) -> None:
    _write(workspace)
    ws = await opened(app, workspace)
    result = await _alone(app, ws)
    assert VALUE not in _dumped(result)
    assert 'user, "[REDACTED:password_assignment]")' in result.results[0].text
    assert result.results[0].redactions == 1
    # grouped by file, and cut to a token budget, the same
    grouped = await app.search(ws, wire.SearchArgs(query="open_warehouse", group_by="file"))
    assert grouped.files and VALUE not in _dumped(grouped)
    cut = await _alone(app, ws, max_tokens=100)
    assert cut.results[0].truncated
    assert VALUE not in _dumped(cut)


async def test_a_kept_chunk_learns_of_a_value_an_edit_elsewhere_names(
    app: AppState, workspace: Path
) -> None:
    # the chunk quoting the value is unchanged by the edit (its row is kept): what the rest
    # of the file names is found again with the file
    _write(workspace, PREAMBLE.replace(f'DB_PASSWORD = "{VALUE}"\n', ""))
    ws = await opened(app, workspace)
    before = await _alone(app, ws)
    assert VALUE in before.results[0].text  # nothing names it: an ordinary string
    _write(workspace)
    await ws.index.update()
    after = await _alone(app, ws)
    assert VALUE not in _dumped(after)


async def test_chunks_stored_without_the_files_named_values_get_them_at_the_next_update(
    app: AppState, workspace: Path
) -> None:
    # as an older server (or one with other redaction rules) left them
    _write(workspace)
    ws = await opened(app, workspace)
    db = ws.index.db
    await db.execute("UPDATE chunks SET named = NULL, clean = 1")
    await db.commit()
    await ws.index.update()
    rows = await db.execute_fetchall("SELECT count(*) FROM chunks WHERE named IS NULL")
    assert list(rows) == [(0,)]
    assert VALUE not in _dumped(await _alone(app, ws))


async def test_other_redaction_rules_find_the_files_named_values_again(
    app: AppState, workspace: Path
) -> None:
    _write(workspace)
    ws = await opened(app, workspace)
    db = ws.index.db
    # as if other rules had found nothing anywhere
    await db.execute("UPDATE chunks SET named = '[]', clean = 1")
    await db.execute(
        "UPDATE meta SET value = 'other rules' WHERE key IN ('redaction_rules', 'named_rules')"
    )
    await db.commit()
    await ws.index.update()
    assert VALUE not in _dumped(await _alone(app, ws))


async def test_a_paid_prompt_with_the_chunk_hides_the_value_too(
    app: AppState, workspace: Path
) -> None:
    _write(workspace)
    ws = await opened(app, workspace)
    # a budget that holds the first lines of open_warehouse and nothing else
    args = wire.RouteArgs(request="open_warehouse", force="paid", max_context_tokens=140)
    result = await app.route(ws, args)
    assert result.prompt is not None and "connect(DB_HOST" in result.prompt
    assert "(preamble)" not in result.prompt
    assert VALUE not in result.prompt


async def test_over_stdio_the_chunk_returned_alone_hides_the_value(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    _write(workspace)
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify token")
        result = await client.search("open_warehouse", k=1)
    (top,) = result.results
    assert top.symbol == "open_warehouse" and VALUE not in _dumped(result)


def _dumped_model(result: wire.RestoreResult | wire.SaveResult) -> str:
    return json.dumps(result.model_dump(mode="json"))


async def test_a_stale_citation_says_what_changed_without_a_value_named_elsewhere(
    app: AppState, workspace: Path
) -> None:
    # a note cites open_warehouse (which only quotes the value); its connect line is edited:
    # restore's "what changed" quotes the line before and after, and the file names the
    # value in its preamble, outside the cited lines
    _write(workspace)
    ws = await opened(app, workspace)
    note = wire.NoteArg(text="open_warehouse logs each step", citations=["open_warehouse"])
    saved = await app.save(ws, wire.SaveArgs(notes=[note]))
    assert VALUE not in _dumped_model(saved)
    kept = await ws.memory.db.execute_fetchall("SELECT content FROM memory_citations")
    assert [VALUE in str(row[0]) for row in kept] == [False]  # memory keeps it hidden too
    path = workspace / "src" / "warehouse.py"
    path.write_text(path.read_text().replace(f'"{VALUE}")', f'"{VALUE}", timeout=5)'))
    await ws.index.update()
    restored = await app.restore(ws, wire.RestoreArgs(stale="list"))
    (stale,) = restored.stale
    (citation,) = stale.citations
    assert citation.status == "stale" and "timeo" in (citation.change or "")
    assert VALUE not in _dumped_model(restored)
    assert "[REDACTED:password_assignment]" in (citation.change or "")


async def test_a_value_the_file_names_after_the_save_is_hidden_in_what_changed(
    app: AppState, workspace: Path
) -> None:
    # saved while nothing named it (memory kept it as an ordinary string); then the file
    # names it, and the cited line quoting it changes: both sides of the change hide it
    _write(workspace, PREAMBLE.replace(f'DB_PASSWORD = "{VALUE}"\n', ""))
    ws = await opened(app, workspace)
    note = wire.NoteArg(text="open_warehouse logs each step", citations=["open_warehouse"])
    await app.save(ws, wire.SaveArgs(notes=[note]))
    _write(workspace)
    path = workspace / "src" / "warehouse.py"
    path.write_text(path.read_text().replace(f'"{VALUE}")', f'"{VALUE}", timeout=5)'))
    await ws.index.update()
    restored = await app.restore(ws, wire.RestoreArgs(stale="list"))
    (citation,) = restored.stale[0].citations
    assert citation.status == "stale" and "timeo" in (citation.change or "")
    assert VALUE not in _dumped_model(restored)
