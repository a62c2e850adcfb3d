"""The local tier: a `Chat` sent to Ollama's `/api/chat` or to an OpenAI-compatible local
server's `/chat/completions`, always streamed, read back as `Event`s.

Every failure is a `LocalFailed`: before the first event the proxy escalates to the paid tier;
after it the client's dialect reports the error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from ocp_server.proxy.chat import Chat, Event, ToolCall, Usage


class LocalFailed(Exception):
    """The local model could not answer (down, an HTTP error, an error in the stream, a
    broken body, an empty answer). `str()` names the backend and model ("ollama llama3.2:
    HTTP 404 ..."); `detail` is the failure alone, for where the backend and model are
    already named (an attempt's error)."""

    def __init__(self, target: LocalTarget, detail: str) -> None:
        super().__init__(f"{target.kind} {target.model}: {detail}")
        self.detail = detail


@dataclass(frozen=True, slots=True)
class LocalTarget:
    kind: str  # ollama | openai
    base_url: str
    model: str
    timeout: float


def _tool_id() -> str:
    return f"toolu_ocp{uuid.uuid4().hex[:20]}"


def _ollama_body(chat: Chat, model: str) -> dict[str, Any]:
    names = {c.id: c.name for m in chat.messages for c in m.tool_calls}
    messages = []
    for m in chat.messages:
        out: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.images:
            out["images"] = m.images
        if m.tool_calls:
            out["tool_calls"] = [
                {"function": {"name": c.name, "arguments": c.arguments}} for c in m.tool_calls
            ]
        if m.role == "tool" and (name := names.get(m.tool_call_id or "")):
            out["tool_name"] = name
        messages.append(out)
    options: dict[str, Any] = {}
    if chat.max_tokens:
        options["num_predict"] = chat.max_tokens
    if chat.temperature is not None:
        options["temperature"] = chat.temperature
    if chat.stop:
        options["stop"] = chat.stop
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
    if options:
        body["options"] = options
    if chat.tools:
        body["tools"] = [{"type": "function", "function": t} for t in chat.tools]
    return body


def _openai_body(chat: Chat, model: str) -> dict[str, Any]:
    messages = []
    for m in chat.messages:
        out: dict[str, Any] = {"role": m.role}
        if m.images:
            out["content"] = [{"type": "text", "text": m.content}] + [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}
                for data in m.images
            ]
        else:
            out["content"] = m.content
        if m.tool_calls:
            out["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                }
                for c in m.tool_calls
            ]
        if m.role == "tool":
            out["tool_call_id"] = m.tool_call_id or ""
        messages.append(out)
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if chat.max_tokens:
        body["max_tokens"] = chat.max_tokens
    if chat.temperature is not None:
        body["temperature"] = chat.temperature
    if chat.stop:
        body["stop"] = chat.stop
    if chat.tools:
        body["tools"] = [{"type": "function", "function": t} for t in chat.tools]
    return body


async def stream_local(
    client: httpx.AsyncClient, target: LocalTarget, chat: Chat
) -> AsyncGenerator[Event, None]:
    """The local answer as events, ending with exactly one `done`. Raises `LocalFailed`."""
    if target.kind == "ollama":
        url = target.base_url.rstrip("/") + "/api/chat"
        body = _ollama_body(chat, target.model)
        parse = _ollama_events
    else:
        url = target.base_url.rstrip("/") + "/chat/completions"
        body = _openai_body(chat, target.model)
        parse = _openai_events
    timeout = httpx.Timeout(target.timeout, connect=min(target.timeout, 5.0))
    try:
        async with client.stream("POST", url, json=body, timeout=timeout) as response:
            if response.status_code != 200:
                text = (await response.aread()).decode("utf-8", "replace")[:300]
                raise LocalFailed(target, f"HTTP {response.status_code} {text}")
            async for event in parse(response.aiter_lines(), target):
                yield event
    except httpx.HTTPError as exc:
        raise LocalFailed(target, f"{type(exc).__name__}: {exc}") from exc


async def _ollama_events(lines: AsyncIterator[str], target: LocalTarget) -> AsyncIterator[Event]:
    # Read to the end even after `done`: a response read to its end returns its connection
    # to the pool; one abandoned early is closed (a new connection per request).
    calls = done = False
    async for line in lines:
        if done or not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise LocalFailed(target, "a line that is not JSON") from exc
        if not isinstance(obj, dict):
            raise LocalFailed(target, "a line that is not an object")
        if "error" in obj:
            raise LocalFailed(target, str(obj["error"]))
        message = obj.get("message") or {}
        if text := message.get("content"):
            yield Event("text", text=str(text))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            args = function.get("arguments")
            calls = True
            yield Event(
                "tool",
                tool=ToolCall(
                    str(call.get("id") or _tool_id()),
                    str(function.get("name", "")),
                    args if isinstance(args, dict) else {},
                ),
            )
        if obj.get("done"):
            reason = "length" if obj.get("done_reason") == "length" else "stop"
            usage = Usage(int(obj.get("prompt_eval_count") or 0), int(obj.get("eval_count") or 0))
            yield Event("done", stop="tool_calls" if calls else reason, usage=usage)
            done = True
    if not done:
        raise LocalFailed(target, "the stream ended before `done`")


async def _openai_events(lines: AsyncIterator[str], target: LocalTarget) -> AsyncIterator[Event]:
    stop: str | None = None
    usage = Usage()
    pending: dict[int, dict[str, str]] = {}  # tool calls arrive in pieces, by index
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            continue  # read on to the end: the connection then goes back to the pool
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise LocalFailed(target, "a chunk that is not JSON") from exc
        if not isinstance(obj, dict):
            raise LocalFailed(target, "a chunk that is not an object")
        if "error" in obj:
            error = obj["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise LocalFailed(target, str(message))
        if isinstance(obj.get("usage"), dict):
            u = obj["usage"]
            usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            if text := delta.get("content"):
                yield Event("text", text=str(text))
            for call in delta.get("tool_calls") or ():
                slot = pending.setdefault(
                    int(call.get("index") or 0), {"id": "", "name": "", "a": ""}
                )
                function = call.get("function") or {}
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] += function.get("name") or ""
                slot["a"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                stop = choice["finish_reason"]
    if stop is None:
        raise LocalFailed(target, "the stream ended before it finished")
    for slot in pending.values():
        try:
            args = json.loads(slot["a"] or "{}")
        except ValueError:
            args = {}
        yield Event(
            "tool",
            tool=ToolCall(
                slot["id"] or _tool_id(), slot["name"], args if isinstance(args, dict) else {}
            ),
        )
    reason = "tool_calls" if pending else ("length" if stop == "length" else "stop")
    yield Event("done", stop=reason, usage=usage)
