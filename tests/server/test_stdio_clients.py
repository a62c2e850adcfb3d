"""The server process over real stdio against clients that do what the specification allows
but the common ones rarely do: answer the server's own request with an error, send
protocol-level params of the wrong shape, stop reading, or stop the server with a signal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOllama
from tests.server.raw_server import INITIALIZE, INITIALIZED, RawServer


@pytest.fixture
def server(workspace: Path, fake_ollama: FakeOllama) -> Iterator[RawServer]:
    raw = RawServer(
        {"OCP_WORKSPACE": str(workspace), "OCP_OLLAMA_URL": fake_ollama.url},
        cwd=workspace.parent,
    )
    yield raw
    raw.kill()


def _initialize_with_roots(raw: RawServer) -> None:
    hello: dict[str, Any] = json.loads(json.dumps(INITIALIZE))
    hello["params"]["capabilities"] = {"roots": {"listChanged": True}}
    assert "result" in raw.request(hello, timeout=60)
    raw.send(INITIALIZED)


def test_an_error_the_client_answers_roots_list_with_reaches_the_server_not_the_client(
    server: RawServer, workspace: Path
) -> None:
    # A client may declare roots and still refuse roots/list (an error response). That
    # response is the answer the server waits for: never echoed back as if it were the
    # server's own error (the client would read it as the answer to its request with the
    # same id), and the tool call goes on without the roots at once.
    _initialize_with_roots(server)
    search = {"name": "ocp_context_search", "arguments": {"query": "verify_token"}}
    search["arguments"]["workspace"] = str(workspace)  # a `workspace` is checked against roots
    server.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": search})
    asked = server.read(timeout=60)
    assert asked["method"] == "roots/list", asked
    refusal = {"code": -32601, "message": "Method not found"}
    server.send({"jsonrpc": "2.0", "id": asked["id"], "error": refusal})
    answer = server.read(timeout=60)
    assert answer.get("id") == 1 and "result" in answer, answer
