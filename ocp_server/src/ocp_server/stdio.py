"""MCP over stdio, hardened: every request gets an answer, stdout carries only protocol
messages, and the process leaves soon after its client does.

The SDK's stdio transport drops a line it cannot parse without a word, so a client waits for
ever on that request's id. Here every line is checked first:

- not JSON, not UTF-8, nested too deep, or over MAX_LINE_BYTES: a parse error (-32700);
- JSON but not a JSON-RPC 2.0 request (a batch, a bad id, a method that is not a short
  string, params that are not an object): an invalid request (-32600);

each answered with the request's id. When the line is too broken to read an id from it, the id
is recovered leniently when exactly one `"id": ...` can be seen in it, else it is null, as
JSON-RPC says. Responses and notifications that are broken are logged, never answered.

While serving, fd 0 reads /dev/null and fd 1 writes to stderr, so a library or child process
that prints cannot corrupt the wire; the protocol runs on private duplicates of both.

When stdin closes (or the parent process dies, or SIGTERM or SIGHUP comes) the server shuts
down, and a watchdog ends the process EXIT_GRACE seconds later whatever is still running: an
index batch in a worker thread or a database connection left open must not keep an orphan
alive. SQLite in WAL mode makes that
as safe as any crash: the last committed transaction stands.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import stat
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import mcp_types as types
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.shared.message import SessionMessage

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_METHOD_CHARS = 128
QUEUED_LINES = 64  # requests read ahead of the server, at most
PIPE_BYTES = 1024 * 1024  # stdout's pipe buffer asked for (Linux's unprivileged maximum)
EXIT_GRACE = 1.0  # seconds between the client leaving and the process ending, at most
PARENT_POLL = 1.0

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602

_ID_PATTERN = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\\n]|\\.){0,256}")')
_ID_SCAN_BYTES = 65_536

RequestId = str | int


def _valid_id(value: object) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def recover_id(raw: bytes) -> RequestId | None:
    """The id of a line too broken to parse, when exactly one `"id": …` shows in its start."""
    found = {m.group(1) for m in _ID_PATTERN.finditer(raw[:_ID_SCAN_BYTES])}
    if len(found) != 1:
        return None
    try:
        value = json.loads(found.pop())
    except ValueError:
        return None
    return value if _valid_id(value) else None


class Refusal(types.JSONRPCError):
    """The error this server answers a broken line with: unlike a `JSONRPCError` the client
    sent (its answer to a request of the server's, such as roots/list), written back."""


def _error(request_id: RequestId | None, code: int, message: str) -> Refusal:
    return Refusal(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


def check_line(raw: bytes) -> types.JSONRPCMessage | Refusal | None:
    """The message on one line; or the error that answers it (a `Refusal`); or None to
    ignore the line (blank, or a broken response or notification, which get no answer)."""
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
        obj: Any = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        if isinstance(exc, RecursionError):
            reason = "nested too deeply"
        return _error(recover_id(raw), PARSE_ERROR, f"Parse error: the message is {reason}")
    if isinstance(obj, list):
        return _error(
            None, INVALID_REQUEST, "Invalid request: batches are not supported; send one message"
        )
    if not isinstance(obj, dict):
        return _error(None, INVALID_REQUEST, "Invalid request: expected a JSON object")
    has_id = "id" in obj
    request_id = obj.get("id")
    answerable = "method" in obj and has_id
    if has_id and not _valid_id(request_id):
        if "method" not in obj:
            return None
        return _error(None, INVALID_REQUEST, "Invalid request: `id` must be a string or integer")
    problem = None
    if obj.get("jsonrpc") != "2.0":
        problem = 'Invalid request: `jsonrpc` must be "2.0"'
    elif "method" in obj:
        method = obj["method"]
        if not isinstance(method, str) or not 0 < len(method) <= MAX_METHOD_CHARS:
            problem = (
                f"Invalid request: `method` must be a string of 1 to {MAX_METHOD_CHARS} characters"
            )
        elif "params" in obj and not isinstance(obj["params"], dict):
            if answerable:
                return _error(request_id, INVALID_PARAMS, "Invalid params: expected an object")
            return None
    if problem is None:
        try:
            if answerable and "result" not in obj and "error" not in obj:
                # A request, by the checks above: validated as one, not as each member of the
                # message union in turn (half the time). The union's answer when that fails, or
                # when the line also carries a response's fields (the union may read an error).
                with suppress(ValueError):
                    return types.JSONRPCRequest.model_validate_json(text, by_name=False)
            return types.jsonrpc_message_adapter.validate_json(text, by_name=False)
        except ValueError as exc:
            where = _lone_surrogate_at(obj)
            if where is not None:
                problem = (
                    f"Invalid request: `{where}` holds a lone surrogate (an escape such as "
                    "\\ud800 alone), which is no Unicode character"
                )
            else:
                problem = f"Invalid request: {str(exc).splitlines()[0][:200]}"
    if answerable:
        return _error(request_id, INVALID_REQUEST, problem)
    logger.warning("ignored a malformed message that needs no answer: %s", problem)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate_at(value: Any, path: str = "") -> str | None:
    """Where in a parsed message a string (or a key) holds a lone surrogate, which JSON's
    escapes allow and no validator takes: `params.arguments.query`, `params.tags[1]`. Only
    when validation failed: a walk over the message, never on the way of a valid one."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _SURROGATE.search(key):
                return _SURROGATE.sub("?", here)  # the key itself, shown without it
            found = _lone_surrogate_at(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _lone_surrogate_at(item, f"{path}[{i}]")) is not None:
                return found
    return None


def encode_message(message: types.JSONRPCMessage) -> bytes:
    """One message as the line written to stdout: the bytes of `model_dump_json(by_alias=True,
    exclude_unset=True)`, from the model's serializer straight (model_dump_json decodes them
    to a str, which then had to be encoded again: half the time of a search's 60 KB answer)."""
    data = message.__pydantic_serializer__.to_json(message, by_alias=True, exclude_unset=True)
    return data + b"\n"


def _claim(fd: int, diversion: Callable[[], int]) -> tuple[int, Callable[[], None]]:
    """A private duplicate of `fd` for the protocol, with `fd` itself pointed elsewhere."""
    private = os.dup(fd)
    os.set_inheritable(private, False)
    try:
        target = diversion()
        os.dup2(target, fd)
        os.close(target)
    except OSError:
        logger.debug("could not divert fd %d", fd, exc_info=True)

    def restore() -> None:
        with suppress(OSError):
            os.dup2(private, fd)

    return private, restore


class _Watchdog:
    """Ends the process EXIT_GRACE seconds after the client left, if it has not ended."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._armed = False

    def arm(self) -> None:
        if self._armed or self.grace <= 0:
            return
        self._armed = True
        timer = threading.Timer(self.grace, self._exit)
        timer.daemon = True
        timer.start()

    def _exit(self) -> None:
        logger.warning(
            "shutdown took longer than %.1fs after the client left: exiting now", self.grace
        )
        with suppress(Exception):
            sys.stderr.flush()
        os._exit(0)


class _Lines:
    """Complete lines out of the chunks read from stdin. A line over `max_line` is replaced
    by its first bytes plus a marker, and the rest of it skipped."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self.pending = bytearray()
        self.skipping = False

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not self.skipping:
                self.pending += piece
                if len(self.pending) > self.max_line:
                    lines.append(_TOO_LONG + bytes(self.pending[:_ID_SCAN_BYTES]))
                    self.pending.clear()
                    self.skipping = True
            if end < 0:
                return lines
            if not self.skipping:
                lines.append(bytes(self.pending))
            self.pending.clear()
            self.skipping = False
            start = end + 1

    def end(self) -> list[bytes]:
        """What is left at the end of input: a last line without its newline."""
        return [bytes(self.pending)] if self.pending and not self.skipping else []


def _read_lines(
    fd: int, put: Callable[[bytes | None], None], max_line: int = MAX_LINE_BYTES
) -> None:
    """Blocking reader (a daemon thread): complete lines to `put`, None at end of input."""
    lines = _Lines(max_line)
    while True:
        try:
            chunk = os.read(fd, 65_536)
        except OSError:
            chunk = b""
        for line in lines.feed(chunk) if chunk else lines.end():
            put(line)
        if not chunk:
            put(None)
            return


_TOO_LONG = b"\0too-long\0"


def _answer_for(raw: bytes) -> types.JSONRPCMessage | Refusal | None:
    if raw.startswith(_TOO_LONG):
        head = raw[len(_TOO_LONG) :]
        return _error(
            recover_id(head),
            INVALID_REQUEST,
            f"Invalid request: the message is over {MAX_LINE_BYTES // (1024 * 1024)} MiB",
        )
    return check_line(raw)


def _set_nonblocking(fd: int, *, room: bool = True) -> bool:
    """Make `fd` non-blocking when it is a pipe (what an MCP client gives); False when it
    stays blocking: a terminal or a file may be shared with the shell that started us, which
    must not find its own output non-blocking (and Windows pipes cannot be). `room`: ask for
    a pipe buffer of PIPE_BYTES too (stdout's)."""
    if sys.platform == "win32":
        return False
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        os.set_blocking(fd, False)
    except OSError:
        return False
    if room and sys.platform == "linux":  # room for a whole answer, written at once
        import fcntl

        with suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return True


def _watch_parent(on_gone: Callable[[], None]) -> None:
    """Call `on_gone` when the process that started us dies (we are re-parented)."""
    parent = os.getppid()
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(PARENT_POLL):
            if os.getppid() != parent:
                on_gone()
                return

    if parent > 1 and sys.platform != "win32":
        threading.Thread(target=poll, name="ocp parent watch", daemon=True).start()


# How a client stops a stdio server once it has closed stdin (SIGTERM, the specification's
# next step), or the terminal or the IDE's process group going (SIGHUP). Their default action
# ends the process at once, and leaves an index build's worker processes orphaned for good.
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP) if sys.platform != "win32" else ()


def _stop_on_signals(
    loop: asyncio.AbstractEventLoop, stop: Callable[[], None]
) -> Callable[[], None]:
    """`stop` (the client leaving) on SIGTERM or SIGHUP; the function that undoes it."""
    taken = []
    for number in _STOP_SIGNALS:
        try:
            loop.add_signal_handler(number, stop)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        taken.append(number)

    def undo() -> None:
        for number in taken:
            loop.remove_signal_handler(number)

    return undo


class _Stdout:
    """Protocol messages to stdout, each whole and in order. A message goes out from the task
    that sends it when the pipe takes it at once (a search's answer fits the 1 MiB pipe when
    the client keeps up): no hand-over to another task. What does not fit waits its turn in a
    queue that `run` empties, waiting for room; where stdout cannot be non-blocking (a file, a
    terminal, Windows) every message goes through the queue and a thread writes it."""

    def __init__(self, fd: int, nonblocking: bool, on_broken: Callable[[], None]) -> None:
        self.fd = fd
        self.nonblocking = nonblocking
        self.on_broken = on_broken
        # Each entry leaves the queue once written whole: while one is, later ones wait.
        self.queue: deque[tuple[bytes, asyncio.Event]] = deque()
        self.queued = asyncio.Event()
        self.broken = False  # the client closed its end: nobody listens any more

    async def write(self, message: types.JSONRPCMessage) -> None:
        if self.broken:
            raise anyio.BrokenResourceError
        data = encode_message(message)
        if self.nonblocking and not self.queue:
            try:
                written = os.write(self.fd, data)
            except BlockingIOError:
                written = 0
            except OSError:
                self._break()
                raise anyio.BrokenResourceError from None
            if written == len(data):
                return
            data = data[written:]  # the rest goes next, before any other message
        done = asyncio.Event()
        self.queue.append((data, done))
        self.queued.set()
        await done.wait()  # a sender cancelled here still has its message written whole
        if self.broken:
            raise anyio.BrokenResourceError

    async def run(self) -> None:
        """Empty the queue, for as long as the client reads."""
        while not self.broken:
            await self.queued.wait()
            while self.queue and not self.broken:
                data, done = self.queue[0]
                try:
                    if self.nonblocking:
                        await self._write_on_loop(data)
                    else:
                        await anyio.to_thread.run_sync(self._write_all, data)
                except OSError:
                    self._break()
                    return
                self.queue.popleft()
                done.set()
            self.queued.clear()

    async def drained(self) -> None:
        """Return once every message sent so far is written (or the client has gone)."""
        if self.queue:
            await self.queue[-1][1].wait()

    def _break(self) -> None:
        self.broken = True
        for _, done in self.queue:
            done.set()
        self.queue.clear()
        self.on_broken()

    async def _write_on_loop(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                await anyio.wait_writable(self.fd)
                continue
            view = view[written:]

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


class _StdoutStream(ObjectSendStream[SessionMessage]):
    """The server's write end: closing it closes only this end."""

    def __init__(self, out: _Stdout) -> None:
        self.out = out
        self.closed = False

    async def send(self, item: SessionMessage) -> None:
        if self.closed:
            raise anyio.ClosedResourceError
        await self.out.write(item.message)

    async def aclose(self) -> None:
        self.closed = True


class _StdinStream(ObjectReceiveStream[SessionMessage | Exception]):
    """The server's read end: the lines read from stdin, each checked first (a broken one is
    answered here with its error, and not handed on)."""

    def __init__(
        self,
        lines: asyncio.Queue[bytes | None],
        out: _Stdout,
        on_taken: Callable[[], None],
        on_end: Callable[[], None],
    ) -> None:
        self.lines = lines
        self.out = out
        self.on_taken = on_taken
        self.on_end = on_end
        self.closed = False
        self.ended = False

    async def receive(self) -> SessionMessage | Exception:
        while True:
            if self.closed:
                raise anyio.ClosedResourceError
            if self.ended:
                raise anyio.EndOfStream
            raw = await self.lines.get()
            self.on_taken()
            if raw is None:
                self.ended = True
                self.on_end()
                raise anyio.EndOfStream
            message = _answer_for(raw)
            if isinstance(message, Refusal):
                with suppress(anyio.BrokenResourceError):
                    await self.out.write(message)
            elif message is not None:
                return SessionMessage(message)

    async def aclose(self) -> None:
        self.closed = True


@asynccontextmanager
async def hardened_stdio(
    *, exit_grace: float = EXIT_GRACE, stdin_fd: int = 0, stdout_fd: int = 1
) -> AsyncIterator[
    tuple[ObjectReceiveStream[SessionMessage | Exception], ObjectSendStream[SessionMessage]]
]:
    """Read and write streams for `Server.run`, over the process's stdin and stdout."""
    wire_in, restore_in = _claim(stdin_fd, lambda: os.open(os.devnull, os.O_RDONLY))
    wire_out, restore_out = _claim(stdout_fd, lambda: os.dup(2))
    watchdog = _Watchdog(exit_grace)
    loop = asyncio.get_running_loop()
    # Read from the event loop when stdin is a pipe: a thread hop per request (waking the
    # loop, a future, the thread woken back) cost more than the read. Elsewhere (a file, a
    # terminal, Windows) a thread reads, blocking.
    on_loop = _set_nonblocking(wire_in, room=False)
    lines: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=0 if on_loop else QUEUED_LINES)
    gone = threading.Event()

    def put(line: bytes | None) -> None:
        if gone.is_set() and line is not None:
            return
        future = asyncio.run_coroutine_threadsafe(lines.put(line), loop)
        with suppress(Exception):
            future.result()

    def client_left() -> None:
        if not gone.is_set():
            gone.set()
            with suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(lines.put(None), loop)

    split = _Lines()
    reading = False  # the loop watches stdin for lines
    ended = False  # stdin reached its end (or the client left): no more reading

    def watch_stdin(on: bool) -> None:
        nonlocal reading
        if on and not reading and not ended:
            loop.add_reader(wire_in, read_ready)
            reading = True
        elif not on and reading:
            loop.remove_reader(wire_in)
            reading = False

    def read_ready() -> None:
        nonlocal ended
        try:
            chunk = os.read(wire_in, 65_536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if gone.is_set() or not chunk:
            if not gone.is_set():
                for line in split.end():
                    lines.put_nowait(line)
                lines.put_nowait(None)
            watch_stdin(False)
            ended = True
            return
        for line in split.feed(chunk):
            lines.put_nowait(line)
        if lines.qsize() >= QUEUED_LINES:  # the server is behind: stop reading for now
            watch_stdin(False)

    def line_taken() -> None:
        if on_loop and lines.qsize() < QUEUED_LINES:
            watch_stdin(True)

    # Written from the event loop when the pipe takes it, waiting for room when it is full:
    # a thread hop per message cost more than the write. Where a pipe cannot be
    # non-blocking, a thread writes.
    out = _Stdout(wire_out, _set_nonblocking(wire_out), client_left)
    # The client has gone when stdin ends: whatever is still running gets EXIT_GRACE seconds.
    read = _StdinStream(lines, out, line_taken, watchdog.arm)
    write = _StdoutStream(out)

    if on_loop:
        watch_stdin(True)
    else:
        threading.Thread(
            target=_read_lines, args=(wire_in, put), name="ocp stdin", daemon=True
        ).start()
    _watch_parent(client_left)
    restore_signals = _stop_on_signals(loop, client_left)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(out.run)
            try:
                yield read, write
            finally:
                client_left()
                watchdog.arm()
                await write.aclose()
                with anyio.move_on_after(exit_grace / 2):
                    await out.drained()
                tg.cancel_scope.cancel()
    finally:
        restore_signals()
        if on_loop:
            watch_stdin(False)
            with suppress(OSError):
                os.set_blocking(wire_in, True)
        if out.nonblocking:
            with suppress(OSError):
                os.set_blocking(wire_out, True)
        restore_out()
        restore_in()
