"""Protocol-level requests the SDK refuses, answered with what was wrong; and one it takes
that this server refuses.

The SDK answers both a request before `initialize` and params that break a method's schema
(`tools/call` without a `name`, a `resources/read` whose `uri` is a number) with the same
"Invalid request parameters" and empty data: a client's author cannot tell which field, or
that the session was not initialized. Same codes, said in full.

A second `initialize` on the same connection the SDK answers, and commits: the session's
protocol version and the client's capabilities change under calls already made (a client
initialized again without `roots` leaves the server unable to ask which folders it may open).
Tool results do not change with the version: the SDK sends `structuredContent` under every
handshake-era version, 2025-03-26 (which does not define it) included. MCP makes
initialization the first interaction of a connection and defines no second one
(lifecycle, 2025-06-18 and 2025-11-25), so it is refused as an invalid request, and the
session goes on as it was negotiated; a client that wants other terms opens a new connection.

A field is named as the client finds it in its request, from `params` down
(`params._meta.progressToken`): the SDK checks a method's params twice, once inside the whole
request and once on their own, and the second named the field without `params`.

A progress token of `true` the SDK's params model takes as the integer 1 (pydantic's lax
mode) while its dispatcher drops it (a boolean is not a token: MCP says string or integer), so
no progress came and no error said why. It is refused here, naming the field.

Every error that passes here has the caller's text it quotes redacted (a method's name, a
resource's URI), as a tool's errors are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, INVALID_REQUEST
from pydantic import ValidationError

from ocp_router.redact_names import redact_name
from ocp_server.argument_errors import problems

# What the SDK raises, word for word, at its gate for requests before `initialize`.
_SDK_REFUSAL = "Invalid request parameters"
_NOT_INITIALIZED = (
    "Invalid request: the session is not initialized; send `initialize` first (then "
    "`notifications/initialized`). Only `ping` is answered before it."
)


@dataclass(frozen=True, slots=True)
class ProtocolErrorsNamed:
    """A middleware: the SDK's refusals of a request, with the field and what it takes."""

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == "initialize" and ctx.session.client_params is not None:
            raise MCPError(
                INVALID_REQUEST,
                "Invalid request: the session is already initialized (protocol "
                f"{ctx.protocol_version}); a second `initialize` is refused and the session "
                "goes on as negotiated. Open a new connection to negotiate again.",
            )
        if ctx.request_id is not None:  # a request (notifications pass here too)
            _refuse_a_boolean_progress_token(ctx.params)
        try:
            return await call_next(ctx)
        except ValidationError as exc:
            # The method's params checked against its schema (the tools' handlers turn their
            # own validation errors into tool errors, and raise none).
            message = problems(exc, extra="is not a parameter of this method", under="params")
            raise MCPError(INVALID_PARAMS, f"Invalid params: {message}") from None
        except MCPError as exc:
            error = exc.error
            refused = error.code == INVALID_PARAMS and error.message == _SDK_REFUSAL
            if refused and not error.data and ctx.session.client_params is None:
                raise MCPError(INVALID_PARAMS, _NOT_INITIALIZED) from None
            raise _redacted(exc) from None


def _refuse_a_boolean_progress_token(params: Mapping[str, Any] | None) -> None:
    meta = params.get("_meta") if params else None
    token = meta.get("progressToken") if isinstance(meta, Mapping) else None
    if isinstance(token, bool):
        raise MCPError(
            INVALID_PARAMS,
            "Invalid params: `params._meta.progressToken`: expected a string or an integer, "
            f"not a boolean (got {json.dumps(token)})",
        )


def _redacted(exc: MCPError) -> MCPError:
    """`exc` with the caller's text it quotes redacted (a method's name as `data`, a resource's
    URI): an error reaches the agent's model like a result."""
    error = exc.error
    message = redact_name(error.message).text
    data = redact_name(error.data).text if isinstance(error.data, str) else error.data
    if message == error.message and data == error.data:
        return exc
    return MCPError(error.code, message, data)
