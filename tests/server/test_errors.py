"""The server's error contract (ocp_server/errors.py): bad input is answered with a message
naming the field; a bug is logged with its traceback and answered as an internal error."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from ocp_server import errors
from ocp_server.app import AppState
from tests.server.inproc import inproc_client, text_of


async def test_an_unexpected_value_error_is_an_internal_error_logged_with_its_traceback(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_save(self: AppState, ws: object, args: object) -> object:
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(AppState, "save", broken_save)
    caplog.set_level(logging.ERROR, logger="ocp_server.server")
    async with inproc_client(workspace, monkeypatch) as client:
        result = await client.call_tool("ocp_result_save", {"summary": "done"})
        assert result.is_error
        assert "internal error (ValueError: a bug, not bad input)" in text_of(result)
        failures = [r for r in caplog.records if r.name == "ocp_server.server"]
        assert failures and failures[0].exc_info is not None
        assert failures[0].exc_info[0] is ValueError
        # The server keeps serving.
        ok = await client.call_tool("ocp_session_restore", {})
        assert not ok.is_error


async def test_an_unknown_reference_is_bad_input_named_by_its_field_and_not_logged(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ocp_server.server")
    async with inproc_client(workspace, monkeypatch) as client:
        result = await client.call_tool("ocp_result_save", {"resolve": [12345]})
        assert result.is_error
        assert text_of(result).startswith(
            "`resolve[0]`: expected the id of an open item (got 12345); no open item #12345"
        )
        assert "internal error" not in text_of(result)
    assert not [r for r in caplog.records if r.name == "ocp_server.server"]


@pytest.mark.parametrize(
    ("error", "base"),
    [
        (errors.InputError, ValueError),
        (errors.WorkspaceError, errors.InputError),
        (errors.CitationError, errors.InputError),
        (errors.DatabaseError, RuntimeError),
        (errors.RouteFailure, errors.OCPError),
    ],
)
def test_the_error_tree_is_the_one_drawn_in_the_module_docstring(
    error: type[errors.OCPError], base: type[Exception]
) -> None:
    assert issubclass(error, base) and issubclass(error, errors.OCPError)
    assert error.__name__ in (errors.__doc__ or "")


async def test_a_value_no_branch_of_a_union_takes_is_named_by_its_field_with_what_it_takes(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pydantic names a union's branches: `notes.0.constrained-str`, `notes.0.NoteArg`; the
    # caller is told `notes[0]`, as a JSON path and the save's own errors (`decisions[0]...`)
    async with inproc_client(workspace, monkeypatch) as client:
        wrong_type = text_of(await client.call_tool("ocp_result_save", {"notes": [123]}))
        bad_inside = text_of(
            await client.call_tool(
                "ocp_result_save", {"notes": ["ok", {"text": "tied", "citations": "nope"}]}
            )
        )
        keyed = text_of(await client.call_tool("ocp_result_save", {"state": {"Ok-Key": 5}}))
    assert wrong_type == "`notes[0]`: expected a string or an object (got 123)"
    assert bad_inside.startswith("`notes[1].citations`: ")
    assert "NoteArg" not in bad_inside and "constrained" not in bad_inside
    assert keyed.startswith("`state.Ok-Key`: ")  # a key, not a branch


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("ocp_context_search", {"query": "verify token", "k": True}, "k"),
        ("ocp_session_restore", {"max_tokens": False}, "max_tokens"),
        ("ocp_result_save", {"forget_notes": [True]}, "forget_notes[0]"),
    ],
)
async def test_true_or_false_for_an_integer_is_named_by_its_field_not_read_as_1_or_0(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    tool: str,
    arguments: dict[str, object],
    field: str,
) -> None:
    """pydantic's lax mode read `k: true` as one result, and `forget_notes: [true]` as
    "forget note 1"."""
    async with inproc_client(workspace, monkeypatch) as client:
        result = await client.call_tool(tool, arguments)
        kept = await client.call_tool("ocp_context_search", {"query": "verify token", "k": "2"})
    assert result.is_error
    assert text_of(result).startswith(f"`{field}`: ")
    assert "expected an integer" in text_of(result)
    assert not kept.is_error  # a number sent as a string is still read as one


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ({"query": "verify token", "k": None}, "`k`: expected an integer (got null)"),
        ({"query": "verify token", "k": True}, "(got true)"),
        ({"query": "verify token", "max_tokens": False}, "(got false)"),
    ],
)
async def test_a_json_literal_sent_is_echoed_as_json_not_as_python(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, arguments: dict[str, object], said: str
) -> None:
    """The caller sent JSON: `null` echoed as `None` (and `true` as `True`) names a value it
    never wrote."""
    async with inproc_client(workspace, monkeypatch) as client:
        text = text_of(await client.call_tool("ocp_context_search", arguments))
    assert said in text, text
    assert "None" not in text and "True" not in text and "False" not in text


async def test_a_database_another_process_keeps_locked_is_answered_as_busy_not_as_a_bug(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    from ocp_server import db

    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # how long a write waits for the lock
    caplog.set_level(logging.ERROR, logger="ocp_server.server")
    async with inproc_client(workspace, monkeypatch) as client:
        assert not (await client.call_tool("ocp_result_save", {"summary": "first"})).is_error
        while (await client.call_tool("ocp_context_search", {"query": "x"})).structured_content[
            "index"
        ]["building"]:
            await asyncio.sleep(0.05)  # the first build writes too: lock after it
        other = sqlite3.connect(
            workspace.parent / "ocp.db", timeout=60, isolation_level=None, check_same_thread=False
        )
        # Another process writing, for longer than the wait. Taken in a thread: the watcher's
        # catch-up update may hold the write lock, and it commits only if the loop runs.
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        try:
            result = await client.call_tool("ocp_result_save", {"summary": "second"})
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert result.is_error
        text = text_of(result)
        assert "busy" in text and "try again" in text and "internal error" not in text
        assert not [r for r in caplog.records if r.name == "ocp_server.server"]  # not a bug
        assert not (await client.call_tool("ocp_result_save", {"summary": "again"})).is_error


async def test_each_tool_call_is_logged_at_debug_with_its_outcome_and_time(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`ocp-server -v` promises OCP's debug log; a served call logged nothing, so -v showed
    no more than no flag at all. The line says which tool, how it ended and how long it took
    (what an error says is redacted already, as the caller got it)."""
    import ocp_server.server

    caplog.set_level(logging.DEBUG, logger=ocp_server.server.__name__)
    async with inproc_client(workspace, monkeypatch) as client:
        await client.call_tool("ocp_context_search", {"query": "verify token"})
        await client.call_tool("ocp_context_search", {"query": "verify token", "k": 0})
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == ocp_server.server.__name__ and r.levelno == logging.DEBUG
    ]
    calls = [line for line in lines if line.startswith("ocp_context_search: ")]
    assert len(calls) == 2, lines
    assert " answered in " in calls[0] and calls[0].endswith(" ms")
    assert "tool error (`k`: expected at least 1" in calls[1] and calls[1].endswith(" ms")


async def test_a_save_of_nothing_is_refused_naming_the_fields_it_takes(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        for empty in ({}, {"session_id": "s1"}, {"trace_id": "abc12345"}, {"summary": ""}):
            result = await client.call_tool("ocp_result_save", empty)
            text = text_of(result)
            assert result.is_error, (empty, text)
            assert "nothing to save" in text and "Saved nothing" not in text
            for field in ("`summary`", "`decisions`", "`state`", "`notes`", "`outcome`"):
                assert field in text, (field, text)
        ok = await client.call_tool("ocp_result_save", {"summary": "done"})
        assert not ok.is_error
