"""A route the calling agent answers (no paid key) hands it the enriched prompt once, and a
route a model answered hands back that answer once. Claude Code and Codex pass their model
only a tool's structured content (JSON.stringify'd, the text dropped); other clients pass the
text (../shared/reference/mcp-clients.md §3). Sent in both, the prompt (retrieved code, up to
the context budget) or the answer went over the wire twice, and twice to the model of a
client that passes both."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.server.raw_server import INITIALIZE, INITIALIZED, RawServer
from tests.server.stdio_env import server_env, wait_for_index

STRUCTURED = ("claude-code", "codex-mcp-client")  # what client_limits.STRUCTURED_ONLY_CLIENTS holds
REQUEST = "review security vulnerabilities in verify_token and rotate_session across all files"


def _routed(env: dict[str, str], client: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The route's result as a client named `client` (its initialize's clientInfo) gets it."""
    server = RawServer(env)
    try:
        client_info = {"name": client, "version": "2.1"}
        init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client_info}
        server.request({**INITIALIZE, "params": init}, timeout=60)
        server.send(INITIALIZED)
        deadline = time.monotonic() + 60
        while True:  # the first index: a route's context waits for nothing, so wait here
            found = server.call_tool("ocp_context_search", {"query": "verify_token"})["result"]
            if not found["structuredContent"]["index"]["building"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        result: dict[str, Any] = server.call_tool("ocp_model_route", arguments)["result"]
        return result
    finally:
        server.kill()


def _texts(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


def _structured(result: dict[str, Any]) -> str:
    return json.dumps(result["structuredContent"], ensure_ascii=False)


# (clientInfo.name, what its model is given of a tool's result)
WHAT_EACH_CLIENTS_MODEL_SEES = [
    ("claude-code", _structured),
    ("codex-mcp-client", _structured),
    ("cursor-vscode", _texts),
    ("Visual Studio Code", _texts),
]


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(("client", "model_sees"), WHAT_EACH_CLIENTS_MODEL_SEES)
def test_the_enriched_prompt_goes_once_where_the_client_reads(
    workspace: Path, fake_ollama: FakeOllama, client: str, model_sees: Any, dry_run: bool
) -> None:
    arguments: dict[str, Any] = {"request": REQUEST} | ({"dry_run": True} if dry_run else {})
    result = _routed(server_env(workspace, fake_ollama), client, arguments)
    structured = result["structuredContent"]
    assert not result["isError"] and structured["answer"] is None
    texts = _texts(result)
    # the prompt whole, wherever it was put (the text's last block, when not there)
    prompt = structured["prompt"] or result["content"][-1]["text"]
    assert "## Workspace context" in prompt and prompt.rstrip().endswith("all files")
    escaped = json.dumps(prompt, ensure_ascii=False)[1:-1]  # (it has lines: never the same)
    # what the client's model is given holds it once
    assert model_sees(result).count(escaped if client in STRUCTURED else prompt) == 1
    # and the answer as sent holds it once: in the text or in the structured content
    assert texts.count(prompt) + json.dumps(structured, ensure_ascii=False).count(escaped) == 1


async def test_ocp_client_reads_the_prompt_from_where_the_server_sent_it(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        raw = await client.call("ocp_model_route", {"request": REQUEST})
        result = await client.route(REQUEST)
    assert result.answered_by == "agent" and result.prompt
    assert "## Workspace context" in result.prompt
    assert raw.structured_content is not None and not raw.structured_content["prompt"]


# A model's answer long enough that twice over is not noise: lines, quotes, a tab.
ANSWER = "Use a dict keyed by the user's id:\n\n\tcache[user.id] = session\n" * 40


@pytest.mark.parametrize(("client", "model_sees"), WHAT_EACH_CLIENTS_MODEL_SEES)
def test_a_models_answer_goes_once_where_the_client_reads(
    workspace: Path, client: str, model_sees: Any
) -> None:
    ollama = FakeOllama(reply=ANSWER)
    with ollama:
        arguments = {"request": "rename x to count", "force": "local"}
        result = _routed(server_env(workspace, ollama), client, arguments)
    structured = result["structuredContent"]
    assert not result["isError"] and structured["answered_by"] == "local"
    escaped = json.dumps(ANSWER, ensure_ascii=False)[1:-1]
    sees = model_sees(result)
    assert sees.count(escaped if client in STRUCTURED else ANSWER) == 1
    if client in STRUCTURED:  # the text says where it is
        assert structured["answer"] == ANSWER and "`answer`" in _texts(result)
    else:
        assert structured["answer"] == "" and result["content"][-1]["text"] == ANSWER
    assert (
        _texts(result).count(ANSWER) + json.dumps(structured, ensure_ascii=False).count(escaped)
        == 1
    )


async def test_ocp_client_reads_a_models_answer_from_where_the_server_sent_it(
    workspace: Path,
) -> None:
    with FakeOllama(reply=ANSWER) as ollama:
        async with OCPClient(env=server_env(workspace, ollama)) as client:
            raw = await client.call("ocp_model_route", {"request": "rename x", "force": "local"})
            result = await client.route("rename x", force="local")
    assert result.answered_by == "local" and result.answer == ANSWER
    assert raw.structured_content is not None and raw.structured_content["answer"] == ""
