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
from contextlib import AsyncExitStack, suppress

from mcp import ClientSession, StdioServerParameters, stdio_client

from ocp_client.stderr_tail import StderrTail


async def serve(
    session_class: type[ClientSession],
    params: StdioServerParameters,
    timeout: float,
    stderr: StderrTail,
    opened: asyncio.Future[ClientSession],
    closing: asyncio.Event,
) -> None:
    """Start the server, hand its initialized session to `opened`, hold it until `closing`,
    then stop the server. A failure to start is handed to `opened` instead."""
    failure: Exception | None = None
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
                session = await stack.enter_async_context(
                    session_class(read, write, read_timeout_seconds=timeout)
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
