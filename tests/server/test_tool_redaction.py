"""Every text a tool returns reaches the IDE agent's cloud model: search chunks, restore briefs,
route answers and prompts are redacted, and each result says how many values were hidden.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite
import pytest
from pydantic import BaseModel

import ocp_wire as wire
from ocp_router.redact import RedactingFilter
from ocp_router.redact_names import redact_name
from ocp_server.app import AppState
from ocp_server.cli import OUR_LOGGERS, configure_logging
from ocp_server.index.clean_text import NAMES_CLEAN, TEXT_CLEAN
from ocp_server.workspaces import Workspace
from tests.server.app_fixture import opened

PASSWORD = "Zq8v" + "R2mLp4Tx!"
STRIPE = "sk_live_" + "4eC39HqLyjWD" + "arjtT1zdp7dc"
CONFIG_PY = f'''"""Settings for the billing service."""

DB_HOST = "db.internal"
DB_PASSWORD = "{PASSWORD}"
STRIPE_KEY = "{STRIPE}"


def database_url() -> str:
    return f"postgres://billing@{{DB_HOST}}/billing"
'''


@pytest.fixture
def state(app: AppState, workspace: Path) -> AppState:
    """The app over a workspace whose src/config.py holds secrets."""
    (workspace / "src" / "config.py").write_text(CONFIG_PY)
    return app


def dumped(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json"))


async def test_search_chunks_are_redacted_and_exact_identifiers_still_find_them(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    for query in ("DB_PASSWORD", "STRIPE_KEY", "stripe key"):
        result = await state.search(ws, wire.SearchArgs(query=query))
        top = result.results[0]
        assert top.path == "src/config.py", query
        assert 'DB_PASSWORD = "[REDACTED:password_assignment]"' in top.text
        assert "[REDACTED:stripe_key]" in top.text
        assert top.redactions == 2 and result.redacted >= 2
        assert PASSWORD not in dumped(result) and STRIPE not in dumped(result)


async def test_searching_for_the_secret_itself_returns_it_redacted(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    result = await state.search(ws, wire.SearchArgs(query=STRIPE))
    assert result.results and STRIPE not in dumped(result)


async def test_a_result_without_secrets_says_nothing_was_hidden(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    result = await state.search(ws, wire.SearchArgs(query="verify_token"))
    assert result.results[0].symbol == "verify_token"
    assert result.redacted == 0 and all(r.redactions == 0 for r in result.results)


async def test_restore_briefs_are_redacted_field_by_field(state: AppState, workspace: Path) -> None:
    ws = await opened(state, workspace)
    await state.save(
        ws,
        wire.SaveArgs(
            summary=f"Rotated the DB; new DB_PASSWORD={PASSWORD}",
            decisions=[
                wire.DecisionArg(title="Stripe", decision=f"Use STRIPE_KEY={STRIPE} in prod")
            ],
            state={"db_password": PASSWORD},
            notes=[f"staging still takes DB_PASSWORD={PASSWORD}"],
        ),
    )
    result = await state.restore(ws, wire.RestoreArgs())
    text = dumped(result)
    assert PASSWORD not in text and STRIPE not in text
    assert result.state == {"db_password": "[REDACTED:password_assignment]"}
    assert result.redacted == 0  # stored redacted (at_rest.py): nothing was left to hide


async def stored_verbatim(ws: Workspace, *, notes: list[str], state: dict[str, str]) -> None:
    """Rows as a server from before memory was kept redacted (or a redaction rule) left them."""
    db = ws.memory.db
    await ws.memory.start_session(str(ws.path), "older")
    for text in notes:
        await db.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
            "VALUES ('older', ?1, 'note', ?2, ?1)",
            (time.time(), text),
        )
    for key, value in state.items():
        await db.execute(
            "INSERT INTO state (key, version, value, session_id, updated_at) "
            "VALUES (?, 1, ?, 'older', 1.0)",
            (key, value),
        )


async def test_restore_still_redacts_what_was_stored_verbatim_field_by_field(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    await stored_verbatim(
        ws,
        notes=[f"staging still takes DB_PASSWORD={PASSWORD}", f"billing uses {STRIPE}"],
        state={"db_password": PASSWORD},
    )
    result = await state.restore(ws, wire.RestoreArgs())
    text = dumped(result)
    assert PASSWORD not in text and STRIPE not in text
    assert result.state == {"db_password": "[REDACTED:password_assignment]"}
    assert result.redacted == 2  # two distinct values, however often the brief repeats them


async def test_restore_redacts_a_secret_in_a_state_key_as_well_as_in_its_value(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    await stored_verbatim(ws, notes=[], state={f"stripe {STRIPE}": "live"})
    result = await state.restore(ws, wire.RestoreArgs())
    assert STRIPE not in dumped(result)
    assert result.state == {"stripe [REDACTED:stripe_key]": "live"}
    assert result.redacted == 1


async def test_a_save_warning_quoting_an_earlier_outcome_is_redacted(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    routed = await state.route(ws, wire.RouteArgs(request="explain verify_token", dry_run=True))
    trace_id = routed.trace.trace_id
    await state.save(ws, wire.SaveArgs(trace_id=trace_id, outcome=f"bad: it printed {STRIPE}"))
    again = await state.save(ws, wire.SaveArgs(trace_id=trace_id, outcome="good after all"))
    # (a dry run's outcome also teaches routing nothing: a second warning says so)
    (warning,) = [w for w in again.warnings if "already had an outcome" in w]
    assert "[REDACTED:stripe_key]" in warning
    assert STRIPE not in dumped(again)


async def test_route_answers_are_redacted(state: AppState, workspace: Path) -> None:
    ws = await opened(state, workspace)
    # The fake local model echoes the request back: an answer can carry a secret too.
    result = await state.route(ws, wire.RouteArgs(request=f"explain DB_PASSWORD={PASSWORD}"))
    assert result.answered_by == "local"
    assert result.answer == "local answer: explain DB_PASSWORD=[REDACTED:password_assignment]"
    assert result.redacted == 1


async def test_dry_run_prompts_are_redacted_with_their_workspace_context(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    result = await state.route(
        ws,
        wire.RouteArgs(request="review DB_PASSWORD and STRIPE_KEY handling", force="paid"),
    )
    assert result.answered_by == "agent" and result.prompt is not None
    assert "src/config.py" in result.prompt and "## Workspace context" in result.prompt
    assert PASSWORD not in dumped(result) and STRIPE not in dumped(result)
    assert result.trace.redactions == {"password_assignment": 1, "stripe_key": 1}
    assert result.redacted == 2
    local = await state.route(
        ws, wire.RouteArgs(request=f"why is DB_PASSWORD={PASSWORD} rejected", dry_run=True)
    )
    assert local.prompt == "why is DB_PASSWORD=[REDACTED:password_assignment] rejected"


@contextmanager
def _logging_configured(verbosity: int) -> Iterator[None]:
    """`configure_logging(verbosity)`, and the loggers as they were afterwards."""
    root, sqlite_log = logging.getLogger(), logging.getLogger("aiosqlite")
    names = ("", "aiosqlite", *OUR_LOGGERS)
    levels = {n: logging.getLogger(n).level for n in names}
    handlers, filters = list(root.handlers), list(sqlite_log.filters)
    try:
        configure_logging(verbosity)
        yield
    finally:
        sqlite_log.filters = filters
        for h in root.handlers:
            h.filters = [f for f in h.filters if not isinstance(f, RedactingFilter)]
            if h not in handlers:
                root.removeHandler(h)
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


def test_log_lines_are_redacted_and_sqlite_statements_are_not_logged_at_v(
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = logging.getLogger()
    with _logging_configured(1):  # -v: OCP's debug lines
        assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.WARNING
        assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("ocp_test_secrets")
    log.addHandler(handler)
    try:
        log.warning("connecting with %s", f"DB_PASSWORD={PASSWORD}")
    finally:
        log.removeHandler(handler)
    stream = handler.stream
    assert isinstance(stream, io.StringIO)
    assert stream.getvalue() == "connecting with DB_PASSWORD=[REDACTED:password_assignment]\n"


async def test_sqlite_statements_logged_at_vv_leave_out_their_parameters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A parameter is a value without its name (a state value, a note), which redaction
    cannot judge: -vv logs each statement's SQL, never what was bound to it."""
    with _logging_configured(2):
        caplog.set_level(logging.DEBUG, logger="aiosqlite")
        async with aiosqlite.connect(":memory:") as db:
            await db.execute("SELECT ?", (PASSWORD,))
    assert "SELECT ?" in caplog.text
    assert PASSWORD not in caplog.text


