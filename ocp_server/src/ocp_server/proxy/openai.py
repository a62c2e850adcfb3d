"""The OpenAI Chat Completions dialect: reading a request for a local model, answering in it
(JSON and `data:` chunks ending in `[DONE]`), its errors, and the usage a paid answer reports."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ocp_router.redact_names import redact_name_head
from ocp_server.proxy.chat import (
    ANY_JSON,
    TOOL_CALL_DEMANDED,
    BadRequest,
    Chat,
    ChatMessage,
    Event,
    ToolCall,
    Usage,
    check_model,
    check_stream_flag,
    check_token_limit,
    json_schema_of,
    local_tool_id,
    text_of,
    think_level,
    token_count,
)
from ocp_server.proxy.sampling import check_openai

NAME = "openai"
_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(
    status: int,
    message: str,
    kind: str | None = None,
    *,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """`param` and `code`: the field at fault and the problem, as OpenAI names them."""
    code = code or (kind if kind and kind != "invalid_request_error" else None)
    if status == 413:
        code = "request_too_large"
    return {
        "error": {
            "message": message,
            "type": _KINDS.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            ),
            "param": param,
            "code": code,
        }
    }


def stream_error(message: str, *, timed_out: bool = False) -> bytes:
    """How a failure after the first byte reaches the client: an `error` chunk (what OpenAI
    itself sends mid-stream; the SDK raises it), then the stream ends without `[DONE]`. A
    `server_error` whether or not it `timed_out` (OpenAI names no type of its own for that)."""
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return f"data: {json.dumps(body)}\n\n".encode()


def validate(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("body: expected a JSON object")
    check_model(body)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise BadRequest("messages: expected a non-empty list of messages")
    check_token_limit(body, "max_tokens")
    check_token_limit(body, "max_completion_tokens")
    check_stream_flag(body)
    check_openai(body)
    return body


def local_cannot(body: Mapping[str, Any]) -> str | None:
    """What the request asks of its answer that a local one lacks (one choice, no log
    probabilities, no response format followed, text only), or None: such a request goes to
    the paid tier, as its answer would be wrong in shape, not just in quality."""
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        return f"n={n} asks for {n} choices and a local answer has one"
    if body.get("logprobs") or body.get("top_logprobs"):
        return "log probabilities asked for and a local answer has none"
    fmt = body.get("response_format")
    if (
        isinstance(fmt, dict)
        and _json_format(fmt) is None
        and fmt.get("type") not in (None, "text")
    ):
        shown = redact_name_head(str(fmt.get("type")), 40)  # redacted whole, then cut
        return f"response_format {shown!r}, a shape a local model cannot be held to"
    modalities = body.get("modalities")
    if body.get("audio") or (isinstance(modalities, list) and set(modalities) - {"text"}):
        return "audio asked for and a local answer is text"
    if body.get("web_search_options") is not None:
        return "web search asked for (web_search_options) and a local model has none"
    for tool in body.get("tools") or ():
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind != "function":  # a custom tool (free text, a grammar): not translated
            shown = redact_name_head(str(kind), 40)  # redacted whole, then cut
            return f"a tool of type {shown!r}, which a local model is not offered"
    choice = body.get("tool_choice")
    if choice == "required" or (
        isinstance(choice, dict)
        and (choice.get("type") == "function" or choice.get("mode") == "required")
    ):
        return f"tool_choice {_shown_choice(choice)}: {TOOL_CALL_DEMANDED}"
    return None


def _shown_choice(choice: str | dict[str, Any]) -> str:
    if isinstance(choice, str):
        return repr(choice)
    return redact_name_head(f"{choice.get('type')!r}", 40)  # redacted whole, then cut


def credentials(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    if auth := headers.get("authorization"):
        out["authorization"] = auth
    for name in ("openai-organization", "openai-project"):
        if value := headers.get(name):
            out[name] = value
    return out


def env_credentials(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def effort_asked(body: Mapping[str, Any]) -> str | None:
    """The effort the client asked (validated: sampling.py), as its trace keeps it, or None."""
    effort = _effort(body)
    return effort if isinstance(effort, str) else None


def session_hint(body: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    user = body.get("user")
    return user if isinstance(user, str) and user else None


# ---- to a local model ----------------------------------------------------------------------
def _image(part: Mapping[str, Any]) -> str | None:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else None
    if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
        return url.split(";base64,", 1)[1]
    return None


def _stops(stop: Any) -> list[str]:
    """`stop`: one string or a list of them (anything else is not a stop sequence)."""
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []


def to_chat(body: Mapping[str, Any]) -> Chat:
    messages: list[ChatMessage] = []
    for i, raw in enumerate(body.get("messages") or ()):
        if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
            raise BadRequest(f"messages[{i}]: expected an object with a role")
        role = "system" if raw["role"] == "developer" else raw["role"]
        content = raw.get("content")
        message = ChatMessage(role, "")
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "text":
                    message.content += str(part.get("text", ""))
                elif part.get("type") == "image_url":
                    data = _image(part)
                    if data is not None:
                        message.images.append(data)
                    else:
                        message.content += "[image]"
        else:
            message.content = text_of(content)
        for call in raw.get("tool_calls") or ():
            function = call.get("function") or {} if isinstance(call, dict) else {}
            try:
                args = json.loads(function.get("arguments") or "{}")
            except ValueError:
                args = {}
            message.tool_calls.append(
                ToolCall(
                    str(call.get("id", "")),
                    str(function.get("name", "")),
                    args if isinstance(args, dict) else {},
                )
            )
        if role == "tool":
            message.tool_call_id = str(raw.get("tool_call_id", ""))
        messages.append(message)
    tools = [
        {
            "name": f["name"],
            "description": f.get("description", ""),
            "parameters": f.get("parameters") or {"type": "object", "properties": {}},
        }
        for t in body.get("tools") or ()
        if isinstance(t, dict) and isinstance(f := t.get("function"), dict) and "name" in f
    ]
    if body.get("tool_choice") == "none":  # no tool call may come back: none offered
        tools = []
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    temperature = body.get("temperature")
    return Chat(
        messages,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        temperature=float(temperature) if isinstance(temperature, int | float) else None,
        stop=_stops(body.get("stop")),
        tools=tools,
        json_format=_json_format(body.get("response_format")),
        think=asks_for_reasoning(body),
        thinks=_thinks(_effort(body)),
        effort=think_level(_effort(body)),
    )


def _effort(body: Mapping[str, Any]) -> Any:
    """`reasoning_effort`, else Ollama's `reasoning.effort` (both validated: sampling.py)."""
    effort = body.get("reasoning_effort")
    if effort is None and isinstance(body.get("reasoning"), dict):
        effort = body["reasoning"].get("effort")
    return effort


