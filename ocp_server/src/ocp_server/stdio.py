"""MCP over stdio, hardened: every request gets an answer, stdout carries only protocol
messages, and the process leaves soon after its client does.

The SDK's stdio transport drops a line it cannot parse without a word, so a client waits for
ever on that request's id. Here every line is checked first (jsonrpc_line): a broken one is
answered with its error and the request's id; one over MAX_LINE_BYTES too.

While serving, fd 0 reads /dev/null and fd 1 writes to stderr, so a library or child process
that prints cannot corrupt the wire; the protocol runs on private duplicates of both.

A client that stops reading its answers is sent no more than BACKLOG_BYTES of them beyond the
pipe: no more requests are taken from stdin until it reads, so the server's memory stays
bounded and the client's writes block, as a pipe's should.

When stdin closes (or the parent process dies, or SIGTERM or SIGHUP comes) the server shuts
down, and a watchdog ends the process EXIT_GRACE seconds later whatever is still running: an
index batch in a worker thread or a database connection left open must not keep an orphan
alive. SQLite in WAL mode makes that as safe as any crash: the last committed transaction
stands.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import signal
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

import anyio
import mcp_types as types
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.shared.message import SessionMessage

from ocp_server.hard_exit import end_process, prepare
from ocp_server.jsonrpc_line import (
    ID_SCAN_BYTES,
    INVALID_REQUEST,
    Refusal,
    check_line,
    encode_message,
    error,
    recover_id,
)
from ocp_server.log_thread import flush_logs

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024 * 1024
# Answers written but not yet read by the client, beyond the pipe's room: past this, no more
# requests are taken from stdin until the client reads (each would add its answer).
BACKLOG_BYTES = 4 * 1024 * 1024
QUEUED_LINES = 64  # requests read ahead of the server, at most
PIPE_BYTES = 1024 * 1024  # stdout's pipe buffer asked for (Linux's unprivileged maximum)
EXIT_GRACE = 1.0  # seconds between the client leaving and the process ending, at most
PARENT_POLL = 1.0


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
        self._armed = threading.Event()
        if grace > 0:
            # Started now, not when armed: `arm` runs in a signal handler too, and a thread
            # started there deadlocks when the signal lands while the main thread is itself
            # starting one (holding threading's lock for it).
            threading.Thread(target=self._watch, name="ocp watchdog", daemon=True).start()
            prepare()  # the thread its end runs the exit handlers in, for the same reason

    def arm(self) -> None:
        self._armed.set()

    def _watch(self) -> None:
        self._armed.wait()
        time.sleep(self.grace)
        self._exit()

    def _exit(self) -> None:
        logger.warning(
            "shutdown took longer than %.1fs after the client left: exiting now", self.grace
        )
        # stderr left unread: its flush would wait for ever on the log thread's write
        flushed = flush_logs(self.grace / 4)
        end_process(self.grace / 4, flush_streams=flushed)


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
                    lines.append(_TOO_LONG + bytes(self.pending[:ID_SCAN_BYTES]))
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
        return error(
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


def _watch_hangup(fd: int, on_hangup: Callable[[], None], stop: threading.Event) -> None:
    """Call `on_hangup` when the client closes its end of stdin (a pipe), even while lines it
    sent before are unread in the pipe: the reading may be paused, and the end of input not
    reached."""
    if sys.platform == "win32":
        return
    with suppress(OSError):
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return

    def poll() -> None:
        watch = select.poll()
        watch.register(fd, 0)  # POLLHUP and POLLERR come whatever is asked for
        while not stop.is_set():
            for _, events in watch.poll(500):
                if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    on_hangup()
                    return

    threading.Thread(target=poll, name="ocp stdin hangup", daemon=True).start()


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
# The exit status is then 0, as for stdin closing: the shutdown asked for was done. MCP says
# nothing of it, the SDK's client never reads it, and a supervisor (systemd) counts 0 as a
# clean stop but 143 (128 + SIGTERM) as a failure.
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP) if sys.platform != "win32" else ()


def _stop_on_signals(
    loop: asyncio.AbstractEventLoop, stop: Callable[[], None], at_once: Callable[[], None]
) -> Callable[[], None]:
    """On SIGTERM or SIGHUP, `at_once` (arming the watchdog) in the signal handler itself, and
    `stop` (the client leaving) on the event loop; the function that undoes it. A handler the
    loop runs (`add_signal_handler`) waits for whatever holds the loop: a CPU-bound step put
    off the end for as long as it ran."""

    def on_signal(number: int, _frame: object) -> None:
        at_once()
        with suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(stop)

    taken: list[tuple[int, object]] = []
    for number in _STOP_SIGNALS:
        try:
            taken.append((number, signal.signal(number, on_signal)))
        except ValueError:  # not the main thread
            continue

    def undo() -> None:
        for number, before in taken:
            signal.signal(number, before)  # type: ignore[arg-type]

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
        self.backlog = 0  # bytes in the queue
        self.has_room = asyncio.Event()  # the backlog is under BACKLOG_BYTES, or nobody reads
        self.has_room.set()
        self.released = False  # the client has gone: room for ever
        self.input_closed = False  # the client closed stdin
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
        self.backlog += len(data)
        if self.backlog > BACKLOG_BYTES and not self.released:
            if self.input_closed:  # and reads nothing either
                self.on_broken()
            else:
                self.has_room.clear()
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
                self.backlog -= len(data)
                if self.backlog <= BACKLOG_BYTES:
                    self.has_room.set()
                done.set()
            self.queued.clear()

    async def room(self) -> None:
        """Return once the client has read enough of what waits for it (or has gone)."""
        await self.has_room.wait()

    def release(self) -> None:
        """The client has gone: nothing waits for room any more."""
        self.released = True
        self.has_room.set()

    def close_input(self) -> None:
        """The client closed stdin: when it does not read its answers either, it has left
        (the end of its input, behind requests not taken for want of room, is not seen)."""
        self.input_closed = True
        if not self.has_room.is_set():
            self.on_broken()

    async def drained(self) -> None:
        """Return once every message sent so far is written (or the client has gone)."""
        if self.queue:
            await self.queue[-1][1].wait()

    def _break(self) -> None:
        self.broken = True
        for _, done in self.queue:
            done.set()
        self.queue.clear()
        self.backlog = 0
        self.release()
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
        client_gone: threading.Event,
        on_taken: Callable[[], None],
        on_end: Callable[[], None],
    ) -> None:
        self.lines = lines
        self.out = out
        self.client_gone = client_gone
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
            # A request taken now adds its answer to those the client has not read yet.
            await self.out.room()
            # Once the client has left, the requests still queued would be served for nobody
            # (a slow server took over 30 s to reach the end behind them).
            raw = None if self.client_gone.is_set() else await self.lines.get()
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
            watchdog.arm()  # whatever is running then (a search holding the loop) or not
            with suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(lines.put(None), loop)
                loop.call_soon_threadsafe(out.release)  # a read waiting for room sees the end

    def stdin_hung_up() -> None:
        # Closing stdin is how a client shuts a server down (MCP's stdio transport): the
        # grace starts now, not when a busy event loop gets to read the end.
        watchdog.arm()
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(out.close_input)

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
    read = _StdinStream(lines, out, gone, line_taken, watchdog.arm)
    write = _StdoutStream(out)

    if on_loop:
        watch_stdin(True)
    else:
        threading.Thread(
            target=_read_lines, args=(wire_in, put), name="ocp stdin", daemon=True
        ).start()
    _watch_parent(client_left)
    restore_signals = _stop_on_signals(loop, client_left, watchdog.arm)
    stop_watching = threading.Event()
    _watch_hangup(wire_in, stdin_hung_up, stop_watching)
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
        stop_watching.set()
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
