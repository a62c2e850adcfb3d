"""Protocol-level requests the SDK refuses, answered with what was wrong.

The SDK answers both a request before `initialize` and params that break a method's schema
(`tools/call` without a `name`, a `resources/read` whose `uri` is a number) with the same
"Invalid request parameters" and empty data: a client's author cannot tell which field, or
that the session was not initialized. Same codes, said in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import ValidationError

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
        try:
            return await call_next(ctx)
        except ValidationError as exc:
            # The method's params checked against its schema (the tools' handlers turn their
            # own validation errors into tool errors, and raise none).
            message = problems(exc, extra="is not a parameter of this method")
            raise MCPError(INVALID_PARAMS, f"Invalid params: {message}") from None
        except MCPError as exc:
            error = exc.error
            refused = error.code == INVALID_PARAMS and error.message == _SDK_REFUSAL
            if refused and not error.data and ctx.session.client_params is None:
                raise MCPError(INVALID_PARAMS, _NOT_INITIALIZED) from None
            raise
