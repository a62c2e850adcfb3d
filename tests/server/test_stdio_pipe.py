"""The protocol's stdout: written from the event loop when it is a pipe (a client's), left
blocking when it is a terminal or a file another process may share, and whole however slowly
the client reads."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import mcp_types as types
import pytest
from mcp.shared.message import SessionMessage

from ocp_server.jsonrpc_line import check_line, encode_message
from ocp_server.stdio import (
    BACKLOG_BYTES,
    PIPE_BYTES,
    _set_nonblocking,
    _Stdout,
    hardened_stdio,
)


def test_a_pipe_is_made_non_blocking_with_room_for_an_answer() -> None:
    r, w = os.pipe()
    try:
        assert _set_nonblocking(w)
        assert not os.get_blocking(w)
        if sys.platform == "linux":
            import fcntl

            assert fcntl.fcntl(w, fcntl.F_GETPIPE_SZ) >= PIPE_BYTES
    finally:
        os.close(r)
        os.close(w)


def test_a_file_or_terminal_stays_blocking(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    main, side = os.openpty()
    try:
        for target in (fd, side):
            assert not _set_nonblocking(target)
            assert os.get_blocking(target)
    finally:
        for target in (fd, main, side):
            os.close(target)


async def test_a_message_larger_than_the_pipe_arrives_whole_to_a_slow_reader() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    payload = "x" * (3 * PIPE_BYTES)  # three pipes full: the writer must wait for room
    received = bytearray()

    def slow_reader() -> None:
        while not received.endswith(b"\n"):  # one line; its end, not EOF, ends the read
            received.extend(os.read(out_r, 65_536))
            time.sleep(0.001)

    reader = threading.Thread(target=slow_reader, daemon=True)
    reader.start()
    message = types.JSONRPCNotification(
        jsonrpc="2.0", method="notifications/message", params={"data": payload}
    )
    async with hardened_stdio(exit_grace=0, stdin_fd=in_r, stdout_fd=out_w) as (read, write):
        await read.aclose()  # nothing is read here
        await write.send(SessionMessage(message))
        deadline = time.monotonic() + 10
        while not received.endswith(b"\n") and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        os.close(in_w)
    assert os.get_blocking(out_w), "stdout is left blocking for whoever writes to it next"
    reader.join(10)
    for fd in (out_r, out_w, in_r):
        os.close(fd)
    assert received.endswith(b"\n")
    line = types.jsonrpc_message_adapter.validate_json(bytes(received).strip())
    assert isinstance(line, types.JSONRPCNotification)
    assert line.params is not None and line.params["data"] == payload


async def test_requests_sent_faster_than_served_arrive_whole_and_in_order() -> None:
    """stdin is read from the event loop: lines split across reads are joined, reading pauses
    while requests queue up and resumes as they are served, and a last line without its
    newline still counts."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    count = 300  # far more than QUEUED_LINES, all in the pipe at once
    lines = [
        json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}).encode() for i in range(count)
    ]
    first, rest = lines[0][:10], lines[0][10:]
    ids: list[object] = []
    async with hardened_stdio(exit_grace=0, stdin_fd=in_r, stdout_fd=out_w) as (read, write):
        os.write(in_w, first)  # half a line: nothing to deliver yet
        await asyncio.sleep(0.05)
        os.write(in_w, rest + b"\n" + b"\n".join(lines[1:]))  # the last line has no newline
        await asyncio.sleep(0.05)  # nothing is served meanwhile: the reading must pause
        os.close(in_w)
        async with read, asyncio.timeout(20):  # a reading that never resumed: a failure
            async for item in read:
                assert isinstance(item, SessionMessage)
                assert isinstance(item.message, types.JSONRPCRequest)
                ids.append(item.message.id)
        await write.aclose()
    assert os.get_blocking(in_r), "stdin is left blocking for whoever reads it next"
    for fd in (in_r, out_r, out_w):
        os.close(fd)
    assert ids == list(range(count))


def test_a_message_is_written_as_its_model_dump_json_line() -> None:
    """The writer takes the serializer's bytes without the str round trip: the same line."""
    hit = {"citation": "src/ä.py:1-3", "text": "def f():\n    return '→ ✓'\n", "score": 1.5}
    messages: list[types.JSONRPCMessage] = [
        types.JSONRPCResponse(
            jsonrpc="2.0",
            id=7,
            result={"content": [{"type": "text", "text": "ü"}], "structuredContent": hit},
        ),
        types.JSONRPCRequest(jsonrpc="2.0", id="r-1", method="roots/list"),
        types.JSONRPCNotification(
            jsonrpc="2.0", method="notifications/progress", params={"progress": 1}
        ),
        types.JSONRPCError(
            jsonrpc="2.0", id=None, error=types.ErrorData(code=-32700, message="Parse error")
        ),
    ]
    for message in messages:
        line = encode_message(message)
        assert line == message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
        assert line.count(b"\n") == 1


