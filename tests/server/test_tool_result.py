"""A tool's answer is handed to the SDK in its wire form (a dict, not the CallToolResult
model): what reaches the client must be what the model gave, on every protocol version, and
its structured content must match the output schema the tool advertises."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs; the SDK depends on it
import mcp_types.version as versions
import pytest
from mcp.types import CallToolResult, TextContent
from mcp_types.methods import serialize_server_result

import ocp_wire as wire
from ocp_server.render import render
from ocp_server.settings import ServerSettings
from ocp_server.tool_answers import tool_result
from ocp_server.tool_table import list_tools_result

VERSIONS = (*versions.HANDSHAKE_PROTOCOL_VERSIONS, *versions.MODERN_PROTOCOL_VERSIONS)


def search_result(redacted: int = 0, note: str | None = None) -> wire.SearchResult:
    hit = wire.SearchHit(
        citation="src/naïve.py:3-9",
        path="src/naïve.py",
        start_line=3,
        end_line=9,
        symbol="verify_token",
        kind="function",
        scope=None,
        language="python",
        score=0.8125,
        matched_terms=["verify", "token"],
        truncated=False,
        text='def verify_token(token: str) -> bool:\n    """Vérifie → ✓"""\n    return True\n',
    )
    index = wire.IndexState(
        workspace="/w",
        files=3,
        chunks=9,
        last_update=None,
        building=False,
        stale=False,
        indexer=True,
    )
    return wire.SearchResult(
        query="verify token", results=[hit], index=index, note=note, redacted=redacted
    )


def as_model(out: wire.SearchResult) -> dict[str, Any]:
    """The wire form the CallToolResult model gives (the SDK's dump of a handler's model)."""
    model = CallToolResult(
        content=[TextContent(type="text", text=render(out))],
        structured_content=out.model_dump(mode="json"),
    )
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_tool_answer_reaches_the_wire_as_the_call_tool_result_model_would(version: str) -> None:
    for out in (search_result(), search_result(redacted=2, note="the index is stale")):
        assert tool_result(out) == as_model(out)
        fast = serialize_server_result("tools/call", version, tool_result(out))
        assert fast == serialize_server_result("tools/call", version, as_model(out))
        assert fast["content"] == [{"type": "text", "text": render(out)}]
        assert fast["structuredContent"] == out.model_dump(mode="json")
        assert fast["isError"] is False


def test_the_structured_content_matches_the_advertised_output_schema() -> None:
    tools = {t.name: t for t in list_tools_result(ServerSettings()).tools}
    schema = tools[wire.SEARCH.name].output_schema
    assert schema is not None
    structured = tool_result(search_result())["structuredContent"]
    jsonschema.validate(structured, schema)
    CallToolResult.model_validate(tool_result(search_result()))