def test_a_logged_exception_and_stack_are_redacted_too() -> None:
    # An error quoting its input (a parser's ValueError on a config line) logs its text in the
    # traceback, which the formatter adds after the message.
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("ocp_test_secrets_exc")
    log.addHandler(handler)
    try:
        try:
            raise ValueError(f"cannot parse STRIPE_KEY = {STRIPE!r}")
        except ValueError:
            log.exception("reading src/config.py failed")
        log.warning("where it came from", stack_info=True)
    finally:
        log.removeHandler(handler)
    stream = handler.stream
    assert isinstance(stream, io.StringIO)
    out = stream.getvalue()
    assert "Traceback (most recent call last)" in out and "Stack (most recent call last)" in out
    assert "ValueError: cannot parse STRIPE_KEY = '[REDACTED:stripe_key]'" in out
    assert STRIPE not in out


async def chunk_flags(ws: Workspace) -> dict[str, set[int | None]]:
    """Each indexed file's chunks' `clean` flags."""
    db = ws.index.db
    flags: dict[str, set[int | None]] = {}
    for path, clean in await db.execute_fetchall(
        "SELECT files.path, chunks.clean FROM chunks JOIN files ON files.id = chunks.file_id"
    ):
        flags.setdefault(path, set()).add(clean)
    return flags


