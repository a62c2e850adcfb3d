"""The Anthropic Messages dialect: reading a request for a local model, answering in it
(JSON and server-sent events), its errors, and the usage a paid answer reports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from ocp_router.redact_names import redact_name_head
from ocp_server.proxy.chat import (
    TOOL_CALL_DEMANDED,
    BadRequest,
    Chat,
    ChatMessage,
    Event,
    ToolCall,
    Usage,
    check_model,
    check_stream_flag,
    json_schema_of,
    local_tool_id,
    text_of,
    think_level,
    token_count,
)
from ocp_server.proxy.sampling import check_anthropic

NAME = "anthropic"
_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "stop_sequence": "stop_sequence",
}
# HTTP status -> the error type the API uses for it.
_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_body(
    status: int,
    message: str,
    kind: str | None = None,
    *,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """(`param` and `code` are OpenAI's: the field is named in the message here.)"""
    if kind is None or kind == "invalid_request_error":
        kind = _KINDS.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def stream_error(message: str, *, timed_out: bool = False) -> bytes:
    """The `error` event: how a failure after the first byte reaches the client. `timed_out`:
    the upstream (or the local model) ran out of time, which the API's error types name
    `timeout_error` (the SDK's GatewayTimeoutErrorObject); anything else is an `api_error`."""
    kind = "timeout_error" if timed_out else "api_error"
    data = json.dumps(error_body(500, message, kind))
    return f"event: error\ndata: {data}\n\n".encode()


def validate(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("body: expected a JSON object")
    check_model(body)
    if not isinstance(body.get("messages"), list):
        raise BadRequest("messages: expected a list of messages")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadRequest("max_tokens: expected a positive integer")
    check_stream_flag(body)
    check_anthropic(body)
    return body


def local_cannot(body: Mapping[str, Any]) -> str | None:
    """What the request asks of its answer that a local one lacks (a tool call demanded, a
    JSON schema followed), or None: such a request goes to the paid tier, as its answer would
    be wrong in shape, not just in quality. Tools themselves are the router's to judge."""
    for tool in body.get("tools") or ():
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in (None, "custom"):  # web_search, code_execution, bash, text_editor…
            name = redact_name_head(str(tool.get("name")), 40)  # redacted whole, then cut
            shown = redact_name_head(str(kind), 40)
            return (
                f"the tool {name!r} is Anthropic's own ({shown!r}: run on its servers, or "
                "defined by it), which a local model lacks"
            )
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return f"tool_choice {choice['type']!r}: {TOOL_CALL_DEMANDED}"
    for name, spec in _output_formats(body):
        if json_schema_of(spec) is None:
            return f"{name} asks for an answer shape a local model cannot be held to"
    return None


def _output_formats(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The structured-output requests a body holds, by the field's name: `output_config.format`
    and the structured outputs beta's `output_format`."""
    found = []
    config = body.get("output_config")
    if isinstance(config, dict) and config.get("format") is not None:
        found.append(("output_config.format", config["format"]))
    if body.get("output_format") is not None:
        found.append(("output_format", body["output_format"]))
    return found


def credentials(headers: Mapping[str, str]) -> dict[str, str]:
    """The client's own credential headers, as they came."""
    out = {}
    if key := headers.get("x-api-key"):
        out["x-api-key"] = key
    if auth := headers.get("authorization"):
        out["authorization"] = auth
    return out


def env_credentials(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def effort_asked(body: Mapping[str, Any]) -> str | None:
    """The effort the client asked (validated: sampling.py), as its trace keeps it, or None."""
    effort = _effort(body)
    return effort if isinstance(effort, str) else None


def session_hint(body: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        return str(metadata["user_id"])
    return headers.get("x-claude-code-session-id")


# A local answer's thinking block carries this `signature` (the field is required, and opaque
# to clients). The API verifies a signature passed back and refuses one it did not make (a
# 400, "Invalid `signature` in `thinking` block"): such blocks are taken out of a conversation
# before it goes to the paid tier (`drop_local_thinking`).
LOCAL_SIGNATURE = "ocp-local-thinking"


def asks_for_thinking(body: Mapping[str, Any]) -> bool:
    """Whether the client asked to see thinking: `thinking` enabled (a budget), adaptive or
    between tools, and not `display: "omitted"`."""
    config = body.get("thinking")
    if not isinstance(config, dict):
        return False
    on = config.get("type") in ("enabled", "adaptive", "between_tools")
    return on and config.get("display") != "omitted"


def drop_local_thinking(body: dict[str, Any]) -> int:
    """Take the thinking blocks of local answers (`LOCAL_SIGNATURE`) out of the assistant
    turns of `body`, in place; how many there were."""
    return drop_thinking(
        body, lambda b: b.get("type") == "thinking" and b.get("signature") == LOCAL_SIGNATURE
    )


def drop_thinking(body: dict[str, Any], unwanted: Callable[[dict[str, Any]], bool]) -> int:
    """Take the blocks `unwanted` says out of the assistant turns of `body`, in place; how
    many there were. A turn that was nothing else (a local answer cut at once by a stop
    sequence) goes with them, but for the last (the API refuses an empty message anywhere
    else, and joins the user turns around it)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    dropped = 0
    emptied: set[int] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        if not isinstance(content, list):
            continue
        kept = [b for b in content if not (isinstance(b, dict) and unwanted(b))]
        if len(kept) < len(content):
            dropped += len(content) - len(kept)
            message["content"] = kept
            if not kept and i < len(messages) - 1:
                emptied.add(i)
    if emptied:
        body["messages"] = [m for i, m in enumerate(messages) if i not in emptied]
    return dropped


# ---- to a local model ----------------------------------------------------------------------
def to_chat(body: Mapping[str, Any]) -> Chat:
    messages: list[ChatMessage] = []
    system = text_of(body.get("system"))
    if system:
        messages.append(ChatMessage("system", system))
    for i, raw in enumerate(body.get("messages") or ()):
        if not isinstance(raw, dict) or raw.get("role") not in ("user", "assistant"):
            raise BadRequest(f"messages[{i}]: expected a user or assistant message")
        role, content = raw["role"], raw.get("content")
        if isinstance(content, str):
            messages.append(ChatMessage(role, content))
            continue
        if not isinstance(content, list):
            raise BadRequest(f"messages[{i}].content: expected a string or a list of blocks")
        current = ChatMessage(role, "")
        results: list[ChatMessage] = []
        for block in content:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text":
                current.content += str(block.get("text", ""))
            elif kind == "image":
                source = block.get("source")
                if (
                    isinstance(source, dict)
                    and source.get("type") == "base64"
                    and isinstance(source.get("data"), str)
                ):
                    current.images.append(source["data"])
                else:
                    current.content += "[image]"
            elif kind == "tool_use":
                args = block.get("input")
                current.tool_calls.append(
                    ToolCall(
                        str(block.get("id", "")),
                        str(block.get("name", "")),
                        args if isinstance(args, dict) else {},
                    )
                )
            elif kind == "tool_result":
                results.append(
                    ChatMessage(
                        "tool",
                        text_of(block.get("content")),
                        tool_call_id=str(block.get("tool_use_id", "")),
                    )
                )
            elif kind == "document":
                current.content += "[document]"
            # thinking / redacted_thinking blocks mean nothing to another model
        messages.extend(results)
        if current.content or current.images or current.tool_calls:
            messages.append(current)
    choice = body.get("tool_choice")
    forbidden = isinstance(choice, dict) and choice.get("type") == "none"
    tools = [
        {
            "name": t["name"],
            "description": t.get("description", ""),
            "parameters": t["input_schema"],
        }
        for t in body.get("tools") or ()
        if isinstance(t, dict) and "name" in t and isinstance(t.get("input_schema"), dict)
    ]
    if forbidden:  # tool_choice none: no tool call may come back (Ollama has no tool_choice)
        tools = []
    temperature = body.get("temperature")
    thinks, effort, notes = _thinking_asked(body)
    return Chat(
        messages,
        max_tokens=body.get("max_tokens"),
        temperature=float(temperature) if isinstance(temperature, int | float) else None,
        tools=tools,
        watch=list(body.get("stop_sequences") or ()),  # (validated: strings)
        json_format=next((json_schema_of(spec) for _, spec in _output_formats(body)), None),
        think=asks_for_thinking(body),
        thinks=thinks,
        effort=effort,
        notes=notes,
    )


def _thinking_asked(body: Mapping[str, Any]) -> tuple[bool | None, str | None, tuple[str, ...]]:
    """Whether the local model is asked to think (`Chat.thinks`), at what level, and what of
    it is not sent. An effort without `thinking` is sent as the level (on Claude 5 models
    thinking is adaptive by default, the effort its depth); with thinking disabled it is not:
    the level is a local model's only effort setting, and it would turn thinking on."""
    config = body.get("thinking")
    kind = config.get("type") if isinstance(config, dict) else None
    effort = _effort(body)
    if kind == "disabled":
        notes = (
            (
                f"local: output_config.effort {effort!r} not sent: a local model's only effort "
                "setting is its thinking level, and thinking is disabled (sent as off)",
            )
            if effort is not None
            else ()
        )
        return False, None, notes
    return (True if kind is not None else None), think_level(effort), ()


def _effort(body: Mapping[str, Any]) -> Any:
    """`output_config.effort` (validated: sampling.py), or None."""
    config = body.get("output_config")
    return config.get("effort") if isinstance(config, dict) else None


# ---- from a local model --------------------------------------------------------------------
def _usage(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {"output_tokens": usage.output_tokens, "cache_creation_input_tokens": 0}
    return out | _input_tokens(usage) | _thinking_tokens(usage)


def _input_tokens(usage: Usage) -> dict[str, int]:
    """The prompt as the API counts it: `input_tokens` is the part not read from the cache,
    `cache_read_input_tokens` the part that was (a local OpenAI-compatible server's
    `cached_tokens`; Ollama reports none)."""
    cached = min(usage.cache_read_tokens, usage.input_tokens)
    return {"input_tokens": usage.input_tokens - cached, "cache_read_input_tokens": cached}


def _thinking_tokens(usage: Usage) -> dict[str, Any]:
    """The thinking's share of the output, as the API's `output_tokens_details` gives it,
    when the model thought (counted in `output_tokens` whether or not it was relayed)."""
    if not usage.reasoning_tokens:
        return {}
    return {"output_tokens_details": {"thinking_tokens": usage.reasoning_tokens}}


def render_json(events: list[Event], model: str, message_id: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if thinking := "".join(e.text for e in events if e.kind == "thinking"):
        content.append({"type": "thinking", "thinking": thinking, "signature": LOCAL_SIGNATURE})
    text = "".join(e.text for e in events if e.kind == "text")
    if text:
        content.append({"type": "text", "text": text})
    for e in events:
        if e.kind == "tool" and e.tool is not None:
            content.append(
                {
                    "type": "tool_use",
                    "id": local_tool_id("toolu_01", 22),
                    "name": e.tool.name,
                    "input": e.tool.arguments,
                }
            )
    done = next((e for e in events if e.kind == "done"), Event("done"))
    if not content:
        content.append({"type": "text", "text": ""})
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _STOP.get(done.stop, "end_turn"),
        "stop_sequence": done.stop_sequence,
        "usage": _usage(done.usage),
    }


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return _event(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return _event(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    )


def _block_stop(index: int) -> bytes:
    return _event("content_block_stop", {"type": "content_block_stop", "index": index})


async def render_stream(
    events: AsyncIterator[Event], model: str, message_id: str, input_tokens: int
) -> AsyncIterator[bytes]:
    """The Messages event stream for a local answer: message_start, one block per thinking
    run, text run or tool call, message_delta with the stop reason and usage, message_stop."""
    start = render_json([], model, message_id) | {"content": [], "stop_reason": None}
    start["usage"] = _usage(Usage(input_tokens, 1))
    yield _event("message_start", {"type": "message_start", "message": start})
    index, text_open, thinking_open = 0, False, False
    block: dict[str, Any]
    delta: dict[str, Any]
    async for e in events:
        if thinking_open and e.kind != "thinking":
            # the signature comes just before the block's stop, as the API sends it
            delta = {"type": "signature_delta", "signature": LOCAL_SIGNATURE}
            yield _block_delta(index, delta)
            yield _block_stop(index)
            index, thinking_open = index + 1, False
        if e.kind == "thinking" and e.text:
            if text_open:
                yield _block_stop(index)
                index, text_open = index + 1, False
            if not thinking_open:
                block = {"type": "thinking", "thinking": "", "signature": ""}
                yield _block_start(index, block)
                thinking_open = True
            delta = {"type": "thinking_delta", "thinking": e.text}
            yield _block_delta(index, delta)
        elif e.kind == "text" and e.text:
            if not text_open:
                block = {"type": "text", "text": ""}
                yield _block_start(index, block)
                text_open = True
            delta = {"type": "text_delta", "text": e.text}
            yield _block_delta(index, delta)
        elif e.kind == "tool" and e.tool is not None:
            if text_open:
                yield _block_stop(index)
                index, text_open = index + 1, False
            block = {
                "type": "tool_use",
                "id": local_tool_id("toolu_01", 22),
                "name": e.tool.name,
                "input": {},
            }
            delta = {"type": "input_json_delta", "partial_json": json.dumps(e.tool.arguments)}
            yield _block_start(index, block)
            yield _block_delta(index, delta)
            yield _block_stop(index)
            index += 1
        elif e.kind == "done":
            if text_open:
                yield _block_stop(index)
            delta = {"stop_reason": _STOP.get(e.stop, "end_turn"), "stop_sequence": e.stop_sequence}
            usage: dict[str, Any] = {"output_tokens": e.usage.output_tokens}
            if e.usage.input_tokens:  # the model's count, over message_start's estimate
                usage |= _input_tokens(e.usage)
            usage |= _thinking_tokens(e.usage)
            yield _event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
            yield _event("message_stop", {"type": "message_stop"})
            # (no return: reading the events to their end frees the local connection)


# ---- a paid answer's usage -----------------------------------------------------------------
def usage_of_message(obj: Any) -> Usage:
    usage = obj.get("usage") if isinstance(obj, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    read = token_count(usage.get("cache_read_input_tokens"))
    write = token_count(usage.get("cache_creation_input_tokens"))
    return Usage(
        token_count(usage.get("input_tokens")) + read + write,
        token_count(usage.get("output_tokens")),
        read,
        write,
    )


def usage_of_event(data: Any, usage: Usage) -> Usage:
    """Fold one streamed event into the usage so far: message_start carries the input side,
    message_delta the cumulative output."""
    if not isinstance(data, dict):
        return usage
    if data.get("type") == "message_start":
        return usage_of_message(data.get("message"))
    if data.get("type") == "message_delta" and isinstance(data.get("usage"), dict):
        out = token_count(data["usage"].get("output_tokens"))
        if out:
            return Usage(usage.input_tokens, out, usage.cache_read_tokens, usage.cache_write_tokens)
    return usage


_CREATED = "2026-01-01T00:00:00Z"  # not known of a model the proxy names: a fixed date


def model_info(model: str) -> dict[str, Any]:
    """A model as `GET /v1/models/{model_id}` answers it (the fields every model has)."""
    return {"type": "model", "id": model, "display_name": model, "created_at": _CREATED}


def no_such_model(name: str) -> str:
    return f"model: {name}"  # the API's own words for a model it does not have


def models_list(models: list[str]) -> dict[str, Any]:
    data = [model_info(m) for m in models]
    return {
        "data": data,
        "has_more": False,
        "first_id": models[0] if models else None,
        "last_id": models[-1] if models else None,
    }
