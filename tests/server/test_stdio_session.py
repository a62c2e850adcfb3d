"""One session over real stdio, as a client may drive it: routes waiting for their turn (told
how far back they are when the client asked for progress, or cancelled while they wait), and a
second `initialize`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOllama
from tests.server.raw_server import INITIALIZE, RawServer
from tests.server.stdio_env import server_env


class _Gate:
    """Holds every chat request at the fake Ollama until opened."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)

    def reply(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        self.entered.release()
        self.open.wait(60)
        return "local answer"


@pytest.fixture
def gate() -> _Gate:
    return _Gate()


@pytest.fixture
def ollama(gate: _Gate) -> Iterator[FakeOllama]:
    with FakeOllama(reply=gate.reply) as fake:
        yield fake


@pytest.fixture
def server(workspace: Path, ollama: FakeOllama, gate: _Gate) -> Iterator[RawServer]:
    raw = RawServer(server_env(workspace, ollama, OCP_ROUTE_CONCURRENCY="1"), cwd=workspace.parent)
    yield raw
    gate.open.set()
    raw.kill()


def _call(request_id: int, name: str, arguments: dict[str, Any], token: str | None = None) -> str:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
    )


def _route(request_id: int, token: str | None = None) -> str:
    return _call(request_id, "ocp_model_route", {"request": "say hi", "force": "local"}, token)


def _ready(server: RawServer) -> None:
    """Initialized, with the index built (no notice of its progress comes after this)."""
    server.initialize()
    found = server.request(_call(1, "ocp_context_search", {"query": "verify token"}), timeout=60)
    assert not found["result"]["structuredContent"]["index"]["building"], found


def _read_until(server: RawServer, ids: set[int], seen: list[dict[str, Any]]) -> None:
    """Read messages into `seen` until every id in `ids` has its answer."""
    while ids - {m.get("id") for m in seen if "method" not in m}:
        seen.append(server.read(timeout=30))


def _notices(seen: list[dict[str, Any]], token: str) -> list[dict[str, Any]]:
    return [
        m["params"]
        for m in seen
        if m.get("method") == "notifications/progress" and m["params"]["progressToken"] == token
    ]


def test_a_route_waiting_for_its_turn_says_how_far_back_it_is_and_when_it_starts(
    server: RawServer, gate: _Gate
) -> None:
    _ready(server)
    server.send(_route(10))  # no token: holds the one slot, at the local model
    assert gate.entered.acquire(timeout=30)
    server.send(_route(11, token="second"))
    server.send(_route(12, token="third"))
    seen: list[dict[str, Any]] = []
    while len(_notices(seen, "second")) < 1 or len(_notices(seen, "third")) < 1:
        seen.append(server.read(timeout=30))
    assert "waiting for a route slot: 0 ahead" in _notices(seen, "second")[0]["message"]
    assert "waiting for a route slot: 1 ahead" in _notices(seen, "third")[0]["message"]
    assert "OCP_ROUTE_CONCURRENCY=1" in _notices(seen, "third")[0]["message"]
    gate.open.set()
    _read_until(server, {10, 11, 12}, seen)
    for request_id in (10, 11, 12):
        answer = next(m for m in seen if m.get("id") == request_id)
        assert answer["result"]["structuredContent"]["answered_by"] == "local", answer
    for token in ("second", "third"):
        notices = _notices(seen, token)
        assert notices[-1]["message"] == "route slot taken: routing now", notices
        values = [n["progress"] for n in notices]
        assert values == sorted(set(values)), values  # MCP: each one more than the last
    # The call that asked for no progress was sent none.
    assert all(m["params"]["progressToken"] in ("second", "third") for m in seen if "method" in m)


def test_a_queued_route_the_client_cancels_leaves_the_line_unanswered(
    server: RawServer, gate: _Gate, ollama: FakeOllama
) -> None:
    _ready(server)
    server.send(_route(10))
    assert gate.entered.acquire(timeout=30)
    server.send(_route(11, token="cancelled"))
    server.send(_route(12, token="behind"))
    seen: list[dict[str, Any]] = []
    while not _notices(seen, "behind"):
        seen.append(server.read(timeout=30))
    assert "1 ahead" in _notices(seen, "behind")[0]["message"]
    server.send(
        json.dumps(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 11}}
        )
    )
    while not any("0 ahead" in n["message"] for n in _notices(seen, "behind")):
        seen.append(server.read(timeout=30))  # the line moved up
    gate.open.set()
    _read_until(server, {10, 12}, seen)
    assert not [m for m in seen if m.get("id") == 11 and "method" not in m]
    ping = server.request({"jsonrpc": "2.0", "id": 13, "method": "ping"})
    assert ping == {"jsonrpc": "2.0", "id": 13, "result": {}}
    chats = ollama.requests_to("/api/chat")
    assert len(chats) == 2  # the cancelled route never reached the model


def test_a_second_initialize_is_refused_and_the_session_goes_on(server: RawServer) -> None:
    first = server.initialize()
    assert first["result"]["protocolVersion"] == "2025-06-18"
    again: dict[str, Any] = json.loads(json.dumps(INITIALIZE))
    again["id"], again["params"]["protocolVersion"] = 5, "2025-03-26"
    reply = server.request(again)
    assert reply["id"] == 5 and reply["error"]["code"] == -32600, reply
    assert "already initialized" in reply["error"]["message"]
    listed = server.request({"jsonrpc": "2.0", "id": 6, "method": "tools/list"})
    assert len(listed["result"]["tools"]) == 4
    # Still the first session's protocol: a 2025-06-18 tool result carries structured content.
    started = time.monotonic()
    found = server.request(_call(7, "ocp_context_search", {"query": "verify token"}), timeout=60)
    assert "structuredContent" in found["result"], time.monotonic() - started


def _answer_roots(server: RawServer, roots: list[Path], then: str | None = None) -> None:
    """Read up to the server's roots/list request and answer it (then send `then` at once)."""
    while (asked := server.read(timeout=30)).get("method") != "roots/list":
        pass
    answer = {
        "jsonrpc": "2.0",
        "id": asked["id"],
        "result": {"roots": [{"uri": root.as_uri()} for root in roots]},
    }
    server.send(json.dumps(answer).encode() + (b"\n" + then.encode() if then else b""))


def test_roots_changed_while_the_server_asks_for_them_are_asked_for_again(
    tmp_path: Path,
) -> None:
    # The answer to roots/list and `roots/list_changed` right behind it (a folder added in the
    # IDE meanwhile): the answer read first must not stand for the roots after the change.
    first, second = tmp_path / "first", tmp_path / "second"
    for root, word in ((first, "alpha_marker"), (second, "omega_marker")):
        (root / "src").mkdir(parents=True)
        (root / "src" / "m.py").write_text(f"def {word}():\n    return 1\n")
    raw = RawServer({"OCP_OLLAMA_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    try:
        hello: dict[str, Any] = json.loads(json.dumps(INITIALIZE))
        hello["params"]["capabilities"] = {"roots": {"listChanged": True}}
        assert "result" in raw.request(hello, timeout=60)
        raw.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        raw.send(_call(1, "ocp_session_restore", {}))
        changed = '{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}'
        _answer_roots(raw, [first], then=changed)
        assert "result" in raw.read(timeout=60)
        raw.send(_call(2, "ocp_context_search", {"query": "omega_marker"}))
        _answer_roots(raw, [second])
        found = raw.read(timeout=60)
        assert found["id"] == 2
        assert found["result"]["structuredContent"]["index"]["workspace"] == str(second)
    finally:
        raw.kill()
