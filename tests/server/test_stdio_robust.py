"""The server process over real stdio: every request with an id gets an answer however broken
it is, a misconfigured environment is reported by every tool instead of a crash, and the
process ends when its client closes stdin, whatever it was doing, without finishing it."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeOllama
from tests.server.index_workers import (
    children,
    grandchildren,
    index_only_server,
    many_files,
    read_to_eof,
    wait_for_workers,
)
from tests.server.raw_server import RawServer
from tests.server.stdio_env import server_env

# (what is wrong, the line sent, the id the error must carry)
BROKEN_REQUESTS: list[tuple[str, str | bytes, object]] = [
    ("not JSON", "hello", None),
    ("truncated JSON", '{"jsonrpc":"2.0","id":1,"method":"tools/list"', 1),
    ("an empty batch", "[]", None),
    ("a batch", json.dumps([{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]), None),
    ("no jsonrpc member", json.dumps({"id": 3, "method": "tools/list"}), 3),
    ("jsonrpc 1.0", json.dumps({"jsonrpc": "1.0", "id": 4, "method": "tools/list"}), 4),
    ("a number as method", json.dumps({"jsonrpc": "2.0", "id": 6, "method": 5}), 6),
    (
        "params not an object",
        json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": "x"}),
        7,
    ),
    ("an object as id", json.dumps({"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}), None),
    ("a float id", json.dumps({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}), None),
    ("a null id", json.dumps({"jsonrpc": "2.0", "id": None, "method": "ping"}), None),
    ("a boolean id", json.dumps({"jsonrpc": "2.0", "id": True, "method": "ping"}), None),
    # (no such string can be written back as UTF-8: answering with it took the server down)
    ("a lone surrogate as id", '{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', None),
    ("a lone surrogate in a broken line's id", '{"id":"\\udc00","method":"ping"', None),
    ("a bare number", "42", None),
    ("a bare string", '"x"', None),
    ("null", "null", None),
    (
        "nested too deeply",
        '{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"ocp_model_route",'
        '"arguments":{"messages":' + "[" * 100_000 + "]" * 100_000 + "}}}",
        16,
    ),
    ("not UTF-8", b'{"jsonrpc":"2.0","id":17,"method":"tools/list"}\xff', 17),
    ("a 1 MB method name", json.dumps({"jsonrpc": "2.0", "id": 18, "method": "m" * 2**20}), 18),
    (
        "a 17 MB line",
        '{"jsonrpc":"2.0","id":19,"method":"tools/call","params":{"x":"' + "y" * (17 << 20) + '"}}',
        19,
    ),
]


@pytest.fixture
def server(workspace: Path, fake_ollama: FakeOllama) -> Iterator[RawServer]:
    raw = RawServer(server_env(workspace, fake_ollama), cwd=workspace.parent)
    yield raw
    raw.kill()


def test_every_broken_request_gets_an_error_with_its_id(server: RawServer) -> None:
    assert server.initialize()["result"]["serverInfo"]["name"] == "ocp"
    for what, line, request_id in BROKEN_REQUESTS:
        reply = server.request(line if isinstance(line, bytes) else line.encode())
        assert "error" in reply and reply["id"] == request_id, (what, reply)
        assert reply["error"]["code"] in (-32700, -32600, -32602), what
        assert len(json.dumps(reply)) < 1_000, what
    # Broken responses and notifications get no answer; blank lines are skipped.
    server.send(json.dumps({"jsonrpc": "2.0", "id": 99, "result": {}}))
    server.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/nope", "params": 5}))
    server.send("")
    listed = server.request({"jsonrpc": "2.0", "id": "after", "method": "tools/list"})
    assert listed["id"] == "after" and len(listed["result"]["tools"]) == 4


@pytest.mark.parametrize("depth", [250, 600])
def test_arguments_nested_deeper_than_the_protocol_parser_takes_are_told_so(
    server: RawServer, depth: int
) -> None:
    # Python's json reads ~1,000 levels, the protocol's parser 200: in between the answer was
    # "Invalid request: 1 validation error for union[JSONRPCRequest, …]", naming nothing.
    server.initialize()
    nested = "[" * depth + '"x"' + "]" * depth
    line = (
        '{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"ocp_model_route",'
        '"arguments":{"request":"hi","tools":[{"name":"t","input_schema":' + nested + "}]}}}"
    )
    reply = server.request(line)
    assert reply["id"] == 20 and reply["error"]["code"] == -32700, reply
    assert "nested too deeply (over 200 levels)" in reply["error"]["message"], reply
    assert "result" in server.request({"jsonrpc": "2.0", "id": 21, "method": "ping"})


def test_a_lone_surrogate_under_an_argument_named_with_a_token_is_refused_redacted_and_short(
    server: RawServer,
) -> None:
    # The refusal names the field that holds it, argument names included: written to the
    # client before any tool's redaction, it quoted a name holding a token, and a 100,000
    # character name whole. (The token is assembled here: no literal one in this file.)
    server.initialize()
    body = "Xk29dLq7" * 4 + "Ab3Z"
    messages = []
    for n, key in enumerate(["ghp_" + body, "k" * 100_000]):
        line = {
            "jsonrpc": "2.0",
            "id": 30 + n,
            "method": "tools/call",
            "params": {"name": "ocp_context_search", "arguments": {"query": "x", key: "\ud800"}},
        }
        reply = server.request(line)
        assert reply["id"] == 30 + n and reply["error"]["code"] == -32600, reply
        messages.append(reply["error"]["message"])
    assert "`params.arguments.[REDACTED:github_token]` holds a lone surrogate" in messages[0]
    assert all(body not in m and len(m) < 400 for m in messages), [m[:300] for m in messages]


EVERY_TOOL = frozenset(
    {"ocp_context_search", "ocp_session_restore", "ocp_model_route", "ocp_result_save"}
)
ROUTE_ONLY = frozenset({"ocp_model_route"})
ARGUMENTS = {
    "ocp_context_search": {"query": "x"},
    "ocp_session_restore": {},
    "ocp_model_route": {"request": "x"},
    "ocp_result_save": {"summary": "x"},
}


def _misconfigured(tmp_path: Path, **env: str) -> RawServer:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    return RawServer({"OCP_WORKSPACE": str(ws), **env}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("variable", "value", "says", "failing"),
    [
        # a routing setting: only the route tool needs it (test_routing_settings_held.py)
        ("OCP_ROUTE_MODE", "sometimes", "OCP_ROUTE_MODE='sometimes' is invalid", ROUTE_ONLY),
        ("OCP_TOOL_NAMES", "camel", "OCP_TOOL_NAMES='camel' is invalid", EVERY_TOOL),
        # the local model's URL: checked at start, though its HTTP client is made at first use
        ("OCP_OLLAMA_URL", "ftp://x", "OCP_OLLAMA_URL='ftp://x' is invalid", ROUTE_ONLY),
        ("OCP_PRICES", "/nowhere/prices.toml", "/nowhere/prices.toml", ROUTE_ONLY),
        # relative: the database landed wherever the server was started (/ for Claude Desktop)
        (
            "OCP_DB_PATH",
            "ocp.db",
            "OCP_DB_PATH='ocp.db' is invalid: expected an absolute path",
            EVERY_TOOL,
        ),
    ],
)
def test_a_bad_environment_value_is_the_answer_of_every_tool_that_needs_it(
    tmp_path: Path, variable: str, value: str, says: str, failing: frozenset[str]
) -> None:
    raw = _misconfigured(tmp_path, **{variable: value})
    try:
        assert raw.initialize()["result"]["serverInfo"]["name"] == "ocp"
        tools = raw.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})["result"]
        for tool in tools["tools"]:
            result = raw.call_tool(tool["name"], ARGUMENTS[tool["name"]])["result"]
            if tool["name"] not in failing:
                assert not result.get("isError"), result
                continue
            assert result["isError"], tool["name"]
            assert says in result["content"][0]["text"], result
            assert "restart" in result["content"][0]["text"]
        assert raw.close_stdin_and_wait() < 5
        assert "Traceback" not in raw.stderr()
    finally:
        raw.kill()


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["route", "hello"], {"OCP_ROUTE_MODE": "sometimes"}),
        (["index"], {"OCP_MAX_FILE_BYTES": "lots"}),
        (["index"], {"OCP_DB_PATH": "relative/ocp.db"}),
    ],
)
def test_the_cli_reports_a_bad_environment_value_in_one_line_with_status_2(
    tmp_path: Path, argv: list[str], env: dict[str, str]
) -> None:
    project = tmp_path / "project"  # not the home folder, which the CLI refuses to index
    project.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(project), *argv],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and next(iter(env)) in lines[0], done.stderr


def test_the_server_exits_on_stdin_closing_while_indexing_without_finishing_the_build(
    tmp_path: Path,
) -> None:
    # files big enough that indexing them takes seconds (26 s on 2 loaded cores): a shutdown
    # must not wait for it, so the build is left unfinished (the next start completes it)
    function = "def f_{i}(x):\n    return x + {i}\n\n"
    ws = many_files(tmp_path / "heavy", files=12, functions=12_000, function=function)
    raw = index_only_server(ws, cwd=tmp_path)
    try:
        raw.initialize()
        assert _build_state(raw) == "building"
        raw.close_stdin_and_wait(timeout=60)  # TimeoutExpired: it did not end
    finally:
        raw.kill()
    with sqlite3.connect(ws / ".ocp" / "ocp.db") as db:
        finished = db.execute("SELECT value FROM meta WHERE key = 'last_update'").fetchall()
    assert finished == [], "the server finished the build before it exited"


def _build_state(raw: RawServer, seconds: float = 60.0) -> str:
    """The first build's state once it is no longer idle (it starts after `initialize`)."""
    deadline = time.monotonic() + seconds
    while True:
        reply = raw.rpc("resources/read", {"uri": "ocp://index/status"})
        state: str = json.loads(reply["result"]["contents"][0]["text"])["build"]["state"]
        if state != "idle" or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


