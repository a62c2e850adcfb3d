"""The server process over real stdio against clients that do what the specification allows
but the common ones rarely do: answer the server's own request with an error, send
protocol-level params of the wrong shape, stop reading, or stop the server with a signal."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOllama
from tests.server.index_workers import (
    alive,
    descendants,
    index_only_server,
    index_workers,
    kill_all,
    many_files,
    wait_for_workers,
)
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
    # A `workspace` argument is checked against the client's roots: they are asked for.
    arguments = {"query": "verify_token", "workspace": str(workspace)}
    search = {"name": "ocp_context_search", "arguments": arguments}
    server.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": search})
    asked = server.read(timeout=60)
    assert asked["method"] == "roots/list", asked
    refusal = {"code": -32601, "message": "Method not found"}
    server.send({"jsonrpc": "2.0", "id": asked["id"], "error": refusal})
    answer = server.read(timeout=60)
    assert answer.get("id") == 1 and "result" in answer, answer


# (method, params, the field the error must name, a word of what it expected)
BAD_PROTOCOL_PARAMS: list[tuple[str, dict[str, Any], str, str]] = [
    ("tools/call", {}, "params.name", "required"),
    ("tools/call", {"name": 5}, "params.name", "string"),
    ("tools/call", {"name": "ocp_context_search", "arguments": "q"}, "params.arguments", "object"),
    ("tools/call", {"name": "ocp_context_search", "arguments": [1]}, "params.arguments", "object"),
    ("resources/read", {"uri": 5}, "params.uri", "string"),
    ("resources/read", {}, "params.uri", "required"),
    ("tools/list", {"cursor": 5}, "params.cursor", "string"),
    ("tools/list", {"_meta": {"progressToken": {}}}, "params._meta.progressToken", "integer"),
    # checked by the method's params model alone, which named it `_meta.progressToken`
    (
        "resources/read",
        {"uri": "ocp://index/status", "_meta": {"progressToken": None}},
        "params._meta.progressToken",
        "integer",
    ),
    # MCP: a string or an integer. `true` was taken as 1, and no progress came.
    ("tools/list", {"_meta": {"progressToken": True}}, "params._meta.progressToken", "boolean"),
    (
        "tools/call",
        {"name": "ocp_search", "arguments": {}, "_meta": {"progressToken": True}},
        "params._meta.progressToken",
        "boolean",
    ),
]


def test_protocol_params_of_the_wrong_shape_are_answered_with_the_field_and_what_it_takes(
    server: RawServer,
) -> None:
    # The SDK's own answer was "Invalid request parameters" with empty data for all of them.
    server.initialize()
    for n, (method, params, field, expected) in enumerate(BAD_PROTOCOL_PARAMS, start=1):
        reply = server.request({"jsonrpc": "2.0", "id": n, "method": method, "params": params})
        assert reply["id"] == n and reply["error"]["code"] == -32602, reply
        message = reply["error"]["message"]
        assert f"`{field}`" in message and expected in message.lower(), (method, params, reply)
        assert "`_meta" not in message, message  # one name: the one in the client's request
    assert "result" in server.request({"jsonrpc": "2.0", "id": "after", "method": "tools/list"})


def test_an_unknown_resource_is_named_clipped_not_echoed_whole(server: RawServer) -> None:
    # A 1 MB URI came back whole in the error (a tool's unknown name is clipped).
    server.initialize()
    reply = server.rpc("resources/read", {"uri": "ocp://" + "y" * 1_000_000})
    message = reply["error"]["message"]
    assert reply["error"]["code"] == -32002 and "ocp://yyy" in message, message[:200]
    assert len(message) < 300 and "1,000,006 characters" in message, message[:300]


def test_a_request_before_initialize_is_told_to_initialize_first(server: RawServer) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("tools/list", {}),
        ("tools/call", {"name": "ocp_context_search", "arguments": {"query": "x"}}),
        ("resources/read", {"uri": "ocp://index/status"}),
    ]
    for n, (method, params) in enumerate(calls, start=1):
        reply = server.request({"jsonrpc": "2.0", "id": n, "method": method, "params": params})
        assert reply["id"] == n and "initialize" in reply["error"]["message"], reply
    assert "result" in server.request({"jsonrpc": "2.0", "id": "p", "method": "ping"})
    assert server.initialize()["result"]["serverInfo"]["name"] == "ocp"


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_worker_processes_index_ends_the_server_and_every_worker(
    tmp_path: Path, signal_number: int
) -> None:
    # How clients stop a stdio server: close stdin, then SIGTERM (the specification), or
    # SIGHUP when the terminal or the IDE's process group goes. Either must end the index
    # build's worker processes (and their forkserver) too, not leave them orphaned.
    ws = many_files(tmp_path / "many", files=160, functions=1_500)
    raw = index_only_server(ws, cwd=tmp_path)
    workers: set[int] = set()
    try:
        raw.initialize()
        # the first build starts its forkserver and worker processes
        workers = wait_for_workers(lambda: descendants(raw.proc.pid), at_least=3)
        assert len(workers) >= 3, "the build started no worker processes"
        raw.proc.send_signal(signal_number)
        assert raw.proc.wait(30) == 0  # the shutdown asked for, done (see stdio._STOP_SIGNALS)
        deadline = time.monotonic() + 30
        while (left := {pid for pid in workers if alive(pid)}) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"worker processes left behind: {sorted(left)}"
    finally:
        kill_all(workers)
        raw.kill()


# A 300-file build in two workers: 120 s were not enough for it beside a dozen busy
# processes on two cores (the test's own wait was as long as the whole test's timeout).
@pytest.mark.timeout(360)
def test_index_workers_never_write_to_the_stderr_a_client_leaves_unread(tmp_path: Path) -> None:
    # A worker writing to the client's stderr pipe once it was full (the client never reads
    # it) blocked, and the build with it. Workers write to a pipe the server drains into
    # its log, which drops what stderr cannot take; the build ends, the server answers.
    function = "def h_{i}(x):\n    return x + {i}\n\n"
    ws = many_files(tmp_path / "many", files=300, functions=400, function=function)
    raw = index_only_server(ws, cwd=tmp_path)
    seen: set[int] = set()
    try:
        raw.initialize()
        client_stderr = os.readlink(f"/proc/{raw.proc.pid}/fd/2")
        seen = wait_for_workers(
            lambda: index_workers(raw.proc.pid), at_least=2, seconds=60, every=0.1, keep_seen=True
        )
        assert len(seen) >= 2, "the build started no worker processes"
        outputs = set()
        for pid in seen:
            for fd in (1, 2):
                with contextlib.suppress(OSError):
                    outputs.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        assert outputs and client_stderr not in outputs, (client_stderr, outputs)
        deadline = time.monotonic() + 300
        while index_workers(raw.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not index_workers(raw.proc.pid), "the build did not end"
        reply = raw.call_tool("ocp_context_search", {"query": "h_7"})
        assert not reply["result"]["isError"], reply
    finally:
        kill_all(seen)
        raw.kill()


def _write_until_the_server_stops_reading(raw: RawServer) -> int:
    """Searches sent without reading a single answer, until stdin's pipe stays full (the
    server stopped taking requests: its answers wait for the client); how many were sent."""
    assert raw.proc.stdin is not None
    fd = raw.proc.stdin.fileno()
    os.set_blocking(fd, False)
    sent = stalled = 0
    while stalled < 50:
        arguments = {"query": f"verify token session {sent}", "max_tokens": 20_000}
        params = {"name": "ocp_context_search", "arguments": arguments}
        line = json.dumps({"jsonrpc": "2.0", "id": sent, "method": "tools/call", "params": params})
        try:
            os.write(fd, line.encode() + b"\n")  # under PIPE_BUF: whole or not at all
        except BlockingIOError:
            stalled += 1
            time.sleep(0.1)
        else:
            sent, stalled = sent + 1, 0
    return sent


@pytest.fixture
def wordy_server(workspace: Path, fake_ollama: FakeOllama) -> Iterator[RawServer]:
    """A server whose searches answer with tens of KB: a client that reads none of them
    fills the pipe and the backlog after a hundred or so."""
    lines = "".join(f"    check = session.verify(token, {n})  # the token\n" for n in range(40))
    body = "".join(
        f"def verify_token_{n}(session, token):\n    '''Verify the session token {n}.'''\n"
        f"{lines}    return check\n\n\n"
        for n in range(20)
    )
    for n in range(30):
        (workspace / "src" / f"tokens_{n}.py").write_text(body)
    raw = RawServer(
        {"OCP_WORKSPACE": str(workspace), "OCP_OLLAMA_URL": fake_ollama.url},
        cwd=workspace.parent,
    )
    yield raw
    raw.kill()


@pytest.mark.parametrize("leaving", ["closes stdin", "sends SIGTERM"])
def test_a_client_that_reads_no_answers_and_leaves_ends_the_server(
    wordy_server: RawServer, leaving: str
) -> None:
    server = wordy_server
    # The server stops reading requests while the client reads no answers (their backlog is
    # bounded); the end of stdin behind those unread requests must still end it.
    server.initialize()
    assert _write_until_the_server_stops_reading(server) > 0
    assert server.proc.stdin is not None
    if leaving == "closes stdin":
        server.proc.stdin.close()
    else:
        server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(30)


def test_a_client_that_never_reads_stderr_is_still_answered(server: RawServer) -> None:
    # MCP lets a client ignore the server's stderr. One that captures it and never reads it
    # fills the pipe with the log (a line per route): a log write then blocks, and must not
    # block the answers with it.
    server.initialize()
    for n in range(400):  # 400 lines of the route log, well over a pipe's 64 KiB
        params = {"name": "ocp_model_route", "arguments": {"request": f"say hi {n}"}}
        reply = server.request(
            {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}
        )
        assert reply["id"] == n and not reply["result"]["isError"], reply


def _route(n: int) -> dict[str, Any]:
    params = {"name": "ocp_model_route", "arguments": {"request": f"say hi to route {n}"}}
    return {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}


def _search(request_id: str) -> dict[str, Any]:
    params = {"name": "ocp_context_search", "arguments": {"query": "verify token"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _answers(raw: RawServer, ids: set[Any]) -> list[dict[str, Any]]:
    """The answers to `ids`, in the order they came (other messages skipped)."""
    got: list[dict[str, Any]] = []
    while {a["id"] for a in got} != ids:
        message = raw.read(timeout=60)
        if message.get("id") in ids:
            got.append(message)
    return got


def test_routes_sent_at_once_reach_the_local_model_a_few_at_a_time(
    server: RawServer, fake_ollama: FakeOllama
) -> None:
    # 24 routes sent at once were 24 requests at Ollama at once (300 were 300), each one's
    # timeout running down in Ollama's queue. A few run; the rest wait their turn in the
    # server, and a search sent behind them is not held up by them.
    server.initialize()
    assert "result" in server.request(_search("warm"), timeout=60)  # the index is built
    fake_ollama.delay = 0.5
    for n in range(1, 25):
        server.send(_route(n))
    server.send(_search("behind"))
    answers = _answers(server, {*range(1, 25), "behind"})
    assert answers[0]["id"] == "behind", [a["id"] for a in answers]
    assert all(not a["result"]["isError"] for a in answers), answers
    assert 1 <= fake_ollama.most_in_flight <= 4


def test_a_route_cancelled_while_it_waits_its_turn_never_reaches_the_local_model(
    server: RawServer, fake_ollama: FakeOllama
) -> None:
    server.initialize()
    fake_ollama.delay = 1.0
    for n in range(1, 9):
        server.send(_route(n))
    cancel = {"requestId": 8, "reason": "the user pressed stop"}
    server.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel})
    _answers(server, set(range(1, 8)))
    asked = json.dumps([r.body for r in fake_ollama.requests])
    assert "route 7" in asked and "route 8" not in asked


def test_a_client_that_never_reads_stderr_and_closes_stdin_sees_the_server_exit_cleanly(
    server: RawServer,
) -> None:
    server.initialize()
    for n in range(400):
        params = {"name": "ocp_model_route", "arguments": {"request": f"say hi {n}"}}
        server.request({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params})
    assert server.proc.stdin is not None
    server.proc.stdin.close()
    assert server.proc.wait(30) == 0
