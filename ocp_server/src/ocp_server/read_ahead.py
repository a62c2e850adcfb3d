"""The SDK's serving loop without its relay task. `Server.run` (the SDK's `serve_dual_era_loop`)
reads the client's first request to choose the protocol era, then passes every later message
through a task of its own and a second memory stream to the dispatcher: one more pass of the
event loop and a copy of the context for each message. Here the frames read ahead are replayed
and the rest are read from the transport's stream itself, which is all the relay did after the
first request. Interleaved over stdio (`bench_search_latency.py`, load 17-22, two runs), that
took 3-5% off a search's server CPU on pytest and hono (docs/search-rounds.md).

It replaces one private function of the SDK (mcp 2.3), `_replay_from_opening_request`, whose
contract it keeps: the opening request (None when the stream ends first) and a stream of the
frames before it, it, and everything after. It is installed only under the SDK's minor version
it was read against (CHECKED_SDK): a private function may keep its name and change its contract
in any release, so another SDK, or one without the function, keeps its own relay."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any, Self

import anyio
from mcp.server import runner
from mcp.shared.message import SessionMessage
from mcp_types.jsonrpc import JSONRPCRequest

from ocp_router.closing import ClosesOnExit

__all__ = ["CHECKED_SDK", "REPLACED", "ReadAhead", "install", "replay_read_ahead", "sdk_version"]

logger = logging.getLogger(__name__)

#: The SDK's function this module stands in for.
REPLACED = "_replay_from_opening_request"
#: The `mcp` release line (major.minor) whose REPLACED this module's contract was read from.
CHECKED_SDK = "2.3"
#: Frames before the first request kept for the era's loop, as the SDK keeps them.
LEAD_LIMIT: int = getattr(runner, "_PRE_REQUEST_REPLAY_LIMIT", 8)

Item = SessionMessage | Exception
_Frame = tuple[contextvars.Context | None, Item]


class ReadAhead(ClosesOnExit):
    """The frames read before the era was chosen, then the transport's stream itself: what
    the SDK's relay task hands on, without the task. `last_context` is the sender's context
    of the frame last received, where the transport's stream carries one (as the SDK's
    `ContextReceiveStream` does), else None: the dispatcher then runs the handler in a copy of
    its own, as it would the relay task's."""

    def __init__(self, lead: list[_Frame], inner: Any) -> None:
        self._lead = lead
        self._inner = inner
        self.last_context: contextvars.Context | None = None

    async def receive(self) -> Item:
        if self._lead:
            self.last_context, frame = self._lead.pop(0)
            return frame
        try:
            item: Item = await self._inner.receive()
        except anyio.ClosedResourceError:  # closed under us: the end, as the SDK's relay reads it
            raise anyio.EndOfStream from None
        self.last_context = getattr(self._inner, "last_context", None)
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Item:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


@asynccontextmanager
async def replay_read_ahead(read_stream: Any) -> AsyncIterator[tuple[JSONRPCRequest | None, Any]]:
    """The client's first request, read without being consumed, and a stream (`ReadAhead`)
    that gives it again after up to LEAD_LIMIT frames that came before it (further ones are
    dropped), then the rest of `read_stream`. The request is None when the stream ends (or
    is closed) before one comes. `read_stream` is closed on every way out."""
    lead: list[_Frame] = []
    opening: JSONRPCRequest | None = None
    try:
        try:
            async for item in read_stream:
                if isinstance(item, SessionMessage) and isinstance(item.message, JSONRPCRequest):
                    opening = item.message
                elif len(lead) >= LEAD_LIMIT:
                    logger.debug("dropped a frame received before the first request: %r", item)
                    continue
                lead.append((getattr(read_stream, "last_context", None), item))
                if opening is not None:
                    break
        except anyio.ClosedResourceError:  # closed under us: the end, as the SDK reads it
            logger.debug("read stream closed by transport; treating as EOF")
        yield opening, ReadAhead(lead, read_stream)
    finally:
        await read_stream.aclose()


def sdk_version() -> str:
    """The installed `mcp` distribution's version."""
    return metadata.version("mcp")


def install() -> bool:
    """Serve through `replay_read_ahead` from now on, in this process; whether it was installed
    (not under an SDK other than CHECKED_SDK's line, nor one without the function it replaces:
    the SDK's own relay stays)."""
    if ".".join(sdk_version().split(".")[:2]) != CHECKED_SDK:
        logger.debug(
            "the MCP SDK is %s, not %s.x: its relay task stays", sdk_version(), CHECKED_SDK
        )
        return False
    if not callable(getattr(runner, REPLACED, None)):
        logger.debug("the MCP SDK has no %s: its relay task stays", REPLACED)
        return False
    setattr(runner, REPLACED, replay_read_ahead)
    return True
