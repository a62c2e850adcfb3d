"""Reading a local model's streamed answer into `Event`s: Ollama's NDJSON lines and an
OpenAI-compatible server's `data:` chunks.

The shapes are checked, not trusted: a local server (or a model writing its own tool-call
JSON) can send a tool call without a name, arguments that are not JSON (NaN and Infinity
included, which Python's json reads), a list where an object belongs. Each is a `BadAnswer`
naming what was wrong, which the caller treats as any other local failure. Two near misses
are read as meant: tool-call arguments as an object where OpenAI sends a JSON string, or as a
JSON string where Ollama sends an object.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from ocp_router.backends.reasoning import ThinkTags, reasoning_text, reasoning_tokens
from ocp_server.proxy.chat import Event, ToolCall, Usage, token_count


class BadAnswer(Exception):
    """The local answer cannot be used: not in its API's shape (the message says where), or an
    error the server reported inside its stream (the message as sent)."""


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadAnswer(f"{what} that is not JSON") from exc


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadAnswer(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    """A list, or [] for an absent field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadAnswer(f"{what} is not a list")
    return value


def _text(value: Any, what: str) -> str:
    """A string, or "" for an absent field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadAnswer(f"{what} is not a string")
    return value


def _tool_call(call_id: str, name: str, arguments: Any) -> ToolCall:
    if not name:
        raise BadAnswer("a tool call without a name")
    if isinstance(arguments, str):
        arguments = _json(arguments, f"tool call {name!r}: arguments") if arguments else {}
    elif arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise BadAnswer(f"tool call {name!r}: the arguments are not a JSON object")
    try:  # Python's json reads NaN and Infinity, which the client's JSON parser would refuse
        json.dumps(arguments, allow_nan=False)
    except (ValueError, RecursionError) as exc:
        raise BadAnswer(f"tool call {name!r}: arguments that are not JSON ({exc})") from exc
    # the local server's own id, or none: the client's dialect gives each call its own
    return ToolCall(call_id, name, arguments)


async def ollama_events(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """Ollama's `/api/chat` stream. Raises BadAnswer."""
    # Read to the end even after `done`: a response read to its end returns its connection
    # to the pool; one abandoned early is closed (a new connection per request).
    calls = done = False
    thought: list[str] = []
    async for line in lines:
        if done or not line.strip():
            continue
        obj = _object(_json(line, "a line"), "a line")
        if "error" in obj:
            raise BadAnswer(str(obj["error"]))
        message = _object(obj.get("message") or {}, "`message`")
        if thinking := _text(message.get("thinking"), "`message.thinking`"):
            thought.append(thinking)
            yield Event("thinking", text=thinking)
        if text := _text(message.get("content"), "`message.content`"):
            yield Event("text", text=text)
        for call in _list(message.get("tool_calls"), "`message.tool_calls`"):
            call = _object(call, "a tool call")
            function = _object(call.get("function") or {}, "a tool call's function")
            name = _text(function.get("name"), "a tool call's name")
            calls = True
            call_id = call.get("id")
            yield Event(
                "tool",
                tool=_tool_call(
                    call_id if isinstance(call_id, str) else "", name, function.get("arguments")
                ),
            )
        if obj.get("done"):
            reason = "length" if obj.get("done_reason") == "length" else "stop"
            usage = Usage(
                token_count(obj.get("prompt_eval_count")), token_count(obj.get("eval_count"))
            )
            usage = _with_thinking(usage, thought)
            yield Event("done", stop="tool_calls" if calls else reason, usage=usage)
            done = True
    if not done:
        raise BadAnswer("the stream ended before `done`")