def _thinks(effort: Any) -> bool | None:
    """Whether the local model is asked to think (`Chat.thinks`): not for "none", yes for any
    other effort, nothing said without one."""
    return None if not isinstance(effort, str) else effort != "none"


def asks_for_reasoning(body: Mapping[str, Any]) -> bool:
    """Whether the client asked for reasoning: `reasoning_effort` (or Ollama's
    `reasoning.effort`) set to anything but "none"."""
    effort = _effort(body)
    return isinstance(effort, str) and effort != "none"


def drop_reasoning(body: dict[str, Any]) -> int:
    """Take `reasoning` (the field a local answer's thinking came in, which clients resend in
    the assistant message) out of the assistant messages of `body`, in place; how many there
    were. A chat message has no such field and strict providers refuse unknown ones."""
    dropped = 0
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "assistant":
            dropped += message.pop("reasoning", None) is not None
    return dropped


def _json_format(fmt: Any) -> dict[str, Any] | str | None:
    """What a response_format asks of the answer's shape, as Chat.json_format holds it."""
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return ANY_JSON
    return json_schema_of(fmt)


# ---- from a local model --------------------------------------------------------------------
def _usage(usage: Usage) -> dict[str, Any]:
    """As OpenAI reports it, with the breakdowns clients read for caching and reasoning
    (Continue, Cline, the AI SDK, LiteLLM: `prompt_tokens_details.cached_tokens`,
    `completion_tokens_details.reasoning_tokens`); a local answer has no audio and no
    predicted output."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


# A local answer is served at OpenAI's default tier, as a request that names none is.
SERVICE_TIER = "default"


def fingerprint(model: str) -> str:
    """The local answer's `system_fingerprint`, in OpenAI's shape (`fp_` and 10 hex digits):
    the backend configuration, here the local model, so a client that compares fingerprints
    (determinism checks, tracing's gen_ai.response.system_fingerprint) sees it change with
    the model."""
    return "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]


def _tool_calls(events: list[Event]) -> list[dict[str, Any]]:
    return [
        {
            "id": local_tool_id("call_"),
            "type": "function",
            "function": {"name": e.tool.name, "arguments": json.dumps(e.tool.arguments)},
        }
        for e in events
        if e.kind == "tool" and e.tool is not None
    ]


def _finish(done: Event) -> str:
    """OpenAI's wire does not name the stop sequence reached: "stop", as for any other end."""
    return "stop" if done.stop == "stop_sequence" else done.stop


def render_json(
    events: list[Event], model: str, completion_id: str, *, served: str
) -> dict[str, Any]:
    """The local answer as a chat completion naming `model` (the one asked for), its
    fingerprint the `served` model's."""
    done = next((e for e in events if e.kind == "done"), Event("done"))
    text = "".join(e.text for e in events if e.kind == "text")
    calls = _tool_calls(events)
    # OpenAI's content is null beside tool calls when the assistant wrote no text
    message: dict[str, Any] = {"role": "assistant", "content": None if calls and not text else text}
    if calls:
        message["tool_calls"] = calls
    # As OpenAI answers: the message has `"refusal": null` and `"annotations": []`, the choice
    # `"logprobs": null` (clients that read them find them, not a missing key).
    message |= {"refusal": None, "annotations": []}
    if thinking := "".join(e.text for e in events if e.kind == "thinking"):
        # OpenAI returns no reasoning text; Ollama's own field for it, which clients of
        # OpenAI-compatible servers read
        message["reasoning"] = thinking
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(done)}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": _usage(done.usage),
        "service_tier": SERVICE_TIER,
        "system_fingerprint": fingerprint(served),
    }


