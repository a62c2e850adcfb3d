"""Names and ids the caller picks (a session id, a forced model, a trace id, a workspace path,
an argument's name) come back in results and errors, go out in paid requests and are stored
as keys: one holding a secret is refused before anything is called, and an error that quotes
the caller is redacted, a token glued to a word included. Over the real `ocp-server` binary.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.raw_server import RawServer

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY
AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"


@pytest.fixture
def served(
    workspace: Path, fake_ollama: FakeOllama
) -> Iterator[tuple[RawServer, FakeOllama, FakeAnthropic]]:
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    with FakeAnthropic(reply="paid answer") as anthropic:
        raw = RawServer(
            {
                "OCP_WORKSPACE": str(workspace),
                "OCP_OLLAMA_URL": fake_ollama.url,
                "OCP_DB_PATH": str(workspace.parent / "ocp.db"),
                "ANTHROPIC_API_KEY": "sk-ant-test",
                "ANTHROPIC_BASE_URL": anthropic.url,
            },
            cwd=workspace.parent,
        )
        try:
            raw.initialize()
            yield raw, fake_ollama, anthropic
        finally:
            raw.kill()


def call(raw: RawServer, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The tool call's result and the whole line the server wrote for it."""
    reply = raw.call_tool(tool, arguments)
    return reply["result"], json.dumps(reply)


def models_called(ollama: FakeOllama, anthropic: FakeAnthropic) -> int:
    return len(ollama.requests_to("/api/chat")) + len(anthropic.message_requests())


REFUSED = [
    ("session_id", f"feature-x-{GHP}"),
    ("session_id", f"featurex{GHP}"),  # glued to the word: still a token in an id
    ("model", f"claude-{GHP}"),
    ("model", f"llama{AKIA}"),
]


def test_a_route_naming_a_secret_as_its_session_or_model_is_refused_before_any_call(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, ollama, anthropic = served
    for (field, value), force in itertools.product(REFUSED, (None, "paid")):
        args = {"request": "explain the auth middleware", field: value}
        result, line = call(raw, "ocp_model_route", args | ({"force": force} if force else {}))
        assert result["isError"], line
        assert f"`{field}`" in result["content"][0]["text"] and "secret" in line
        assert BODY not in line and AKIA not in line
    assert models_called(ollama, anthropic) == 0


def test_a_save_under_a_secret_session_id_is_refused_naming_the_field(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, _, _ = served
    result, line = call(raw, "ocp_result_save", {"session_id": f"wip{GHP}", "notes": ["x"]})
    assert result["isError"] and "`session_id`" in line and BODY not in line


def test_ordinary_session_ids_and_models_still_route_and_come_back(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, _, anthropic = served
    args = {
        "request": "explain the auth middleware",
        "session_id": "feature-x-ghp-client",
        "model": "claude-sonnet-4-6",
    }
    result, _ = call(raw, "ocp_model_route", args)
    trace = result["structuredContent"]["trace"]
    assert not result["isError"] and trace["session"] == "feature-x-ghp-client"
    assert anthropic.message_requests()[-1]["model"] == "claude-sonnet-4-6"


QUOTED: list[tuple[str, dict[str, Any]]] = [
    ("ocp_context_search", {"query": "auth", "workspace": f"/srv/{GHP}"}),
    ("ocp_context_search", {"query": "auth", "workspace": f"relative/backup{GHP}"}),
    ("ocp_session_restore", {"max_tokens": GHP}),
    ("ocp_session_restore", {"max_tokens": "x" * 60 + GHP}),  # cut inside the token
    ("ocp_session_restore", {GHP: 1}),  # an argument's name
    ("ocp_result_save", {"trace_id": f"tr{GHP}", "outcome": "it worked"}),
    ("ocp_result_save", {"notes": [{"text": "n", "citations": [f"src/key{AKIA}.py:1-2"]}]}),
    (GHP, {}),  # a tool's name
]


def test_an_error_quoting_the_callers_value_hides_the_secret_in_it(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, _, _ = served
    for tool, arguments in QUOTED:
        result, line = call(raw, tool, arguments)
        assert result["isError"], line
        assert BODY[:16] not in line and AKIA[4:] not in line, line
        assert "[REDACTED:" in line, line


def test_a_backend_error_quoting_a_secret_reaches_the_trace_redacted(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, ollama, anthropic = served
    ollama.fail_next(500, {"error": f"model load failed for token {GHP}"}, path="/api/chat")
    anthropic.fail_next(400, f"unknown model; your key {GHP} is not allowed", times=3)
    result, line = call(raw, "ocp_model_route", {"request": "explain the auth middleware"})
    assert result["structuredContent"]["trace"]["attempts"], line
    assert BODY not in line, line


def test_protocol_errors_quoting_a_method_or_uri_hide_the_secret_in_it(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, _, _ = served
    for method, params in (
        (f"tools/{GHP}", {}),  # the SDK quotes the method as the error's data
        ("resources/read", {"uri": f"ocp://backup{GHP}"}),
    ):
        reply = raw.rpc(method, params)
        line = json.dumps(reply)
        assert "error" in reply and BODY[:16] not in line and "[REDACTED:" in line, line


def test_a_token_glued_into_a_title_or_state_key_is_kept_and_restored_redacted(
    served: tuple[RawServer, FakeOllama, FakeAnthropic], workspace: Path
) -> None:
    raw, _, _ = served
    saved, line = call(
        raw,
        "ocp_result_save",
        {
            "decisions": [{"title": f"rotate{GHP}", "decision": "rotate it monthly"}],
            "state": {f"cfg{AKIA}": "on"},
        },
    )
    assert not saved["isError"], line
    restored, line = call(raw, "ocp_session_restore", {})
    assert "rotate[REDACTED:github_token]" in line and "cfg[REDACTED:aws_access_key]" in line
    assert BODY[:16] not in line and AKIA[4:] not in line
    raw.close_stdin_and_wait()
    for file in workspace.parent.glob("ocp.db*"):
        assert BODY.encode() not in file.read_bytes(), file


def test_a_workspace_folder_named_with_a_token_is_shown_redacted(
    tmp_path: Path, fake_ollama: FakeOllama
) -> None:
    ws = tmp_path / f"proj{GHP}"
    (ws / "src").mkdir(parents=True)
    (ws / "src/auth.py").write_text("def verify_token(token):\n    return token == 'x'\n")
    env = {"OCP_WORKSPACE": str(ws), "OCP_OLLAMA_URL": fake_ollama.url}
    raw = RawServer(env | {"OCP_DB_PATH": str(tmp_path / "ocp.db")}, cwd=tmp_path)
    try:
        raw.initialize()
        _, line = call(raw, "ocp_context_search", {"query": "verify_token"})
        status = raw.rpc("resources/read", {"uri": "ocp://index/status"})
    finally:
        raw.kill()
    for text in (line, json.dumps(status)):
        assert "proj[REDACTED:github_token]" in text and BODY not in text, text


def test_a_query_naming_a_glued_token_is_echoed_redacted(
    served: tuple[RawServer, FakeOllama, FakeAnthropic],
) -> None:
    raw, _, _ = served
    result, line = call(raw, "ocp_context_search", {"query": f"where is backup{GHP}"})
    assert not result["isError"] and BODY[:16] not in line, line
    assert result["structuredContent"]["query"] == "where is backup[REDACTED:github_token]"