# Stands for the interpreter's own teardown on a loaded machine (freeing every module's
# objects took 10 s there): an object that takes a minute to free, in the server alone.
SLOW_TEARDOWN = """
import sys, time

class _SlowToFree:
    def __del__(self):
        time.sleep(60)

if "ocp_server.cli" in sys.orig_argv:
    slow_to_free = _SlowToFree()
"""


def test_the_server_ends_in_its_grace_however_long_the_interpreters_teardown_would_take(
    tmp_path: Path,
) -> None:
    # The watchdog cannot cut the teardown short: a daemon thread waking during it ends
    # silently, so the process ended when the teardown did (the grace is a second).
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOW_TEARDOWN)
    raw = _misconfigured(tmp_path, OCP_ROUTE_MODE="sometimes", PYTHONPATH=str(site))
    try:
        raw.initialize()
        assert raw.close_stdin_and_wait(timeout=30) < 30
        assert raw.proc.returncode == 0 and "Traceback" not in raw.stderr()
    finally:
        raw.kill()


def test_a_build_in_worker_processes_leaves_stdout_to_the_protocol(tmp_path: Path) -> None:
    # The workers and their forkserver start from the server, whose stdout is the MCP channel
    # (kept on a private descriptor; fd 1 points at stderr): none may write to it or hold it
    # open once the server is gone.
    ws = many_files(tmp_path / "many", files=160, functions=1_500)
    raw = index_only_server(ws, cwd=tmp_path)
    try:
        raw.initialize()
        # the first build starts its worker processes
        assert wait_for_workers(lambda: children(raw.proc.pid), seconds=20), (
            "the build started no worker processes"
        )
        # It ends without finishing the build (test_the_server_exits_on_stdin_closing_while_
        # indexing_without_finishing_the_build).
        raw.close_stdin_and_wait(timeout=30)
        assert raw.proc.stdout is not None
        # to EOF: every holder of stdout's write end is gone
        rest, closed = read_to_eof(raw.proc.stdout.fileno(), seconds=5)
        assert closed, "stdout still open 5 s after the server exited"
        for line in rest.splitlines():
            assert json.loads(line)["jsonrpc"] == "2.0"
    finally:
        raw.kill()