# A streamed tool call's arguments come in pieces of at most this many characters (OpenAI's
# come a token each; clients join them): some clients read the call's name from its first
# delta and only then its arguments, and a helper reports each piece as it arrives.
ARGUMENT_PIECE = 256


def argument_pieces(arguments: str, size: int = ARGUMENT_PIECE) -> list[str]:
    """`arguments` (JSON) cut in pieces of about `size` characters, never inside an escape
    (`\\n`, `\\u00e9`): a client parsing the arguments so far (the SDK's helper does) gets
    whole characters."""
    pieces: list[str] = []
    start = 0
    while start < len(arguments):
        end = min(start + size, len(arguments))
        # An escape is at most 6 characters: one a cut at `end` falls in starts 5 back.
        k = arguments.rfind("\\", max(start, end - 5), end)
        if k >= 0:
            j = k
            while j > start and arguments[j - 1] == "\\":
                j -= 1
            if (k - j) % 2 == 0:  # an odd run: the backslash at k begins an escape
                end = max(end, k + (6 if arguments[k + 1 : k + 2] == "u" else 2))
        pieces.append(arguments[start:end])
        start = end
    return pieces


async def render_stream(
    events: AsyncIterator[Event],
    model: str,
    completion_id: str,
    include_usage: bool,
    *,
    served: str,
) -> AsyncIterator[bytes]:
    """As `render_json`, streamed."""
    created = int(time.time())
    system_fingerprint = fingerprint(served)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        # every streamed choice has `"logprobs": null`, as OpenAI's do
        return frame([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])

    def frame(choices: list[dict[str, Any]], usage: Usage | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": SERVICE_TIER,
            "system_fingerprint": system_fingerprint,
            "choices": choices,
        }
        if usage is not None:
            body["usage"] = _usage(usage)
        elif include_usage:  # as OpenAI streams when asked: null on every chunk but the last
            body["usage"] = None
        return f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()

    # As OpenAI streams: the first delta has the role and `"refusal": null`, with content ""
    # before text and null beside the first call when the answer starts with a tool call. A
    # call comes as a delta with its index, id, type, name and arguments "", then the
    # arguments in pieces.
    first = True
    calls = 0
    async for e in events:
        if e.kind == "thinking" and e.text:
            if first:
                yield chunk({"role": "assistant", "content": "", "refusal": None})
                first = False
            yield chunk({"reasoning": e.text})  # Ollama's field (see render_json)
        elif e.kind == "text" and e.text:
            if first:
                yield chunk({"role": "assistant", "content": "", "refusal": None})
                first = False
            yield chunk({"content": e.text})
        elif e.kind == "tool" and e.tool is not None:
            call = {
                "index": calls,
                "id": local_tool_id("call_"),
                "type": "function",
                "function": {"name": e.tool.name, "arguments": ""},
            }
            if first:
                opening = {"role": "assistant", "content": None, "tool_calls": [call]}
                yield chunk(opening | {"refusal": None})
                first = False
            else:
                yield chunk({"tool_calls": [call]})
            for piece in argument_pieces(json.dumps(e.tool.arguments)):
                yield chunk({"tool_calls": [{"index": calls, "function": {"arguments": piece}}]})
            calls += 1
        elif e.kind == "done":
            if first:  # an empty answer
                yield chunk({"role": "assistant", "content": "", "refusal": None})
                first = False
            yield chunk({}, _finish(e))
            if include_usage:
                yield frame([], e.usage)
            yield b"data: [DONE]\n\n"
            # (no return: reading the events to their end frees the local connection)


