"""A tool's answer on the wire: `tool_result` gives its wire form, and `ToolCallsInWireForm`
hands that to the client without the SDK's second dump of it; `call_outcome` says how a call
ended, for the log."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, CallToolRequestParams, CallToolResult, TextContent
from mcp_types import methods as _methods
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from ocp_server.argument_errors import clip
from ocp_server.render import ToolAnswer, render

logger = logging.getLogger(__name__)


def call_outcome(result: CallToolResult | dict[str, Any]) -> str:
    """A tool call's end in a log line: answered, or the start of its error (redacted as the
    caller got it)."""
    if isinstance(result, dict) or not result.is_error:
        return "answered"
    text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
    return f"tool error ({clip(text.splitlines()[0] if text else '', 160)})"


def tool_result(out: BaseModel | ToolAnswer) -> dict[str, Any]:
    """A tool's answer, a `CallToolResult` in its wire form: its text rendering and its
    structured content. Not the model: the SDK validates every result against the protocol's
    schema and dumps it again anyway, and the model would be one more validation and dump of
    every text (a search's answer is 60 KB). A search comes in its wire form already."""
    if isinstance(out, ToolAnswer):
        texts, structured = (out.text, *out.more), out.structured
    else:
        texts, structured = (render(out),), out.model_dump(mode="json")
    return {
        "content": [{"type": "text", "text": text} for text in texts],
        "structuredContent": structured,
        # The model's defaults, on the wire as its dump puts them (a test keeps them equal).
        "isError": False,
        "resultType": "complete",
    }


@functools.cache
def _wire_order(version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of a tool's answer that `version` of the protocol has, and those of its text
    block, in the order the SDK's own result check writes them (it drops the others:
    `resultType` before 2026)."""
    empty = tool_result(ToolAnswer("", {}))
    dumped = _methods.serialize_server_result("tools/call", version, empty)
    return tuple(dumped), tuple(dumped["content"][0])


def as_sent(answer: dict[str, Any], version: str) -> dict[str, Any]:
    """A tool's answer (`tool_result`) as the SDK's result check would hand it on for
    `version`: its keys, and its text blocks' keys, in that check's order."""
    keys, block = _wire_order(version)
    answer = {**answer, "content": [{k: c[k] for k in block} for c in answer["content"]]}
    return {key: answer[key] for key in keys if key in answer}


@dataclass(frozen=True, slots=True)
class ToolCallsInWireForm:
    """`tools/call` on a handshake-era connection, answered with the tool's wire form as it
    is. After the handler, the SDK checks a result against the protocol's schema by dumping
    it again, and that dump rebuilds a search's whole structured content (0.06 of the 0.3 ms
    a call spends outside the search, warm; twice that with the caches cold). A tool's dict
    is already that dump (tool_result; a test holds each protocol version's answer to the
    SDK's, byte for byte); error models still go through the SDK's check. The request is
    checked as the SDK checks it; before `initialize`, and on 2026-era connections (whose
    results the SDK stamps), the SDK answers as usual."""

    call_tool: Callable[[ServerRequestContext[Any], CallToolRequestParams], Awaitable[Any]]

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        version = ctx.protocol_version
        if (
            ctx.method != "tools/call"
            or version not in HANDSHAKE_PROTOCOL_VERSIONS
            or ctx.session.client_params is None
        ):
            return await call_next(ctx)
        # The SDK's own request checks, in its order (a ValidationError is its INVALID_PARAMS).
        _methods.validate_client_request(ctx.method, version, ctx.params)
        params = CallToolRequestParams.model_validate(ctx.params or {}, by_name=False)
        result = await self.call_tool(ctx, params)
        if isinstance(result, dict):
            return as_sent(result, version)
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        try:
            return _methods.serialize_server_result("tools/call", version, dumped)
        except ValidationError:  # as the SDK answers a handler's invalid result
            logger.exception("handler for 'tools/call' returned an invalid result")
            raise MCPError(INTERNAL_ERROR, "Handler returned an invalid result") from None
