"""One session over real stdio, as a client may drive it: routes waiting for their turn (told
how far back they are when the client asked for progress, or cancelled while they wait), and a
second `initialize`."""

from __future__ import annotations

import contextlib
import json
import os
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


def test_a_request_reusing_the_id_of_one_in_flight_is_refused_and_the_first_goes_on(
    server: RawServer, gate: _Gate, ollama: FakeOllama
) -> None:
    # Both ran: two answers under one id, and the SDK's table of requests in flight kept only
    # the second, so the client's cancel of the first no longer reached it.
    _ready(server)
    server.send(_route(10))  # holds the one slot, at the local model
    assert gate.entered.acquire(timeout=30)
    server.send(_route(11))  # waits for the slot
    for again in ({"jsonrpc": "2.0", "id": 11, "method": "ping"}, json.loads(_route(11))):
        refused = server.request(again)
        assert refused["id"] == 11 and refused["error"]["code"] == -32600, refused
        assert "id 11 is already used by a request in flight" in refused["error"]["message"]
    # The first is still the one in flight under its id: the client can cancel it.
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 11}}
    server.send(json.dumps(cancel))
    gate.open.set()
    seen: list[dict[str, Any]] = []
    _read_until(server, {10}, seen)
    assert server.request({"jsonrpc": "2.0", "id": 12, "method": "ping"})["result"] == {}
    # Once answered, an id may be used again.
    reused = server.request(_call(10, "ocp_context_search", {"query": "verify token"}))
    assert reused["id"] == 10 and "result" in reused, reused
    assert len(ollama.requests_to("/api/chat")) == 1  # the cancelled route never reached it


def test_an_id_reused_right_after_its_request_was_cancelled_is_refused_saying_so(
    server: RawServer, gate: _Gate, ollama: FakeOllama
) -> None:
    # The refusal said "the first goes on" of a request the client had just cancelled: the
    # cancel and the reuse come on one read, before the first has ended.
    _ready(server)
    server.send(_route(10))  # holds the one slot, at the local model
    assert gate.entered.acquire(timeout=30)
    server.send(_route(11))  # waits for the slot
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 11}}
    again = {"jsonrpc": "2.0", "id": 11, "method": "ping"}
    refused = server.request(json.dumps(cancel) + "\n" + json.dumps(again))
    assert refused["id"] == 11 and refused["error"]["code"] == -32600, refused
    message = refused["error"]["message"]
    assert "cancelled" in message and "goes on" not in message, message
    gate.open.set()
    seen: list[dict[str, Any]] = []
    _read_until(server, {10}, seen)
    assert not [m for m in seen if m.get("id") == 11]  # the cancelled one ends unanswered
    assert len(ollama.requests_to("/api/chat")) == 1


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
    # The session goes on as negotiated: tools still answer (under every version with
    # structured content: see the next test).
    started = time.monotonic()
    found = server.request(_call(7, "ocp_context_search", {"query": "verify token"}), timeout=60)
    assert "structuredContent" in found["result"], time.monotonic() - started


@pytest.mark.parametrize("method", ["tools/list", "resources/list"])
def test_a_cursor_this_server_never_gave_is_invalid_params_naming_it(
    server: RawServer, method: str
) -> None:
    # MCP (pagination): an invalid cursor should be -32602. Ignored, it answered the first
    # page as if it were the one asked for. No cursor, or a null one, is the first page.
    server.initialize()
    refused = server.request(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"cursor": "p2"}}
    )
    assert refused["error"]["code"] == -32602, refused
    assert (
        "`params.cursor`" in refused["error"]["message"] and "'p2'" in refused["error"]["message"]
    )
    for n, params in enumerate([{}, {"cursor": None}], start=2):
        listed = server.request({"jsonrpc": "2.0", "id": n, "method": method, "params": params})
        assert "result" in listed and "nextCursor" not in listed["result"], listed


def test_a_2025_03_26_session_gets_structured_content_too(server: RawServer) -> None:
    # protocol_errors.py said it got none; the SDK sends it under every handshake version.
    hello: dict[str, Any] = json.loads(json.dumps(INITIALIZE))
    hello["params"]["protocolVersion"] = "2025-03-26"
    assert server.request(hello, timeout=60)["result"]["protocolVersion"] == "2025-03-26"
    server.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    found = server.request(_call(2, "ocp_context_search", {"query": "verify token"}), timeout=60)
    assert found["result"]["structuredContent"]["results"], found


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