async def test_the_index_knows_which_chunks_redaction_leaves_unchanged(
    state: AppState, workspace: Path
) -> None:
    from ocp_server.index.clean_text import RULES_DIGEST

    ws = await opened(state, workspace)
    flags = await chunk_flags(ws)
    # the chunk with the password and the key: its text not clean, its names clean
    assert NAMES_CLEAN in flags["src/config.py"]
    assert flags["src/auth.py"] == {TEXT_CLEAN | NAMES_CLEAN}
    rows = await ws.index.db.execute_fetchall(
        "SELECT value FROM meta WHERE key = 'redaction_rules'"
    )
    assert [r[0] for r in rows] == [RULES_DIGEST]


async def test_flags_found_with_other_redaction_rules_are_not_trusted_and_are_found_again(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    db = ws.index.db
    # As if other rules had found nothing anywhere: a search must not believe them.
    await db.execute("UPDATE chunks SET clean = 1")
    await db.execute("UPDATE meta SET value = 'other rules' WHERE key = 'redaction_rules'")
    await db.commit()
    result = await state.search(ws, wire.SearchArgs(query="DB_PASSWORD"))
    assert result.results[0].path == "src/config.py"
    assert PASSWORD not in dumped(result) and STRIPE not in dumped(result)
    await ws.index.update()  # this process's rules find them again
    flags = await chunk_flags(ws)
    assert NAMES_CLEAN in flags["src/config.py"]
    assert flags["src/auth.py"] == {TEXT_CLEAN | NAMES_CLEAN}


GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GLUED_NAME = f"mirror{GITHUB}_handler"  # a token glued inside an identifier


def with_a_glued_name(workspace: Path) -> None:
    (workspace / "src" / "mirror.py").write_text(
        f"def {GLUED_NAME}(remote):\n    return remote.mirror()\n"
    )


async def test_names_redaction_leaves_unchanged_are_flagged_and_not_redacted_again(
    state: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A search's first sight of a symbol or scope cost a `redact_name` (~20 µs of detectors):
    # the index finds once which names it leaves unchanged.
    from ocp_server import views

    with_a_glued_name(workspace)
    ws = await opened(state, workspace)
    flags = await chunk_flags(ws)
    assert flags["src/mirror.py"] == {0}  # its name holds the token
    assert flags["src/auth.py"] == {TEXT_CLEAN | NAMES_CLEAN}
    asked: list[str] = []  # the symbols and scopes redacted as names

    def counted(name: str) -> str:
        asked.append(name)
        return redact_name(name).text

    monkeypatch.setattr(views, "_name_redacted", counted)
    clean = await state.search(ws, wire.SearchArgs(query="verify_token"))
    assert clean.results[0].symbol == "verify_token"
    assert "verify_token" not in asked
    glued = await state.search(ws, wire.SearchArgs(query="mirror remote"))
    hit = next(r for r in glued.results if r.path == "src/mirror.py")
    assert hit.symbol == "mirror[REDACTED:github_token]_handler" and GLUED_NAME in asked
    assert GITHUB not in dumped(glued)


async def test_names_flagged_clean_under_other_redaction_rules_are_redacted_again(
    state: AppState, workspace: Path
) -> None:
    from ocp_server import views

    with_a_glued_name(workspace)
    ws = await opened(state, workspace)
    db = ws.index.db
    # As if other rules had found every text and name clean: a search must not believe them.
    await db.execute("UPDATE chunks SET clean = ?", (TEXT_CLEAN | NAMES_CLEAN,))
    await db.execute("UPDATE meta SET value = 'other rules' WHERE key = 'redaction_rules'")
    await db.commit()
    views._name_redacted.cache_clear()
    result = await state.search(ws, wire.SearchArgs(query="mirror remote"))
    hit = next(r for r in result.results if r.path == "src/mirror.py")
    assert hit.symbol == "mirror[REDACTED:github_token]_handler"
    assert GITHUB not in dumped(result)
    await ws.index.update()  # this process's rules find them again
    assert (await chunk_flags(ws))["src/mirror.py"] == {0}


async def test_chunks_indexed_without_flags_get_them_at_the_next_update(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    db = ws.index.db
    await db.execute("UPDATE chunks SET clean = NULL")  # written by a server that had none
    await db.commit()
    result = await state.search(ws, wire.SearchArgs(query="STRIPE_KEY"))
    assert STRIPE not in dumped(result) and result.results[0].redactions == 2
    await ws.index.update()
    flags = await chunk_flags(ws)
    assert NAMES_CLEAN in flags["src/config.py"]
    assert flags["src/auth.py"] == {TEXT_CLEAN | NAMES_CLEAN}


async def test_a_chunk_cut_to_fit_the_token_budget_is_not_taken_as_clean(
    state: AppState, workspace: Path
) -> None:
    body = "".join(f"    total += step_{i}(records)\n" for i in range(60))
    (workspace / "src" / "ledger.py").write_text(f"def reconcile_ledger(records):\n{body}")
    ws = await opened(state, workspace)
    whole = await ws.index.search("reconcile_ledger", k=1)
    assert whole.results[0].clean and not whole.results[0].truncated
    cut = await ws.index.search("reconcile_ledger", k=1, max_tokens=100)
    assert cut.results[0].truncated and not cut.results[0].clean


async def test_a_search_answer_is_exactly_what_its_result_model_dumps_and_renders(
    state: AppState, workspace: Path
) -> None:
    from ocp_server.render import render

    ws = await opened(state, workspace)
    shapes = set()
    for args in (
        wire.SearchArgs(query="DB_PASSWORD stripe"),  # redactions, filtered matched terms
        wire.SearchArgs(query=STRIPE, k=3),
        wire.SearchArgs(query="verify token session", group_by="file"),
        wire.SearchArgs(query="...."),  # no searchable words: a note, no results
    ):
        answer = await state.search_answer(ws, args)
        shapes.add(("redacted", answer.structured["redacted"] > 0))
        shapes.add(("files", answer.structured["files"] is not None))
        shapes.add(("note", answer.structured["note"] is not None))
        model = wire.SearchResult.model_validate(answer.structured)  # every field, no extra
        assert json.dumps(answer.structured, separators=(",", ":"), ensure_ascii=False) == (
            model.model_dump_json()
        ), args.query
        assert answer.text == render(model)
    assert shapes == {(shape, seen) for shape in ("redacted", "files", "note") for seen in (1, 0)}


async def test_a_chunk_answered_again_from_the_snapshots_rows_is_still_redacted(
    state: AppState, workspace: Path
) -> None:
    ws = await opened(state, workspace)
    first = await state.search(ws, wire.SearchArgs(query="DB_PASSWORD"))
    snap = await ws.index.snapshot()
    assert len(snap.answers)  # the rows this search answered with, kept for the next
    again = await state.search(ws, wire.SearchArgs(query="password stripe key"))
    top = again.results[0]
    assert top.path == "src/config.py" and top.redactions == 2
    assert PASSWORD not in dumped(again) and STRIPE not in dumped(again)
    assert top.text == first.results[0].text


async def test_a_chunk_that_gains_a_secret_is_redacted_in_the_next_answer(
    state: AppState, workspace: Path
) -> None:
    # The chunk was answered (and kept) while it was clean; the new text with a secret in it
    # comes from the new snapshot, not from the rows kept for the old one.
    ws = await opened(state, workspace)
    before = await state.search(ws, wire.SearchArgs(query="verify_token"))
    assert before.results[0].symbol == "verify_token" and before.results[0].redactions == 0
    auth = workspace / "src" / "auth.py"
    auth.write_text(
        auth.read_text().replace(
            '    """Check a token against the secret in constant time."""\n',
            f'    """Check a token against the secret in constant time."""\n'
            f'    fallback_password = "{PASSWORD}"\n',
        )
    )
    await ws.index.update()
    after = await state.search(ws, wire.SearchArgs(query="verify_token"))
    top = after.results[0]
    assert top.symbol == "verify_token" and "fallback_password" in top.text
    assert top.redactions == 1 and PASSWORD not in dumped(after)


async def test_a_chunk_moved_by_an_edit_above_it_is_cited_at_its_new_lines(
    state: AppState, workspace: Path
) -> None:
    # Its row keeps its id and text (only its lines change): the rows kept for the snapshot
    # before the edit must not answer for the one after it.
    ws = await opened(state, workspace)
    before = (await state.search(ws, wire.SearchArgs(query="verify_token"))).results[0]
    auth = workspace / "src" / "auth.py"
    two_more = "import hmac\nimport os\nimport re\n"
    auth.write_text(auth.read_text().replace("import hmac\n", two_more))
    await ws.index.update()
    after = (await state.search(ws, wire.SearchArgs(query="verify_token"))).results[0]
    assert after.symbol == before.symbol == "verify_token" and after.text == before.text
    assert (after.start_line, after.end_line) == (before.start_line + 2, before.end_line + 2)


async def test_a_secret_hidden_in_a_chunk_is_hidden_in_its_symbol_and_matched_terms(
    app: AppState, workspace: Path
) -> None:
    # the token is glued inside the function's name: found where the chunk quotes it alone,
    # the name (and the term that matched it) must not show it either
    body = "Xk29dLq7" * 4 + "Ab3Z"
    name = f"mirrorghp_{body}_handler"
    (workspace / "src" / "mirror.py").write_text(f'def {name}():\n    return "cfgghp_{body}"\n')
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query=name))
    top = result.results[0]
    assert top.path == "src/mirror.py"
    assert body not in dumped(result)
    assert top.symbol == "mirror[REDACTED:github_token]_handler"
    answer = await app.search(ws, wire.SearchArgs(query=name, group_by="file"))
    assert body not in dumped(answer)


async def test_a_value_named_only_in_the_lines_a_budget_cut_off_is_hidden_in_those_kept(
    state: AppState, workspace: Path
) -> None:
    # whole, the chunk's redaction hides the login's password by the assignment further down;
    # cut to the budget, the lines kept have nothing to tell it by
    value = "tr0ub4dor&3x"
    body = "".join(f"    total += step_{i}(records)\n" for i in range(60))
    source = (
        f'def reconcile_ledger(records):\n    login("ledger", "{value}")\n{body}'
        f'    DB_PASSWORD = "{value}"\n'
    )
    (workspace / "src" / "ledger.py").write_text(source)
    ws = await opened(state, workspace)
    result = await state.search(ws, wire.SearchArgs(query="reconcile_ledger", k=1, max_tokens=120))
    assert result.results[0].truncated
    assert "login(" in result.results[0].text
    assert value not in dumped(result)


async def test_a_chunk_the_index_found_clean_is_redacted_again_once_a_budget_cut_it(
    state: AppState, workspace: Path
) -> None:
    # Whole, `Zkq3pw` is used again further down: a variable, and the chunk is clean. The lines
    # a budget keeps use it nowhere else: six random characters after a password's name, a
    # secret (`_redact_values.short_random`). A line prefix of a clean text is not clean
    # (tests/router/test_redact_line_prefixes.py).
    value = "Zkq" + "3pw"
    body = "".join(f"    total += step_{i}(records)\n" for i in range(60))
    source = (
        f"def reconcile_ledger(records):\n    password = {value}\n{body}"
        f'    return login("ledger", {value})\n'
    )
    (workspace / "src" / "ledger.py").write_text(source)
    ws = await opened(state, workspace)
    whole = await state.search(ws, wire.SearchArgs(query="reconcile_ledger", k=1))
    assert f"password = {value}" in whole.results[0].text  # the rules leave it as it is
    cut = await state.search(ws, wire.SearchArgs(query="reconcile_ledger", k=1, max_tokens=120))
    assert cut.results[0].truncated
    assert "password = [REDACTED:password_assignment]" in cut.results[0].text
    assert value not in dumped(cut)
