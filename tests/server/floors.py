"""What the floor tests of the MCP server share: a request phase 1 routes paid, one it routes
locally, and a route in a conversation through `ocp_model_route`."""

from __future__ import annotations

from typing import Any

HARD = "design the architecture of our payment service: sharding, failover"
EASY = "rename the variable tmp to buffer"


async def routed(client: Any, request: str, session: str) -> dict[str, Any]:
    """The trace of `request` routed in conversation `session` (no workspace context)."""
    out = await client.call_tool(
        "ocp_model_route", {"request": request, "session_id": session, "max_context_tokens": 0}
    )
    assert not out.is_error and out.structured_content is not None
    trace: dict[str, Any] = out.structured_content["trace"]
    return trace