async def openai_events(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """An OpenAI-compatible `/chat/completions` stream. Raises BadAnswer."""
    stop: str | None = None
    usage = Usage()
    thought: list[str] = []
    pending: dict[int, dict[str, Any]] = {}  # tool calls arrive in pieces, by index
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            continue  # read on to the end: the connection then goes back to the pool
        obj = _object(_json(data, "a chunk"), "a chunk")
        if "error" in obj:
            error = obj["error"]
            raise BadAnswer(str(error.get("message") if isinstance(error, dict) else error))
        if isinstance(obj.get("usage"), dict):
            usage = _openai_usage(obj["usage"])
        for item in _list(obj.get("choices"), "`choices`"):
            choice = _object(item, "a choice")
            delta = _object(choice.get("delta") or {}, "a choice's delta")
            if thinking := _reasoning(delta):
                thought.append(thinking)
                yield Event("thinking", text=thinking)
            if text := _text(delta.get("content"), "`delta.content`"):
                yield Event("text", text=text)
            for call in _list(delta.get("tool_calls"), "`delta.tool_calls`"):
                _add_piece(pending, _object(call, "a tool call"))
            if choice.get("finish_reason"):
                stop = str(choice["finish_reason"])
    if stop is None:
        raise BadAnswer("the stream ended before it finished")
    for slot in pending.values():
        yield Event("tool", tool=_tool_call(slot["id"], slot["name"], slot["arguments"]))
    reason = "tool_calls" if pending else ("length" if stop == "length" else "stop")
    yield Event("done", stop=reason, usage=_with_thinking(usage, thought))


async def think_tags(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """`events` with a `<think>…</think>` block at the start of the answer's text as thinking
    (a model whose template the server does not parse, llama.cpp with `--reasoning-format
    none`), its tags cut anywhere by the stream's pieces (`ThinkTags`, the router backends'
    rule), and counted in the `done` usage as theirs is. Thinking sent in its own field leaves
    the text as it is, as the backends read it."""
    tags = ThinkTags()
    thought: list[str] = []
    fielded = False  # thinking came in the server's own field
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if event.kind == "text" and not fielded:
                answer, thinking = tags.feed(event.text)
                if thinking:
                    thought.append(thinking)
                    yield Event("thinking", text=thinking)
                if answer:
                    yield Event("text", text=answer)
                continue
            fielded = fielded or event.kind == "thinking"
            if held := tags.end():  # a block never closed, or blanks, before what follows
                yield Event("text", text=held)
            if event.kind == "done" and thought:
                event = replace(event, usage=_with_thinking(event.usage, thought))
            yield event


def _reasoning(delta: dict[str, Any]) -> str:
    """A delta's thinking (the router library's reading, shared with its OpenAI backend)."""
    try:
        return reasoning_text(delta, "delta")
    except ValueError as exc:
        raise BadAnswer(str(exc)) from exc


def _with_thinking(usage: Usage, thought: list[str]) -> Usage:
    """`usage` with its reasoning tokens: the server's own count, else (Ollama counts thinking
    in `eval_count` without saying how much) OCP's estimate of the thinking it sent, at most
    the output tokens."""
    counted = reasoning_tokens(usage.reasoning_tokens, "".join(thought), usage.output_tokens)
    return replace(usage, reasoning_tokens=counted)


def _detail(usage: dict[str, Any], details: str, field: str) -> int:
    part = usage.get(details)
    return token_count(part.get(field)) if isinstance(part, dict) else 0


def _openai_usage(u: dict[str, Any]) -> Usage:
    """An OpenAI-compatible server's usage, with the cached prompt tokens and the reasoning
    tokens it reports (vLLM, llama.cpp, LM Studio may; 0 when it does not)."""
    return Usage(
        token_count(u.get("prompt_tokens")),
        token_count(u.get("completion_tokens")),
        cache_read_tokens=_detail(u, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens=_detail(u, "completion_tokens_details", "reasoning_tokens"),
    )


def _add_piece(pending: dict[int, dict[str, Any]], call: dict[str, Any]) -> None:
    """One piece of a streamed tool call: its id and name come once, its arguments (a JSON
    string) in pieces, all under the call's `index`."""
    index = call.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int | None):
        raise BadAnswer("a tool call's index is not a number")
    slot = pending.setdefault(index or 0, {"id": "", "name": "", "arguments": ""})
    function = _object(call.get("function") or {}, "a tool call's function")
    slot["id"] = _text(call.get("id"), "a tool call's id") or slot["id"]
    slot["name"] += _text(function.get("name"), "a tool call's name")
    arguments, so_far = function.get("arguments"), slot["arguments"]
    if isinstance(arguments, dict) and so_far == "":
        slot["arguments"] = arguments  # the whole object at once: taken as it is
    elif isinstance(so_far, str):
        slot["arguments"] = so_far + _text(arguments, "a tool call's arguments")
    elif arguments is not None:
        raise BadAnswer("a tool call's arguments came as an object, then in more pieces")
