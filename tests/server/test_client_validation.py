"""ocp_client checks OCP's structured results with the wire models instead of the SDK's
jsonschema pass (same verdict, a fortieth of the cost); other tools keep the SDK's check."""

from __future__ import annotations

import anyio
import pytest
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, TextContent

from ocp_client.client import _Session


async def test_a_result_that_breaks_the_wire_model_is_rejected_and_a_good_one_passes() -> None:
    send, sent = anyio.create_memory_object_stream[SessionMessage](1)
    to_client, receive = anyio.create_memory_object_stream[SessionMessage | Exception](1)
    session = _Session(receive, send)
    good = CallToolResult(
        content=[TextContent(type="text", text="ok")],
        structured_content={
            "session_id": "s",
            "saved": {},
            "decision_ids": [],
            "note_ids": [],
            "open_item_ids": [],
            "citations": [],
            "suggested": [],
            "merged": [],
            "forgotten": [],
            "warnings": [],
        },
    )
    await session.validate_tool_result("ocp_result_save", good)
    await session.validate_tool_result("ocp.result.save", good)
    bad = good.model_copy(update={"structured_content": {"session_id": "s"}})
    with pytest.raises(RuntimeError, match="Invalid structured content returned by tool"):
        await session.validate_tool_result("ocp_result_save", bad)
    for stream in (send, sent, to_client, receive):
        await stream.aclose()
