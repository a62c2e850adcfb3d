"""A relayed or translated answer's body and its lifetime: closed however the response ends,
the attempt it carries settled once (traced, costed) whether it ended or the client left."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ocp_server.proxy.upstream import Outcome


async def settled(
    chunks: AsyncGenerator[bytes, None],
    outcome: Outcome,
    settle: Callable[[], Awaitable[None]],
) -> AsyncGenerator[bytes, None]:
    """A relayed body, the attempt settled once it has ended (or the client has gone)."""
    try:
        async with aclosing(chunks):  # closed when this is: it holds the upstream's response
            async for chunk in chunks:
                yield chunk
    except BaseException:
        outcome.error = outcome.error or "the client went away mid-stream"
        raise
    finally:
        # shielded: a hangup cancels the response's task, and settling awaits (the cut input's
        # token count in a thread, the ledger): cancelled there, the request went untraced
        with anyio.CancelScope(shield=True):
            await settle()


class Relayed(StreamingResponse):
    """A relayed body, closed however the response ends. A client that hangs up while a send
    waits on it has that send cancelled, and Starlette leaves the body suspended at its
    `yield`: the upstream response inside would stay open (billed, or a local model generating
    for nobody) until the garbage collector found it, minutes later or never."""

    def __init__(
        self,
        body: AsyncGenerator[bytes, None],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(body, status_code, headers, media_type)
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._body.aclose()
