"""Conversations as agents send them, shared by the tests of parse_payload and chat_messages."""

from __future__ import annotations

from typing import Any

OPENAI_CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "developer", "content": [{"type": "text", "text": "Answer briefly."}]},
    {"role": "user", "content": "what does the regex ^a+$ match?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "search_docs", "arguments": '{"q": "regex anchors"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "Anchors: ^ start, $ end. " * 20},
    {"role": "assistant", "content": "One or more 'a' characters and nothing else."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "and the one in this screenshot?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    },
]