def _answered(server: RawServer, ids: set[int], roots: list[Path]) -> dict[int, dict[str, Any]]:
    """The answers to `ids`, each roots/list the server sends meanwhile answered `roots`."""
    answers: dict[int, dict[str, Any]] = {}
    while ids - answers.keys():
        message = server.read(timeout=60)
        if message.get("method") == "roots/list":
            listed = {"roots": [{"uri": root.as_uri()} for root in roots]}
            server.send({"jsonrpc": "2.0", "id": message["id"], "result": listed})
        elif message.get("id") in ids and "method" not in message:
            answers[message["id"]] = message
    return answers


def _two_roots(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    for root, word in ((first, "alpha_marker"), (second, "omega_marker")):
        (root / "src").mkdir(parents=True)
        (root / "src" / "m.py").write_text(f"def {word}():\n    return 1\n")
    return first, second


@pytest.fixture
def roots_server(tmp_path: Path) -> Iterator[RawServer]:
    """A server in `tmp_path` whose client declares roots that may change (asked for and
    answered by the test)."""
    raw = RawServer({"OCP_OLLAMA_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    try:
        hello: dict[str, Any] = json.loads(json.dumps(INITIALIZE))
        hello["params"]["capabilities"] = {"roots": {"listChanged": True}}
        assert "result" in raw.request(hello, timeout=60)
        raw.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        yield raw
    finally:
        raw.kill()


CHANGED = '{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}'


def test_roots_changed_while_the_server_asks_for_them_are_asked_for_again(
    tmp_path: Path, roots_server: RawServer
) -> None:
    # The answer to roots/list and `roots/list_changed` right behind it (a folder added in the
    # IDE meanwhile): the answer read first must not stand for the roots after the change.
    first, second = _two_roots(tmp_path)
    raw = roots_server
    raw.send(_call(1, "ocp_session_restore", {}))
    _answer_roots(raw, [first], then=CHANGED)
    # (the call may have found `first` gone: it was sent before the change, and is told so)
    assert "result" in _answered(raw, {1}, [second])[1]
    raw.send(_call(2, "ocp_context_search", {"query": "omega_marker"}))
    found = _answered(raw, {2}, [second])[2]
    assert found["result"]["structuredContent"]["index"]["workspace"] == str(second)


def _open_files_under(pid: int, folder: Path) -> list[str]:
    opened = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(str(folder)):
                opened.append(target)
    return opened


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the server's open files")
def test_a_folder_no_longer_among_the_roots_is_no_longer_indexed_or_watched(
    tmp_path: Path, roots_server: RawServer
) -> None:
    # It stayed open, indexed and watched for the rest of the session.
    first, second = _two_roots(tmp_path)
    raw = roots_server
    raw.send(_call(1, "ocp_context_search", {"query": "alpha_marker"}))
    found = _answered(raw, {1}, [first])[1]
    assert found["result"]["structuredContent"]["index"]["workspace"] == str(first)
    assert _open_files_under(raw.proc.pid, first)  # its database, open
    raw.send(CHANGED)
    raw.send(_call(2, "ocp_context_search", {"query": "omega_marker"}))
    found = _answered(raw, {2}, [second])[2]
    assert found["result"]["structuredContent"]["index"]["workspace"] == str(second)
    deadline = time.monotonic() + 30
    while (still := _open_files_under(raw.proc.pid, first)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not still
    # and tools touch only the folders configured now
    arguments = {"query": "alpha_marker", "workspace": str(first)}
    refused = raw.request(_call(3, "ocp_context_search", arguments), timeout=60)
    assert refused["result"]["isError"], refused
    assert "outside the folders" in refused["result"]["content"][0]["text"], refused


def test_roots_changed_but_not_said_to_what_close_nothing(
    tmp_path: Path, roots_server: RawServer
) -> None:
    # A roots/list after `list_changed` answered with an error (or not in time) was read as
    # "no roots": the client's folder was closed, and the next call opened the server's cwd.
    first, _ = _two_roots(tmp_path)
    raw = roots_server
    raw.send(_call(1, "ocp_context_search", {"query": "alpha_marker"}))
    assert _answered(raw, {1}, [first])[1]["result"]["structuredContent"]["index"]
    raw.send(CHANGED)
    while (asked := raw.read(timeout=30)).get("method") != "roots/list":
        pass
    busy = {"code": -32603, "message": "the IDE is busy"}
    raw.send({"jsonrpc": "2.0", "id": asked["id"], "error": busy})
    raw.send(_call(2, "ocp_context_search", {"query": "alpha_marker"}))
    found = _answered(raw, {2}, [first])[2]
    assert found["result"]["structuredContent"]["index"]["workspace"] == str(first), found