def test_a_message_holding_a_lone_surrogate_is_written_with_it_replaced() -> None:
    """No string with a lone surrogate can be written as UTF-8: the whole server went down on
    one. Written with "?" in its place instead, the rest of the message as it was."""
    message = types.JSONRPCResponse(
        jsonrpc="2.0", id=7, result={"content": [{"type": "text", "text": "a\ud800b é"}]}
    )
    line = encode_message(message)
    assert json.loads(line) == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {"content": [{"type": "text", "text": "a?b é"}]},
    }
    assert line.count(b"\n") == 1


def test_a_line_reads_as_the_message_unions_validation_reads_it() -> None:
    """A request is validated as a request alone: the same message, with the same fields set,
    as the union of all messages gives; what a request cannot be still gets the union's."""
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x", "k": 1.5}},
        {"jsonrpc": "2.0", "id": "r-1", "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"_meta": {"a": [1, None]}}},
        {"jsonrpc": "2.0", "id": 3, "method": "ping", "extra": True, "params": {}},
        {"jsonrpc": "2.0", "id": 4, "method": "ping", "params": {"s": "é\u2028"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 5, "result": {"roots": []}},
        {"jsonrpc": "2.0", "id": 6, "error": {"code": -1, "message": "no"}},
        # a method and an id with a response's fields: the union reads an error, not a request
        {"jsonrpc": "2.0", "id": 7, "method": "m", "error": {"code": 1, "message": "m"}},
        {"jsonrpc": "2.0", "id": 8, "method": "m", "result": {}},
    ]
    for obj in lines:
        raw = json.dumps(obj)
        expected = types.jsonrpc_message_adapter.validate_json(raw, by_name=False)
        got = check_line(raw.encode())
        assert type(got) is type(expected)
        assert got == expected
        assert got.model_fields_set == expected.model_fields_set
        assert encode_message(got) == encode_message(expected)


async def test_a_message_sent_while_another_is_half_written_waits_for_its_end() -> None:
    """A message the pipe could not take at once is finished before any later one starts,
    even when the pipe has room again by the time the later one is sent."""
    out_r, out_w = os.pipe()
    assert _set_nonblocking(out_w)
    os.set_blocking(out_r, False)
    out = _Stdout(out_w, nonblocking=True, on_broken=lambda: None)
    big = "x" * (2 * PIPE_BYTES)  # cannot go at once: the rest is queued
    count = 5

    def note(i: int, data: str = "") -> types.JSONRPCNotification:
        return types.JSONRPCNotification(
            jsonrpc="2.0", method="notifications/message", params={"i": i, "data": data}
        )

    def drain() -> bytes:
        data = bytearray()
        with suppress(BlockingIOError):
            while chunk := os.read(out_r, 65_536):
                data.extend(chunk)
        return bytes(data)

    received = bytearray()
    async with asyncio.timeout(20), asyncio.TaskGroup() as tg:
        sends = [tg.create_task(out.write(note(0, big)))]
        await asyncio.sleep(0)  # what fit is in the pipe, the rest waits in the queue
        received.extend(drain())  # the pipe has room again: the next must still wait
        sends += [tg.create_task(out.write(note(i))) for i in range(1, count + 1)]
        await asyncio.sleep(0)
        writer = tg.create_task(out.run())
        while received.count(b"\n") < count + 1:
            received.extend(drain())
            await asyncio.sleep(0.001)
        await asyncio.gather(*sends)
        writer.cancel()
    for fd in (out_r, out_w):
        os.close(fd)
    got = [types.jsonrpc_message_adapter.validate_json(line) for line in received.splitlines()]
    params = [m.params or {} for m in got if isinstance(m, types.JSONRPCNotification)]
    assert [p["i"] for p in params] == list(range(count + 1))
    assert params[0]["data"] == big


def test_a_lone_surrogate_is_answered_with_the_field_that_holds_it() -> None:
    # JSON allows the escape \ud800 alone; it is no Unicode character, and the union's own
    # message ("1 validation error for union[...]") said neither what nor where
    params = {"name": "ocp_context_search", "arguments": {"query": "fix \ud800 parser", "k": 3}}
    line = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
    got = check_line(json.dumps(line).encode())
    assert isinstance(got, types.JSONRPCError) and got.id == 7
    assert "params.arguments.query" in got.error.message, got.error.message
    assert "surrogate" in got.error.message
    tags = {**line, "params": {**params, "arguments": {"query": "x", "tags": ["a", "\udfff"]}}}
    got = check_line(json.dumps(tags).encode())
    assert isinstance(got, types.JSONRPCError)
    assert "params.arguments.tags[1]" in got.error.message, got.error.message


async def test_a_client_that_reads_no_answers_is_read_no_more_requests_from() -> None:
    """Answers the client does not read wait in memory; past BACKLOG_BYTES of them, no more
    requests are taken from stdin, until the client reads again (a client that never read
    grew a server to 2 GB in a minute)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    count = 200
    answer = "x" * 100_000  # 200 answers: four times the backlog, and the pipe's room
    assert count * len(answer) > 2 * (BACKLOG_BYTES + PIPE_BYTES)
    requests = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % i for i in range(count))
    os.write(in_w, requests)  # left open: a client that closed stdin too would have left
    taken: list[object] = []
    replies: set[asyncio.Task[None]] = set()

    async def reply(message: types.JSONRPCRequest) -> None:
        result = types.JSONRPCResponse(jsonrpc="2.0", id=message.id, result={"a": answer})
        await write.send(SessionMessage(result))

    async with hardened_stdio(exit_grace=0, stdin_fd=in_r, stdout_fd=out_w) as (read, write):
        # Served as the SDK serves: each request answered in a task of its own.
        while len(taken) < count:
            try:
                item = await asyncio.wait_for(read.receive(), 1.0)
            except TimeoutError:  # not handed a request while nothing is read
                break
            assert isinstance(item, SessionMessage)
            assert isinstance(item.message, types.JSONRPCRequest)
            taken.append(item.message.id)
            task = asyncio.create_task(reply(item.message))
            replies.add(task)
            await asyncio.sleep(0)  # the reply runs before the next request is taken
        held = len(taken)
        received = bytearray()

        def drain() -> None:
            while received.count(b"\n") < count:
                received.extend(os.read(out_r, 1 << 20))

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        async with asyncio.timeout(30):  # once the client reads, every request is taken
            while len(taken) < count:
                item = await read.receive()
                assert isinstance(item, SessionMessage)
                assert isinstance(item.message, types.JSONRPCRequest)
                taken.append(item.message.id)
                replies.add(asyncio.create_task(reply(item.message)))
            await asyncio.gather(*replies)
        reader.join(30)
        os.close(in_w)
        await read.aclose()
        await write.aclose()
    for fd in (in_r, out_r, out_w):
        os.close(fd)
    most = (BACKLOG_BYTES + PIPE_BYTES) // len(answer) + 2
    assert held <= most, f"{held} requests taken while the client read nothing (at most {most})"
    assert taken == list(range(count))
    assert received.count(b"\n") == count


# Served as the SDK serves (a task per request, a checkpoint between requests), each request
# holding the event loop as a search does, on a loaded machine.
_SLOW_SERVER = """
import asyncio, sys, time
from ocp_server.stdio import hardened_stdio

async def main():
    taken = open(sys.argv[1], "a", buffering=1)
    def handle():
        taken.write("taken\\n")
        time.sleep(0.05)
    async with hardened_stdio() as (read, write):
        async for item in read:
            asyncio.get_running_loop().call_soon(handle)
            await asyncio.sleep(0)

asyncio.run(main())
"""


@pytest.mark.parametrize("leaving", [signal.SIGTERM, signal.SIGHUP])
def test_a_client_that_leaves_starts_none_of_its_queued_requests(
    tmp_path: Path, leaving: signal.Signals
) -> None:
    # A stop signal used to queue the end of input behind every request read so far: a
    # slow server served each of them first (CI: over 30 s), for a client that was gone.
    taken = tmp_path / "taken"
    taken.touch()
    count = 300
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SERVER, str(taken)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdin is not None
        lines = (b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % i for i in range(count))
        proc.stdin.write(b"".join(lines))  # under the pipe's 64 KiB: all read at once
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while not taken.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert taken.read_text(), "the server took no request"
        proc.send_signal(leaving)
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
    started = taken.read_text().count("taken")
    assert started < 10, f"{started} of {count} requests started after the client left"


_STUCK_SERVER = """
import asyncio, sys, time
from ocp_server.stdio import hardened_stdio

async def main():
    async with hardened_stdio() as (read, write):
        print("ready", flush=True)  # fd 1 is stderr's while serving
        if sys.argv[1] == "loop held":  # a request holding the event loop for a minute
            await read.receive()
            time.sleep(60)
        if sys.argv[1] == "loop busy":  # a step of a minute's CPU-bound work on the loop
            end = time.monotonic() + 60
            while time.monotonic() < end:
                pass
        if sys.argv[1] == "starting a thread":  # the signal lands as the loop starts one
            import threading
            with threading._active_limbo_lock:  # held by Thread.start meanwhile
                time.sleep(60)
        await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.mark.parametrize(
    "stuck", ["reading no more", "loop held", "loop busy", "starting a thread"]
)
def test_a_client_that_leaves_ends_a_stuck_server(stuck: str) -> None:
    # A server stuck before reading on (its start-up waiting on a database another process
    # locks, for up to 600 s), or with its event loop held, is ended EXIT_GRACE after the
    # client leaves (a stop signal, or stdin closed): the end of input it would have read is
    # not waited for.
    proc = subprocess.Popen(
        [sys.executable, "-c", _STUCK_SERVER, stuck],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == b"ready\n"
        if stuck == "loop held":
            assert proc.stdin is not None
            proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
            proc.stdin.close()
        else:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stderr):
            if stream is not None:
                stream.close()