# ---- a paid answer's usage -----------------------------------------------------------------
def usage_of_message(obj: Any) -> Usage:
    usage = obj.get("usage") if isinstance(obj, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return Usage(
        token_count(usage.get("prompt_tokens")),
        token_count(usage.get("completion_tokens")),
        token_count(cached),
    )


def usage_of_event(data: Any, usage: Usage) -> Usage:
    if isinstance(data, dict) and isinstance(data.get("usage"), dict):
        return usage_of_message(data)
    return usage


def ask_for_usage(body: dict[str, Any]) -> bool:
    """Ask a paid stream for its usage: OpenAI streams none unless `stream_options.include_usage`
    is true (the SDK's default leaves it out), and the trace then said 0 tokens and $0 for a
    paid answer, which no daily budget counted. True when the client had not asked: its
    stream is then relayed without the usage chunk (`unasked_usage`). Options that are not an
    object are left for the upstream to refuse."""
    options = body.get("stream_options")
    if options is None:
        options = {}
    if not isinstance(options, dict) or options.get("include_usage") is True:
        return False
    body["stream_options"] = {**options, "include_usage": True}
    return True


def refuses_stream_options(status: int, error: bytes) -> bool:
    """An upstream's answer saying it does not take `stream_options` (a 400 naming it: older
    Azure API versions, some OpenAI-compatible servers)."""
    return status == 400 and b"stream_options" in error


def unask_usage(body: dict[str, Any], options: Any) -> None:
    """Undo `ask_for_usage`: the client's own `options` (None: it sent none)."""
    if options is None:
        body.pop("stream_options", None)
    else:
        body["stream_options"] = options


def unasked_usage(line: bytes) -> bool:
    """Whether `line` is the usage chunk `ask_for_usage` asked for: its `choices` are empty,
    which a client that did not ask for it may index ([0]) and fail on."""
    if not line.startswith(b"data:") or b'"usage"' not in line or b"[]" not in line:
        return False
    try:
        data = json.loads(line[5:])
    except ValueError:
        return False
    return (
        isinstance(data, dict) and data.get("choices") == [] and isinstance(data.get("usage"), dict)
    )


def model_info(model: str) -> dict[str, Any]:
    """A model as `GET /v1/models/{model}` answers it."""
    return {"id": model, "object": "model", "created": 0, "owned_by": "ocp"}


def no_such_model(name: str) -> str:
    return f"The model '{name}' does not exist"  # the API's own words


def models_list(models: list[str]) -> dict[str, Any]:
    return {"object": "list", "data": [model_info(m) for m in models]}