def test_started_by_hand_in_a_terminal_it_says_what_it_is_on_stderr(tmp_path: Path) -> None:
    # A user who types `ocp-server` would otherwise see a silent process waiting for JSON.
    main, sub = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "ocp_server.cli"],
        stdin=sub,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    ) as proc:
        os.close(sub)
        assert proc.stderr is not None and proc.stdout is not None
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        line = proc.stderr.readline().decode() if ready else ""
        proc.kill()
        out = proc.stdout.read()
    os.close(main)
    assert "serves MCP over stdio" in line and "ocp-server --help" in line
    assert out == b""


def _ends_leaving_stderr_clean(raw: RawServer) -> None:
    """Close stdin; the server ends, nothing it started holds the client's stderr open (read to
    EOF), and Python's resource tracker said nothing there of the workers' semaphores."""
    raw.close_stdin_and_wait(timeout=30)
    assert raw.proc.stderr is not None
    err, closed = read_to_eof(raw.proc.stderr.fileno(), seconds=10)
    assert closed, f"stderr still open 10 s after the server exited: {err[-500:]!r}"
    assert b"leaked" not in err and b"resource_tracker" not in err, err[-1_000:]


def test_a_server_ending_after_a_build_in_workers_leaves_no_warning_on_stderr(
    tmp_path: Path,
) -> None:
    # A normal end skips Python's teardown (os._exit: cli._end_now); the queues of the
    # index workers' pool hold named semaphores that teardown would have unlinked, and the
    # resource tracker warned of them on the client's stderr.
    ws = many_files(tmp_path / "built", files=120, functions=1_500)
    raw = index_only_server(ws, cwd=tmp_path)
    try:
        raw.initialize()
        workers = wait_for_workers(lambda: grandchildren(raw.proc.pid))
        assert workers, "the build started no worker processes"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the build done: every file in the index
            found = raw.call_tool("ocp_context_search", {"query": "function 7"})
            index = found["result"]["structuredContent"]["index"]
            if index["files"] == 120 and not index["building"]:
                break
            time.sleep(0.5)
        assert index["files"] == 120 and not index["building"], index
        _ends_leaving_stderr_clean(raw)
    finally:
        raw.kill()


