"""Bad arguments to each tool over real stdio, as a confused agent or a fuzzing client sends
them: wrong types, out of bounds, unknown fields, huge values. Each is answered with a tool
error naming the field and what it expected, and the server goes on serving."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOllama
from tests.server.raw_server import RawServer
from tests.server.stdio_env import server_env

# (tool, arguments, the field the error names, a word of what it expected)
BAD_ARGUMENTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("ocp_context_search", {}, "`query`", "required"),
    ("ocp_context_search", {"query": ""}, "`query`", "expected text that is not blank"),
    ("ocp_context_search", {"query": "   "}, "`query`", "expected text that is not blank"),
    ("ocp_context_search", {"query": ["a"]}, "`query`", "string"),
    (
        "ocp_context_search",
        {"query": "x" * 3_000_000},
        "`query`",
        "expected at most 20,000 characters",
    ),
    ("ocp_context_search", {"query": "x", "k": 51}, "`k`", "expected at most 50"),
    ("ocp_context_search", {"query": "x", "k": 1.5}, "`k`", "integer"),
    ("ocp_context_search", {"query": "x", "k": True}, "`k`", "integer, not true"),
    (
        "ocp_context_search",
        {"query": "x", "max_tokens": 99},
        "`max_tokens`",
        "expected at least 100",
    ),
    ("ocp_context_search", {"query": "x", "group_by": "dir"}, "`group_by`", "'chunk' or 'file'"),
    ("ocp_context_search", {"query": "x", "language": "klingon"}, "`language`", "a language"),
    ("ocp_context_search", {"query": "x", "path_glob": "../*"}, "`path_glob`", "relative"),
    ("ocp_context_search", {"query": "x", "path_glob": "src/[ab"}, "`path_glob`", "well-formed"),
    ("ocp_context_search", {"query": "x", "workspace": "rel"}, "`workspace`", "absolute"),
    ("ocp_context_search", {"query": "x", "Query": "y"}, "`Query`", "not an argument"),
    ("ocp_session_restore", {"max_tokens": 299}, "`max_tokens`", "expected at least 300"),
    ("ocp_session_restore", {"max_tokens": 10**9}, "`max_tokens`", "expected at most 20,000"),
    ("ocp_session_restore", {"max_tokens": "lots"}, "`max_tokens`", "expected an integer"),
    ("ocp_session_restore", {"stale": "hide"}, "`stale`", "'list' or 'count'"),
    ("ocp_model_route", {}, "`request`", "required"),
    ("ocp_model_route", {"request": ""}, "`request`", "expected text that is not blank"),
    ("ocp_model_route", {"request": "x" * 500_000}, "`request`", "expected at most 400,000 char"),
    ("ocp_model_route", {"request": "hi", "force": "cloud"}, "`force`", "'local'"),
    ("ocp_model_route", {"request": "hi", "effort": "max"}, "`effort`", "'none', 'low', 'medium'"),
    ("ocp_model_route", {"messages": [1]}, "`messages[0]`", "expected an object"),
    ("ocp_model_route", {"messages": [{"role": "wizard"}]}, "messages[0].role", "expected user"),
    ("ocp_model_route", {"messages": [{"role": "user"}]}, "messages[0].content", "a string"),
    (
        "ocp_model_route",
        {"request": "hi", "model": ""},
        "`model`",
        "expected text that is not blank",
    ),
    (
        "ocp_model_route",
        {"request": "hi", "session_id": "s" * 201},
        "`session_id`",
        "expected at most 200 characters",
    ),
    ("ocp_model_route", {"request": "hi", "max_context_tokens": -1}, "`max_context_tokens`", "0"),
    ("ocp_model_route", {"request": "hi", "dry_run": "yes"}, "`dry_run`", "true or false"),
    ("ocp_model_route", {"request": "hi", "dry_run": 1}, "`dry_run`", "true or false"),
    ("ocp_model_route", {"request": "hi", "dry_run": None}, "`dry_run`", "true or false"),
    ("ocp_model_route", {"request": "hi", "tools": [{}]}, "tools[0]", "with a name"),
    (
        "ocp_model_route",
        {"request": "hi", "tools": [{"type": "function", "function": {"description": "d"}}]},
        "tools[0]",
        "`function.name`",
    ),
    ("ocp_result_save", {"state": {"k": 5}}, "`state.k`", "string"),
    ("ocp_result_save", {"state": {"k" * 1_000_000: "v"}}, "`state`", "a key: expected at most"),
    ("ocp_result_save", {"summary": "s" * 30_000}, "`summary`", "expected at most 20,000 char"),
    (
        "ocp_result_save",
        {"decisions": [{"title": "", "decision": "d"}]},
        "`decisions[0].title`",
        "not blank",
    ),
    ("ocp_result_save", {"notes": [5]}, "`notes[0]`", "a string or an object"),
    ("ocp_result_save", {"notes": [""]}, "`notes[0]`", "expected text that is not blank"),
    ("ocp_result_save", {"notes": ["ok", "  "]}, "`notes[1]`", "expected text that is not blank"),
    ("ocp_result_save", {"open_items": [""]}, "`open_items[0]`", "expected text that is not blank"),
    ("ocp_result_save", {"resolve": [True]}, "`resolve[0]`", "integer, not true"),
    ("ocp_result_save", {"resolve": [2**70]}, "`resolve[0]`", "expected at most"),
    ("ocp_result_save", {"decisions": [{"title": "t"}]}, "`decisions[0].decision`", "required"),
    ("ocp_result_save", {f"f{i}": 1 for i in range(10_000)}, "`f0`", "not an argument"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    workspace = tmp_path_factory.mktemp("bad-arguments") / "ws"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "auth.py").write_text("def verify_token(token):\n    return token\n")
    with FakeOllama() as ollama:
        raw = RawServer(server_env(workspace, ollama), cwd=workspace.parent)
        raw.initialize()
        yield raw
        raw.kill()


@pytest.mark.parametrize(
    ("tool", "arguments", "field", "expected"),
    BAD_ARGUMENTS,
    ids=[f"{tool}-{field}-{n}" for n, (tool, _, field, _) in enumerate(BAD_ARGUMENTS)],
)
def test_a_bad_argument_is_a_tool_error_naming_the_field_and_what_it_expected(
    server: RawServer, tool: str, arguments: dict[str, Any], field: str, expected: str
) -> None:
    reply = server.call_tool(tool, arguments)
    result = reply["result"]
    text = result["content"][0]["text"]
    assert result["isError"], text
    assert field in text and expected in text, text
    assert len(text) < 2_000  # huge values are echoed clipped, if at all
    assert "items after validation" not in text  # pydantic's words for a list, of a string
    # pydantic's own words ("String should have at least 1 character", "Input should be less
    # than or equal to 50", "Field required") name its types, not what the caller should send
    assert not any(w in text for w in ("should have", "Input should", "Field required")), text
    assert server.rpc("ping", {})["result"] == {}


def test_a_boolean_sent_as_the_word_true_is_read_as_true(server: RawServer) -> None:
    # A client (or model) that sends every argument as a string sends "true", as it sends
    # "5" for an integer: a dry run, which calls no model.
    reply = server.call_tool("ocp_model_route", {"request": "explain this", "dry_run": "true"})
    result = reply["result"]
    assert not result["isError"], result
    assert result["structuredContent"]["answered_by"] == "none"


def test_a_glob_of_many_double_star_folders_is_answered_and_the_server_serves_on(
    tmp_path: Path, fake_ollama: FakeOllama
) -> None:
    # Each `**/` was a `(?:.*/)?` in one regex, and twelve of them backtracked into each
    # other on a path 30 folders deep for longer than any client waits (a search never
    # answered, the server's CPU held). 500 characters of glob hold 160 of them.
    workspace = tmp_path / "ws"
    deep = workspace.joinpath(*(["a"] * 30))
    deep.mkdir(parents=True)
    (deep / "auth.py").write_text("def verify_token(token):\n    return token\n")
    raw = RawServer(server_env(workspace, fake_ollama), cwd=tmp_path)
    try:
        raw.initialize()
        for _ in range(150):  # the first build
            first = raw.call_tool("ocp_context_search", {"query": "verify_token"})
            if first["result"]["structuredContent"]["results"]:
                break
            time.sleep(0.2)
        for glob, found in [("**/a*/" * 12 + "zzz", 0), ("**/a/" * 12 + "**/*.py", 1)]:
            reply = raw.call_tool(
                "ocp_context_search", {"query": "verify_token", "path_glob": glob}
            )
            result = reply["result"]
            assert not result["isError"], result
            assert len(result["structuredContent"]["results"]) == found, result
        assert raw.rpc("ping", {})["result"] == {}
    finally:
        raw.kill()
