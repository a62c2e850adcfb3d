"""Each dialect as the proxy's clients speak it: a prompt the router keeps local (SIMPLE) and
one it sends to the paid tier (HARD), each dialect's headers and request bodies (as dicts and as
the SDKs' typed arguments), the content types of answers, the events of a streamed answer, the
proxy's answer to an Anthropic body, and the Anthropic SDK's message, asked for whole or
streamed."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
from anthropic.types import Message, ToolParam
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

from tests.proxy.conftest import RunningProxy

SIMPLE = "what is 2 + 2?"
HARD = (
    "Design a distributed consensus protocol refactor across the whole codebase with a "
    "migration plan, a security review and a performance analysis of the architecture"
)


TOOLS: list[ToolParam] = [
    {
        "name": "read_file",
        "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
    }
]


ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
OPENAI_HEADERS = {"authorization": "Bearer sk-openai"}
# Content types of streamed answers: Anthropic's and OpenAI's server-sent events, Ollama's lines.
SSE = "text/event-stream"
NDJSON = "application/x-ndjson"
JSON = "application/json"


def messages_body(
    model: str = "claude-opus-5-5", text: str = HARD, **extra: object
) -> dict[str, object]:
    return {
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": text}],
    } | extra


# The default `messages_body()` and `chat_body()` requests, as the SDKs' typed keyword arguments.
SDK_MESSAGE: MessageCreateParamsNonStreaming = {
    "model": "claude-opus-5-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": HARD}],
}
SDK_CHAT: CompletionCreateParamsNonStreaming = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": HARD}],
}


async def posted_messages(
    proxy: RunningProxy,
    body: dict[str, object],
    headers: dict[str, str] = ANTHROPIC_HEADERS,
    status: int = 200,
) -> httpx.Response:
    """The proxy's answer, of status `status`, to `body` sent to its /v1/messages."""
    async with httpx.AsyncClient(base_url=proxy.url, timeout=20) as http:
        answered = await http.post("/v1/messages", json=body, headers=headers)
    assert answered.status_code == status, answered.text
    return answered


def chat_body(text: str = HARD, **extra: object) -> dict[str, object]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]} | extra


# Where each dialect's clients post a request: the proxy, and the paid upstream it relays to.
PATHS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions"}


def request_in(
    dialect: str, text: str = HARD, **extra: object
) -> tuple[str, dict[str, object], dict[str, str]]:
    """The path, body and headers of a request in `dialect` ("anthropic" or "openai")."""
    if dialect == "anthropic":
        return PATHS[dialect], messages_body(text=text) | extra, ANTHROPIC_HEADERS
    return PATHS[dialect], chat_body(text, **extra), OPENAI_HEADERS


def post(proxy: RunningProxy, path: str, body: dict[str, Any]) -> httpx.Response:
    """`body` posted to `path` with its dialect's headers (Anthropic's for /v1/messages)."""
    headers = ANTHROPIC_HEADERS if path.startswith("/v1/messages") else OPENAI_HEADERS
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        return http.post(path, json=body, headers=headers)


def whole_and_streamed(
    proxy: RunningProxy, path: str, headers: dict[str, str], body: dict[str, Any]
) -> list[httpx.Response]:
    """The proxy's answers to `body` at `path`, asked whole and then streamed."""
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        return [
            http.post(path, json=body | {"stream": stream}, headers=headers)
            for stream in (False, True)
        ]


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) of each server-sent event."""
    out = []
    for block in text.strip().split("\n\n"):
        name, data = None, ""
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
        out.append((name, data))
    return out


def anthropic_sse(ending: str) -> list[bytes]:
    """A whole Messages stream (one text delta, usage 5 in / 7 out), each line ended with
    `ending`, one event per chunk."""
    message: dict[str, Any] = {
        "id": "msg_cr",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-5-5",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "over CR"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 7},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    e = ending
    return [f"event: {k}{e}data: {json.dumps(v)}{e}{e}".encode() for k, v in events]


def sdk_message(proxy: RunningProxy, stream: bool, **request: Any) -> tuple[Message, str | None]:
    """The Anthropic SDK's message for `request`, streamed or not, and the request id the SDK
    read from its answer's headers."""
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with client:
        if stream:
            with client.messages.stream(**request) as events:
                return events.get_final_message(), events.request_id
        message = client.messages.create(**request)
        return message, message._request_id
