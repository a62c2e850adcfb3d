"""Every bad argument is told in one format, over real stdio, whoever finds it: the tool's
schema (pydantic), the tool's own checks (an unknown language, an id that names nothing, a
citation that resolves to no code) or the router (a forced model no backend serves). The
field, what was expected in plain words, what was given, then what to do when that is not
plain: `` `k`: expected at most 50 (got 51) `` (argument_errors.field_problem)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocp_server.index.languages import KNOWN_LANGUAGES
from tests.fakes import FakeOllama
from tests.server.raw_server import RawServer
from tests.server.stdio_env import server_env

LANGUAGES = ", ".join(sorted(KNOWN_LANGUAGES))
CITABLE = "expected code in the workspace index: path:start-end, path:symbol or a symbol"

# (tool, arguments, the whole error text; {ws} is the workspace)
MESSAGES: list[tuple[str, dict[str, Any], str]] = [
    # the schema's
    ("ocp_context_search", {"query": "x", "k": 51}, "`k`: expected at most 50 (got 51)"),
    (
        "ocp_result_save",
        {"decisions": [{"title": "", "decision": "d"}]},
        "`decisions[0].title`: expected text that is not blank (got '')",
    ),
    # the tools' own checks
    (
        "ocp_context_search",
        {"query": "verify token", "language": "klingon"},
        "`language`: expected a language OCP indexes or a file extension such as py (got "
        f"'klingon'); the languages: {LANGUAGES}",
    ),
    (
        "ocp_context_search",
        {"query": "verify token", "path_glob": "../*"},
        "`path_glob`: expected a glob relative to the workspace, e.g. 'src/**/*.py' (got "
        "'../*'); it leads out of the workspace {ws}",
    ),
    (
        "ocp_context_search",
        {"query": "verify token", "path_glob": "src/[ab"},
        "`path_glob`: expected a well-formed glob (got 'src/[ab'); unclosed character class; "
        "the '[' at character 5 has no ']' (write '[[]' to match a '[')",
    ),
    (
        "ocp_context_search",
        {"query": "verify token", "workspace": "rel"},
        "`workspace`: expected an absolute path (got 'rel')",
    ),
    # a refused folder and one outside those the server may open: said as every workspace
    # refusal is, wherever the path came from (`workspace`, OCP_WORKSPACE, the client's root)
    (
        "ocp_context_search",
        {"query": "verify token", "workspace": "/"},
        "`workspace` / is the root folder: it cannot be a workspace (OCP would read and store "
        "every file in it, secrets included); use the folder of one project",
    ),
    (
        "ocp_context_search",
        {"query": "verify token", "workspace": "{ws}/../other"},
        "`workspace` {ws}/../other is outside the folders this server may open ({ws}); leave "
        "`workspace` out, or pass one of them or a folder inside one. Other folders are opened "
        "only when configured (OCP_WORKSPACE) or opened in the client (MCP roots).",
    ),
    (
        "ocp_session_restore",
        {"decision": 99},
        "`decision`: expected the id of a decision a restore or a save names (got 99); no "
        "decision #99 to show (forgotten and expired ones are gone)",
    ),
    (
        "ocp_session_restore",
        {"answer_of": "abcdef12"},
        "`answer_of`: expected the trace id of a route whose answer was cut to fit this client "
        "(got 'abcdef12'); no answer of that route is kept (only a model's answer cut to fit "
        "what this client accepts of a result is)",
    ),
    (
        "ocp_model_route",
        {"request": "hi", "model": "gpt-9"},
        "`model`: expected the local model (llama3.2), as no paid backend is configured (got "
        "'gpt-9'); name the local model, leave `model` out, or set ANTHROPIC_API_KEY, or "
        "OCP_PAID_BACKEND=openai with OPENAI_API_KEY and OCP_PAID_MODEL",
    ),
    (
        "ocp_result_save",
        {"trace_id": "nosuch", "outcome": "worked"},
        "`trace_id`: expected the id of a recorded trace (got 'nosuch'); give 8 or more "
        "characters of its id",
    ),
    (
        "ocp_result_save",
        {"resolve": [99]},
        "`resolve[0]`: expected the id of an open item (got 99); no open item #99",
    ),
    (
        "ocp_result_save",
        {"forget_notes": [1, 99]},
        "`forget_notes[1]`: expected the id of a note (got 99); no note #99",
    ),
    (
        "ocp_result_save",
        {"decisions": [{"title": "t", "decision": "d", "supersedes": 99}]},
        "`decisions[0].supersedes`: expected the id of an active decision (got 99); decision "
        "#99 does not exist",
    ),
    (
        "ocp_result_save",
        {"notes": [{"text": "n", "citations": ["src/auth.py:1-200"]}]},
        f"`notes[0].citations[0]`: {CITABLE} (got 'src/auth.py:1-200'); src/auth.py:1-200: "
        "the file has 2 lines",
    ),
    (
        "ocp_result_save",
        {"decisions": [{"title": "t", "decision": "d", "citations": ["!!"]}]},
        f"`decisions[0].citations[0]`: {CITABLE} (got '!!'); it is not a citation: expected "
        "path:start-end (src/auth.py:6-8), path:symbol (src/auth.py:verify_token) or a symbol "
        "(verify_token, SessionStore.rotate_session)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, Path]]:
    workspace = tmp_path_factory.mktemp("messages") / "ws"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "auth.py").write_text("def verify_token(token):\n    return token\n")
    (workspace.parent / "other").mkdir()  # a folder outside the one the server may open
    with FakeOllama() as ollama:
        raw = RawServer(server_env(workspace, ollama), cwd=workspace.parent)
        try:
            raw.initialize()
            for _ in range(150):  # the first build: a citation resolves against the index
                found = raw.call_tool("ocp_context_search", {"query": "verify_token"})
                if found["result"]["structuredContent"]["results"]:
                    break
                time.sleep(0.2)
            raw.call_tool("ocp_result_save", {"notes": ["a note to forget"]})  # note #1
            yield raw, workspace
        finally:
            raw.kill()


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    MESSAGES,
    ids=[f"{tool}-{n}" for n, (tool, _, _) in enumerate(MESSAGES)],
)
def test_a_bad_argument_is_told_as_its_field_what_was_expected_and_what_was_given(
    server: tuple[RawServer, Path], tool: str, arguments: dict[str, Any], said: str
) -> None:
    raw, workspace = server
    arguments = {
        k: v.replace("{ws}", str(workspace)) if isinstance(v, str) else v
        for k, v in arguments.items()
    }
    result = raw.call_tool(tool, arguments)["result"]
    assert result["isError"], result
    assert result["content"][0]["text"] == said.replace("{ws}", str(workspace))