def test_a_client_leaving_mid_build_leaves_no_worker_behind_and_no_warning(
    tmp_path: Path,
) -> None:
    # Index workers busy on a file when the client leaves: the server's watchdog ended it
    # without a word to them, they waited on their task queue for ever (they hold its write
    # end themselves), and the resource tracker they keep alive held the client's stderr open,
    # then warned of "leaked semaphore objects" there once they were killed.
    ws = many_files(tmp_path / "busy", files=160, functions=6_000)
    raw = index_only_server(ws, cwd=tmp_path)
    try:
        raw.initialize()
        # the forkserver, then the workers it forks, each on a file
        workers = wait_for_workers(lambda: grandchildren(raw.proc.pid))
        assert workers, "the build started no worker processes"
        time.sleep(1.0)
        # It ends (how soon: the test above; under CPU load it took 3.4 s and 4.1 s). The
        # pool's semaphores are unlinked, also by a shutdown the watchdog cut short (a batch's
        # SQLite write still running on a loaded machine).
        _ends_leaving_stderr_clean(raw)
        for pid in workers:
            assert (
                not Path(f"/proc/{pid}").exists()
                or b"zombie" in Path(f"/proc/{pid}/status").read_bytes().lower()
            ), f"worker {pid} outlived the server"
    finally:
        raw.kill()


# Registered before the server starts, as a host or `opentelemetry-instrument` would: a
# handler that records it ran, and one that never returns (registered first: run last).
_SERVE_WITH_EXIT_HANDLERS = """
import atexit, sys, threading
from pathlib import Path
atexit.register(threading.Event().wait)
atexit.register(Path(sys.argv[1]).write_text, "ran")
from ocp_server.cli import main
sys.exit(main([]))
"""


def test_the_normal_end_runs_the_exit_handlers_and_one_that_hangs_does_not_keep_it(
    tmp_path: Path, workspace: Path, fake_ollama: FakeOllama
) -> None:
    # The server ends with os._exit (cli._end_now), which skipped every atexit handler: an
    # OpenTelemetry provider exports the spans it still holds in one, and they were lost.
    marker = tmp_path / "exit-handler"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    with subprocess.Popen(
        [sys.executable, "-c", _SERVE_WITH_EXIT_HANDLERS, str(marker)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workspace.parent,
        env={**env, **server_env(workspace, fake_ollama)},
    ) as proc:
        try:
            assert proc.stdin is not None and proc.stdout is not None
            hello = {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"},
                },
            }
            proc.stdin.write(json.dumps(hello).encode() + b"\n")
            proc.stdin.flush()
            assert b'"result"' in proc.stdout.readline()
            proc.stdin.close()
            assert proc.wait(timeout=30) == 0  # the hanging handler did not hold it
        finally:
            proc.kill()
    assert marker.read_text() == "ran"
