"""Reading SDK results in tests: each helper asserts the shape it reads, so a test that gets
another kind of block fails on that assertion instead of an AttributeError."""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic.types import Message, TextBlock
from mcp.types import CallToolResult, TextContent


def message_text(message: Message, index: int = 0) -> str:
    """The text of an Anthropic message's content block `index`, which must be a text block."""
    block = message.content[index]
    assert isinstance(block, TextBlock), block
    return block.text


def error_body(error: anthropic.APIStatusError) -> dict[str, Any]:
    """The decoded JSON body of an Anthropic SDK error (the SDK types it `object`)."""
    body = error.body
    assert isinstance(body, dict), body
    return body


def tool_text(result: CallToolResult, index: int = 0) -> str:
    """The text of an MCP tool result's content item `index`, which must be text."""
    content = result.content[index]
    assert isinstance(content, TextContent), content
    return content.text
