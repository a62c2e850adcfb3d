"""A request whose id is already in flight is refused; the first one with that id runs on.

JSON-RPC asks that a request's id be unique among the requests a client has in flight (MCP:
within the session). A client that breaks that had both run: two answers with one id, which
the client can tell apart only by luck, and the SDK's table of requests in flight kept only
the second, so cancelling the first no longer reached it. What the client is most likely to
understand is an error for the second, under that id, naming it: -32600 Invalid Request. The
first runs on and is answered, and can still be cancelled. When the client has cancelled the
first, the refusal says so instead: the first is ending, unanswered, and its id is free once it
has (MCP asks for an id not used before in the session, which needs no wait).

Kept between the transport and the SDK's dispatcher (which takes the second as it comes): an
id is in flight from the request read until its answer is written, or until it settles
unanswered (cancelled), which the dispatcher tells through the request's metadata.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import anyio
import mcp_types as types
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.shared.dispatcher import coerce_request_id
from mcp.shared.message import ServerMessageMetadata, SessionMessage

__all__ = ["unique_request_ids"]


def unique_request_ids(
    read: ObjectReceiveStream[SessionMessage | Exception],
    write: ObjectSendStream[SessionMessage],
) -> tuple[ObjectReceiveStream[SessionMessage | Exception], ObjectSendStream[SessionMessage]]:
    """The server's two streams, with a request whose id is in flight answered here."""
    in_flight: dict[Any, bool] = {}  # the dispatcher's key -> the client has cancelled it
    return _Requests(read, write, in_flight), _Answers(write, in_flight)


def _refusal(request_id: types.RequestId, cancelled: bool) -> types.JSONRPCError:
    if cancelled:
        first = (
            "by a request you cancelled that has not ended yet; this one was not run (the "
            "first ends unanswered). Give each request its own id."
        )
    else:
        first = "by a request in flight; this one was not run (the first goes on). Give each "
        first += "request its own id."
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=types.ErrorData(
            code=types.INVALID_REQUEST,
            message=f"Invalid request: id {request_id!r} is already used {first}",
        ),
    )


def _cancelled_id(message: types.JSONRPCNotification) -> Any:
    """The key of the request a `notifications/cancelled` names, or None."""
    if message.method != "notifications/cancelled" or not isinstance(message.params, dict):
        return None
    request_id = message.params.get("requestId")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        return None
    return coerce_request_id(request_id)


class _Requests(ObjectReceiveStream[SessionMessage | Exception]):
    def __init__(
        self,
        inner: ObjectReceiveStream[SessionMessage | Exception],
        out: ObjectSendStream[SessionMessage],
        in_flight: dict[Any, bool],
    ) -> None:
        self.inner = inner
        self.out = out  # the unwrapped stream: a refusal must not end the first's flight
        self.in_flight = in_flight

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self.inner.receive()
            if not isinstance(item, SessionMessage):
                return item
            message = item.message
            if isinstance(message, types.JSONRPCNotification):
                cancelled = _cancelled_id(message)
                if cancelled in self.in_flight:
                    self.in_flight[cancelled] = True
            if not isinstance(message, types.JSONRPCRequest):
                return item
            key = coerce_request_id(message.id)  # the dispatcher's key: "7" is 7 to it
            if key not in self.in_flight:
                self.in_flight[key] = False
                if item.metadata is None:  # (stdio's messages carry none)
                    unanswered = self._settled_unanswered(key)
                    metadata = ServerMessageMetadata(on_request_unanswered=unanswered)
                    return SessionMessage(message, metadata)
                return item
            with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await self.out.send(SessionMessage(_refusal(message.id, self.in_flight[key])))

    def _settled_unanswered(self, key: Any) -> Callable[[], Awaitable[None]]:
        async def settled() -> None:
            self.in_flight.pop(key, None)

        return settled

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Answers(ObjectSendStream[SessionMessage]):
    def __init__(self, inner: ObjectSendStream[SessionMessage], in_flight: dict[Any, bool]) -> None:
        self.inner = inner
        self.in_flight = in_flight

    async def send(self, item: SessionMessage) -> None:
        message = item.message
        if (
            isinstance(message, types.JSONRPCResponse | types.JSONRPCError)
            and message.id is not None
        ):
            # Before the write: once the client has read the answer it may use the id again.
            self.in_flight.pop(coerce_request_id(message.id), None)
        await self.inner.send(item)

    async def aclose(self) -> None:
        await self.inner.aclose()
