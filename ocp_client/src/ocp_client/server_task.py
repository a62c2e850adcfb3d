"""The server's stdio transport and MCP session, opened and closed inside one task of their own.

The SDK's transport holds an anyio task group, which must be exited by the task that entered
it. Held by the caller, that broke a client opened in one task and closed in another (an async
fixture, `wait_for(client.__aenter__(), ...)`), and a client dropped without closing: the
garbage collector closed the transport from a new task, whose cancel scope then cancelled the
task that had opened the client. The session's own task owns the scope instead; closing, from
any task or from the garbage collector, only tells it to finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from contextvars import ContextVar
from typing import Any

import mcp.client.stdio as sdk_stdio
from mcp import ClientSession, StdioServerParameters, stdio_client
from pydantic import ValidationError

from ocp_client.stderr_tail import StderrTail


class ServerExit:
    """How the server's process ended, once the transport has stopped it (None before, or
    when this SDK's spawn could not be followed), and the first line it wrote on stdout that
    was not an MCP message (a banner, a `--help`): the clue when it then fails."""

    def __init__(self) -> None:
        self.process: Any = None
        self.not_mcp: str | None = None

    async def heard(self, message: object) -> None:
        """The session's message handler: the transport hands it each stdout line it could
        not read as an MCP message, as the exception it raised."""
        if isinstance(message, Exception) and self.not_mcp is None:
            self.not_mcp = _stdout_line(message)

    def said(self) -> str | None:
        """`exit status 1`, `killed by SIGKILL`, or None while unknown."""
        code = getattr(self.process, "returncode", None)
        if not isinstance(code, int):
            return None
        if code >= 0:
            return f"exit status {code}"
        with suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"

    async def ended(self, wait: float) -> str | None:
        """`said()`, once the process has ended, waiting at most `wait` seconds for that: a
        server that closed its connection mid-session by dying is reaped a moment later."""
        if self.process is None or self.said() is not None or wait <= 0:
            return self.said()
        with suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self.process.wait()
        return self.said()


def _stdout_line(error: Exception) -> str:
    """The line an unreadable message was, from pydantic's error (its input), else the error."""
    errors = error.errors() if isinstance(error, ValidationError) else []
    line = errors[0].get("input") if errors else None
    return (line if isinstance(line, str) else str(line if line is not None else error))[:200]


# The spawned process of the transport opened in this task's context (`serve`): the SDK's
# stdio_client keeps it to itself, and `OCPClient("/bin/false")` could only say "did not
# start". Followed through the SDK's own spawn function, wrapped once; with an SDK that has
# none by that name nothing is followed and messages name no exit status.
_SPAWNED: ContextVar[ServerExit | None] = ContextVar("ocp_client_spawned", default=None)
_SPAWN = "_create_platform_compatible_process"


_followed: list[object] = []  # the wrapper installed, once


def _follow_spawns() -> None:
    spawn: Callable[..., Awaitable[Any]] | None = getattr(sdk_stdio, _SPAWN, None)
    if spawn is None or spawn in _followed:
        return

    async def followed(*args: Any, **kwargs: Any) -> Any:
        process = await spawn(*args, **kwargs)
        if (held := _SPAWNED.get()) is not None:
            held.process = process
        return process

    _followed.append(followed)
    setattr(sdk_stdio, _SPAWN, followed)


# The SDK logs a traceback for each stdout line that is not an MCP message: an `ocp-server
# --help` (a wrong `args`) or a wrapper's banner printed one per line, dozens, before the
# OCPServerError that names the first such line (ServerExit.not_mcp) and how the server ended.
# Only lines of a server this client started are left unlogged: set in `serve`'s context,
# which the transport's reader task inherits; another MCP client in the process logs as ever.
_SERVING: ContextVar[bool] = ContextVar("ocp_client_serving", default=False)
_STRAY_LINE = "Failed to parse JSONRPC message"


class _StrayLinesTold(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_SERVING.get() and str(record.msg).startswith(_STRAY_LINE))


_filtered: list[logging.Filter] = []  # the filter installed, once


def _tell_stray_lines_once() -> None:
    if not _filtered:
        _filtered.append(_StrayLinesTold())
        logging.getLogger(sdk_stdio.__name__).addFilter(_filtered[0])


async def serve(
    session_class: type[ClientSession],
    params: StdioServerParameters,
    timeout: float,
    stderr: StderrTail,
    opened: asyncio.Future[ClientSession],
    closing: asyncio.Event,
    exited: ServerExit | None = None,
) -> None:
    """Start the server, hand its initialized session to `opened`, hold it until `closing`,
    then stop the server. A failure to start is handed to `opened` instead, once the server
    is stopped (its exit status then in `exited`)."""
    failure: Exception | None = None
    _follow_spawns()
    _tell_stray_lines_once()
    _SPAWNED.set(exited)  # this task's own context: no other task sees it
    _SERVING.set(True)
    try:
        async with AsyncExitStack() as stack:
            try:
                try:
                    transport = stdio_client(params, errlog=stderr.errlog)
                    read, write = await stack.enter_async_context(transport)
                finally:
                    stderr.release()
                # The timeout covers every request, `initialize` too: a server that never
                # answers (a banner on stdout, a hang) fails instead of waiting forever.
                heard = exited.heard if exited is not None else None
                session = await stack.enter_async_context(
                    session_class(read, write, read_timeout_seconds=timeout, message_handler=heard)
                )
                await session.initialize()
            except Exception as exc:  # handed over once the server is stopped, as raised
                failure = exc
            else:
                if not opened.done():  # else the caller gave up waiting
                    opened.set_result(session)
                    await closing.wait()
    except BaseException:
        if not opened.done():
            opened.cancel()
        raise
    if failure is not None and not opened.done():
        opened.set_exception(failure)


def close_soon(loop: asyncio.AbstractEventLoop, closing: asyncio.Event) -> None:
    """Tell the session's task to finish, from any thread (the garbage collector's)."""
    with suppress(RuntimeError):  # the loop is closed: its end cancelled the task already
        loop.call_soon_threadsafe(closing.set)
