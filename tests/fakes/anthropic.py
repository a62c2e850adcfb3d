"""A fake Anthropic Messages API (``/v1/messages``, streaming SSE, ``count_tokens``).

Faithful points: auth by ``x-api-key`` (or ``Authorization: Bearer``) -> 401
``authentication_error``; the ``anthropic-version`` header is required; errors use
``{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}``; 429 carries
``retry-after``; the request is validated like the real API (required fields, roles,
``tool_use``/``tool_result`` pairing, tool-name pattern, sampling parameters rejected on 5.x
models); ``max_tokens`` and ``stop_sequences`` really cut the answer; prompt caching is
simulated from ``cache_control`` breakpoints (first call writes, an identical prefix reads).

Scripted mode (for driving a real client such as Claude Code): ``script`` is a list of steps,
each consumed by one ``POST /v1/messages``. A step (and a dict returned by ``reply``) may hold:

* ``"text"``: answer text (``stop_reason`` ``end_turn``),
* ``"tool_use"``: ``{"name", "input", "id"?}`` or a list of them (``stop_reason`` ``tool_use``;
  the input is streamed as ``input_json_delta``),
* ``"thinking"``: a thinking block placed first,
* ``"stop_reason"``: override (``"refusal"``, ``"max_tokens"``, ``"pause_turn"``...),
* ``"usage"``: dict merged over the computed usage.

When the script is exhausted, ``reply`` answers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ._http import FakeServer, Request, Response, StreamResponse, json_response
from ._text import count_tokens, cut_at_stop, json_chunks, pieces, snippet, truncate_tokens

__all__ = ["FakeAnthropic"]

Reply = (
    str | dict[str, Any] | Callable[[list[dict[str, Any]], dict[str, Any]], "str | dict[str, Any]"]
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ERROR_MESSAGES = {
    400: "Invalid request",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "Not found",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    504: "Request timed out",
    529: "Overloaded",
}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_NEW_GEN = re.compile(r"^claude-(?:sonnet|opus|haiku|fable|mythos)-5(?:$|[-.])")
_DEFAULT_MODELS = ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"]


def _text_of(content: Any) -> str:
    """All text a content value carries (strings, text blocks, tool results...)."""
    if isinstance(content, str):
        return content
    out: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text":
                out.append(str(block.get("text", "")))
            elif kind == "tool_result":
                out.append(_text_of(block.get("content", "")))
            elif kind == "tool_use":
                out.append(f"{block.get('name', '')} {json.dumps(block.get('input', {}))}")
            elif kind == "thinking":
                out.append(str(block.get("thinking", "")))
            elif kind in ("image", "document"):
                out.append("[media]")
    return " ".join(out)


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


class FakeAnthropic(FakeServer):
    """Fake Anthropic API.

    ``reply``: a string, a dict, or ``fn(messages, body) -> str | dict`` (dict = a script step).
    Default: ``"claude answer: <first 40 chars of the last user text>"``.
    ``api_key``: the accepted key (``None`` disables the auth check).
    ``script``: list of steps (see the module docstring).
    ``models``: accepted model ids (``None`` = any id; an unknown id is a 404).
    ``strict_sampling``: reject ``temperature``/``top_p``/``top_k`` and manual thinking
    budgets on 5.x models, as the real API does.
    ``cache_min_tokens``: shortest cacheable prefix (the real API needs 1024+; 0 keeps tests small).
    ``retry_after``: the ``retry-after`` header value sent with a 429.
    ``stream_always``: answer every message as an event stream, even a non-streaming call
    (as some misconfigured proxies do).
    """

    def __init__(
        self,
        reply: Reply | None = None,
        api_key: str | None = "sk-ant-test",
        *,
        script: list[dict[str, Any]] | None = None,
        models: list[str] | None = None,
        strict_sampling: bool = True,
        require_version: bool = True,
        cache_min_tokens: int = 0,
        retry_after: str = "1",
        delay: float = 0.0,
        stream_delay: float = 0.0,
    ) -> None:
        super().__init__(delay=delay, stream_delay=stream_delay)
        self.reply = reply
        self.api_key = api_key
        self.script: list[dict[str, Any]] = list(script or [])
        self.models = models
        self.strict_sampling = strict_sampling
        self.require_version = require_version
        self.cache_min_tokens = cache_min_tokens
        self.retry_after = retry_after
        self.stream_always = False
        self._cache: set[str] = set()
        self._ids = itertools.count(1)
        self._responses: list[dict[str, Any]] = []
        # the tool calls this fake answered with: the API puts its own (signed) thinking block
        # before them when thinking is on, which this fake does not write, so a step of its own
        # is not held to the thinking-turn rule (a real client, Claude Code, resends it as is)
        self._own_tool_ids: set[str] = set()

    # -- scripted mode helpers -------------------------------------------------------------------

    def add_steps(self, *steps: dict[str, Any]) -> None:
        with self._lock:
            self.script.extend(steps)

    @property
    def script_remaining(self) -> int:
        with self._lock:
            return len(self.script)

    @property
    def responses(self) -> list[dict[str, Any]]:
        """Every message produced for ``/v1/messages``, in order (the non-streaming shape)."""
        with self._lock:
            return list(self._responses)

    def message_requests(self) -> list[dict[str, Any]]:
        """Bodies of every ``POST /v1/messages`` received."""
        return [r.body for r in self.requests_to("/v1/messages", "POST")]

    def tool_results(self, index: int = -1) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the last user message of a ``/v1/messages`` request."""
        bodies = self.message_requests()
        if not bodies:
            return []
        messages = bodies[index].get("messages") or []
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if not users:
            return []
        return [b for b in _blocks(users[-1].get("content")) if b.get("type") == "tool_result"]

    # -- errors ----------------------------------------------------------------------------------

    def _request_id(self) -> str:
        return "req_" + uuid.uuid4().hex[:24]

    def error_response(self, status: int, message: str | None) -> Response:
        etype = _ERROR_TYPES.get(status, "api_error")
        rid = self._request_id()
        body = {
            "type": "error",
            "error": {"type": etype, "message": message or _ERROR_MESSAGES.get(status, "Error")},
            "request_id": rid,
        }
        headers = {"request-id": rid}
        if status == 429:
            headers["retry-after"] = self.retry_after
        return json_response(status, body, headers)

    def malformed_response(self, req: Request) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        if req.path == "/v1/messages" and body.get("stream"):
            return Response(
                200,
                b'event: message_start\ndata: {"type": "message_start", "message": {"id": "ms\n\n'
                b"event: content_block_delta\ndata: \x00\x01 not json\n\n",
                "text/event-stream; charset=utf-8",
            )
        return Response(200, b'{"id": "msg_01', "application/json")

    def stream_error_chunk(self, message: str | None) -> bytes:
        payload = {
            "type": "error",
            "error": {"type": "overloaded_error", "message": message or "Overloaded"},
        }
        return f"event: error\ndata: {json.dumps(payload)}\n\n".encode()

    def _invalid(self, message: str) -> Response:
        return self.error_response(400, message)

    # -- routing ---------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response | StreamResponse:
        if req.path.startswith("/v1/"):
            denied = self._check_auth(req)
            if denied is not None:
                return denied
        if req.method == "POST" and req.path == "/v1/messages":
            return self._messages(req)
        if req.method == "POST" and req.path == "/v1/messages/count_tokens":
            return self._count_tokens(req)
        if req.method == "GET" and req.path == "/v1/models":
            return self._list_models()
        if req.method == "GET" and req.path.startswith("/v1/models/"):
            return self._get_model(req.path.removeprefix("/v1/models/"))
        return self.error_response(404, "Not Found")

    def _check_auth(self, req: Request) -> Response | None:
        if self.api_key is not None:
            key = req.headers.get("x-api-key")
            auth = req.headers.get("authorization", "")
            bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            if key is None and bearer is None:
                return self.error_response(401, "x-api-key header is required")
            if key != self.api_key and bearer != self.api_key:
                return self.error_response(401, "invalid x-api-key")
        if self.require_version and not req.headers.get("anthropic-version"):
            return self._invalid("anthropic-version: header is required")
        return None

    def _all_models(self) -> list[str]:
        return list(self.models) if self.models is not None else list(_DEFAULT_MODELS)

    def _model_obj(self, model: str) -> dict[str, Any]:
        return {
            "type": "model",
            "id": model,
            "display_name": model.replace("-", " ").title(),
            "created_at": "2026-01-01T00:00:00Z",
        }

    def _list_models(self) -> Response:
        data = [self._model_obj(m) for m in self._all_models()]
        return json_response(
            200,
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    def _get_model(self, model: str) -> Response:
        if model not in self._all_models():
            return self.error_response(404, f"model: {model}")
        return json_response(200, self._model_obj(model))

    # -- validation ------------------------------------------------------------------------------

    def _validate(self, req: Request, *, need_max_tokens: bool) -> dict[str, Any] | Response:
        if req.json_error is not None or not req.has_body:
            return self._invalid(
                "There was an error parsing the body of your request: "
                + (req.json_error or "empty body")
            )
        body = req.json
        if not isinstance(body, dict):
            return self._invalid("Input should be a valid dictionary")
        model = body.get("model")
        if not model:
            return self._invalid("model: Field required")
        if not isinstance(model, str):
            return self._invalid("model: Input should be a valid string")
        if need_max_tokens:
            mt = body.get("max_tokens")
            if mt is None:
                return self._invalid("max_tokens: Field required")
            if isinstance(mt, bool) or not isinstance(mt, int):
                return self._invalid("max_tokens: Input should be a valid integer")
            if mt < 1:
                return self._invalid("max_tokens: Input should be greater than or equal to 1")
        messages = body.get("messages")
        if messages is None:
            return self._invalid("messages: Field required")
        if not isinstance(messages, list):
            return self._invalid("messages: Input should be a valid list")
        if not messages:
            return self._invalid("messages: at least one message is required")
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                return self._invalid(f"messages.{i}: Input should be a valid dictionary")
            if m.get("role") not in ("user", "assistant"):
                return self._invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
            content = m.get("content")
            if not isinstance(content, (str, list)):
                return self._invalid(f"messages.{i}.content: Field required")
            is_final_assistant = i == len(messages) - 1 and m["role"] == "assistant"
            if not content and not is_final_assistant:
                return self._invalid(
                    f"messages.{i}: all messages must have non-empty content except for the "
                    "optional final assistant message"
                )
            if isinstance(content, list):
                for j, block in enumerate(content):
                    if not isinstance(block, dict) or "type" not in block:
                        return self._invalid(f"messages.{i}.content.{j}.type: Field required")
        pairing = self._check_tool_pairing(messages)
        if pairing is not None:
            return pairing
        unsigned = self._check_thinking_turn(body, messages)
        if unsigned is not None:
            return unsigned
        system = body.get("system")
        if system is not None and not isinstance(system, (str, list)):
            return self._invalid("system: Input should be a valid string or list")
        for k, tool in enumerate(body.get("tools") or []):
            name = tool.get("name") if isinstance(tool, dict) else None
            if not isinstance(name, str) or not _TOOL_NAME.match(name):
                return self._invalid(
                    f"tools.{k}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
                )
        if self.strict_sampling and _NEW_GEN.match(model):
            for param in ("temperature", "top_p", "top_k"):
                value = body.get(param)
                if value is not None and not (param == "temperature" and value == 1):
                    return self._invalid(f"`{param}` is not supported for this model.")
            thinking = body.get("thinking")
            if isinstance(thinking, dict) and thinking.get("type") == "enabled":
                return self._invalid(
                    "thinking.type.enabled is not supported for this model. "
                    "Use thinking.type.adaptive and output_config.effort instead."
                )
        if self.models is not None and model not in self.models:
            return self.error_response(404, f"model: {model}")
        return body

    def _check_thinking_turn(
        self, body: dict[str, Any], messages: list[dict[str, Any]]
    ) -> Response | None:
        """With thinking on (asked for; the 5.x models' default is not modelled), the
        assistant message whose tool calls the closing tool results answer must start with
        a thinking block (the API's 400, quoted in public reports: n8n #22550, OpenRouter
        ai-sdk-provider #162); Opus 5.5 cannot turn thinking off (reference A8; the error
        text here is not the API's, which is not on record)."""
        config = body.get("thinking")
        kind = config.get("type") if isinstance(config, dict) else None
        if kind == "disabled" and str(body.get("model", "")).startswith("claude-opus-5-5"):
            return self._invalid(
                "thinking.type.disabled: thinking cannot be disabled for this model"
            )
        if kind not in ("enabled", "adaptive") or len(messages) < 2:
            return None
        step, last = messages[-2], messages[-1]
        results = [b for b in _blocks(last.get("content")) if b.get("type") == "tool_result"]
        if step["role"] != "assistant" or last["role"] != "user" or not results:
            return None
        blocks = _blocks(step.get("content"))
        first = blocks[0].get("type") if blocks else "text"
        if first in ("thinking", "redacted_thinking"):
            return None
        called = {b.get("id") for b in blocks if b.get("type") == "tool_use"}
        if called and called <= self._own_tool_ids:
            return None  # this fake's own step: the API would have written its thinking first
        return self._invalid(
            f"messages.{len(messages) - 2}.content.0.type: Expected `thinking` or "
            f"`redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final "
            "`assistant` message must start with a thinking block (preceeding the lastmost set "
            "of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks "
            "from previous turns. To avoid this requirement, disable `thinking`. Please consult "
            "our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        )

    def _check_tool_pairing(self, messages: list[dict[str, Any]]) -> Response | None:
        for i, m in enumerate(messages):
            blocks = _blocks(m.get("content"))
            if m["role"] == "assistant":
                ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
                if ids and i + 1 < len(messages):
                    nxt = messages[i + 1]
                    answered = {
                        b.get("tool_use_id")
                        for b in _blocks(nxt.get("content"))
                        if b.get("type") == "tool_result"
                    }
                    missing = (
                        [x for x in ids if x not in answered] if nxt["role"] == "user" else ids
                    )
                    if missing:
                        return self._invalid(
                            f"messages.{i + 1}: `tool_use` ids were found without `tool_result` "
                            f"blocks immediately after: {', '.join(map(str, missing))}. Each "
                            "`tool_use` block must have a corresponding `tool_result` block in "
                            "the next message."
                        )
            else:
                results = [
                    (j, b.get("tool_use_id"))
                    for j, b in enumerate(blocks)
                    if b.get("type") == "tool_result"
                ]
                if not results:
                    continue
                prev = messages[i - 1] if i > 0 else None
                offered = set()
                if prev is not None and prev["role"] == "assistant":
                    offered = {
                        b.get("id")
                        for b in _blocks(prev.get("content"))
                        if b.get("type") == "tool_use"
                    }
                for j, tid in results:
                    if tid not in offered:
                        return self._invalid(
                            f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                            f"`tool_result` blocks: {tid}. Each `tool_result` block must have a "
                            "corresponding `tool_use` block in the previous message."
                        )
        return None

    # -- token accounting ------------------------------------------------------------------------

    def _units(self, body: dict[str, Any]) -> list[tuple[str, int, bool]]:
        """(fingerprint, tokens, is_breakpoint) for each cacheable unit, in prompt order."""
        units: list[tuple[str, int, bool]] = []
        for tool in body.get("tools") or []:
            text = json.dumps(tool, sort_keys=True)
            units.append((text, count_tokens(text), bool(tool.get("cache_control"))))
        system = body.get("system")
        for block in _blocks(system) if system is not None else []:
            text = str(block.get("text", ""))
            units.append((text, count_tokens(text), bool(block.get("cache_control"))))
        for m in body.get("messages") or []:
            for block in _blocks(m.get("content")):
                text = _text_of([block])
                fp = m.get("role", "") + ":" + json.dumps(block, sort_keys=True)
                units.append((fp, count_tokens(text), bool(block.get("cache_control"))))
        if body.get("cache_control") and units:  # top-level: breakpoint on the last block
            fp, n, _ = units[-1]
            units[-1] = (fp, n, True)
        return units

    def _usage(self, body: dict[str, Any], *, commit: bool) -> dict[str, int]:
        units = self._units(body)
        total = sum(n for _, n, _ in units)
        prefixes: list[tuple[str, int]] = []  # (hash, tokens) at each breakpoint
        h = hashlib.sha256(str(body.get("model")).encode())
        running = 0
        for fp, n, bp in units:
            h.update(fp.encode())
            running += n
            if bp:
                prefixes.append((h.hexdigest(), running))
        read = 0
        write = 0
        with self._lock:
            for digest, tokens in reversed(prefixes):
                if digest in self._cache:
                    read = tokens
                    break
            if prefixes and prefixes[-1][1] >= max(self.cache_min_tokens, 1):
                write = max(0, prefixes[-1][1] - read)
            if commit:
                for digest, tokens in prefixes:
                    if tokens >= max(self.cache_min_tokens, 1):
                        self._cache.add(digest)
        return {
            "input_tokens": max(0, total - read - write),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }

    # -- /v1/messages/count_tokens ---------------------------------------------------------------

    def _count_tokens(self, req: Request) -> Response:
        body = self._validate(req, need_max_tokens=False)
        if isinstance(body, Response):
            return body
        total = sum(n for _, n, _ in self._units(body))
        return json_response(200, {"input_tokens": max(1, total)})

    # -- /v1/messages ----------------------------------------------------------------------------

    def _next_step(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            step = self.script.pop(0) if self.script else None
        if step is None:
            messages = body.get("messages") or []
            raw = self.reply(messages, body) if callable(self.reply) else self.reply
            if raw is None:
                last_user = next(
                    (
                        _text_of(m.get("content"))
                        for m in reversed(messages)
                        if m.get("role") == "user"
                    ),
                    "",
                )
                raw = f"claude answer: {snippet(last_user)}"
            step = {"text": raw} if isinstance(raw, str) else raw
        return dict(step)

    def _build(self, body: dict[str, Any]) -> dict[str, Any]:
        step = self._next_step(body)
        n = next(self._ids)
        content: list[dict[str, Any]] = []
        if step.get("thinking"):
            content.append(
                {
                    "type": "thinking",
                    "thinking": str(step["thinking"]),
                    "signature": "fake-signature-"
                    + hashlib.sha256(str(step["thinking"]).encode()).hexdigest()[:32],
                }
            )
        tool_uses = step.get("tool_use") or []
        if isinstance(tool_uses, dict):
            tool_uses = [tool_uses]
        text = step.get("text")
        stop_reason = "tool_use" if tool_uses else "end_turn"
        stop_sequence = None
        if text is not None:
            text = str(text)
            if not tool_uses:
                text, stop_sequence = cut_at_stop(text, body.get("stop_sequences"))
                if stop_sequence is not None:
                    stop_reason = "stop_sequence"
            text, cut = truncate_tokens(text, int(body.get("max_tokens") or 1))
            if cut:
                stop_reason = "max_tokens"
            if text or not tool_uses:
                content.append({"type": "text", "text": text})
        if stop_reason != "max_tokens":
            for k, tu in enumerate(tool_uses):
                tool_id = tu.get("id") or f"toolu_{n:04d}{k:02d}" + uuid.uuid4().hex[:18]
                self._own_tool_ids.add(tool_id)
                content.append(
                    {
                        "type": "tool_use",
                        "id": tool_id,
                        "name": tu["name"],
                        "input": tu.get("input", {}),
                    }
                )
        if step.get("stop_reason"):
            stop_reason = step["stop_reason"]
        output_tokens = 0
        for block in content:
            output_tokens += count_tokens(_text_of([block]))
        usage: dict[str, Any] = self._usage(body, commit=True)
        usage["output_tokens"] = max(1, output_tokens)
        usage["service_tier"] = "standard"
        usage.update(step.get("usage") or {})
        message = {
            "id": f"msg_fake{n:04d}" + uuid.uuid4().hex[:16],
            "type": "message",
            "role": "assistant",
            "model": step.get("model") or body["model"],  # a step may answer as a dated id
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }
        with self._lock:
            self._responses.append(message)
        return message

    def _messages(self, req: Request) -> Response | StreamResponse:
        body = self._validate(req, need_max_tokens=True)
        if isinstance(body, Response):
            return body
        message = self._build(body)
        rid = self._request_id()
        if body.get("stream") or self.stream_always:
            return StreamResponse(
                self._events(message),
                "text/event-stream; charset=utf-8",
                headers={"request-id": rid},
            )
        return json_response(200, message, {"request-id": rid})

    def _events(self, message: dict[str, Any]) -> Iterator[bytes]:
        def event(kind: str, data: dict[str, Any]) -> bytes:
            return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()

        usage = message["usage"]
        start_usage = {
            "input_tokens": usage["input_tokens"],
            "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
            "cache_read_input_tokens": usage["cache_read_input_tokens"],
            "output_tokens": 1,
            "service_tier": usage.get("service_tier", "standard"),
        }
        start = {k: v for k, v in message.items() if k not in ("content", "usage")}
        start.update(
            {"content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}
        )
        yield event("message_start", {"type": "message_start", "message": start})
        yield event("ping", {"type": "ping"})
        for i, block in enumerate(message["content"]):
            kind = block["type"]
            if kind == "text":
                yield event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                for piece in pieces(block["text"], self.piece_chars):
                    yield event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i,
                         "delta": {"type": "text_delta", "text": piece}},
                    )  # fmt: skip
            elif kind == "thinking":
                yield event(
                    "content_block_start",
                    {"type": "content_block_start", "index": i,
                     "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
                )  # fmt: skip
                for piece in pieces(block["thinking"], self.piece_chars):
                    yield event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i,
                         "delta": {"type": "thinking_delta", "thinking": piece}},
                    )  # fmt: skip
                yield event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": i,
                     "delta": {"type": "signature_delta", "signature": block["signature"]}},
                )  # fmt: skip
            elif kind == "tool_use":
                yield event(
                    "content_block_start",
                    {"type": "content_block_start", "index": i,
                     "content_block": {"type": "tool_use", "id": block["id"],
                                       "name": block["name"], "input": {}}},
                )  # fmt: skip
                for part in ["", *json_chunks(json.dumps(block["input"]))]:
                    yield event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i,
                         "delta": {"type": "input_json_delta", "partial_json": part}},
                    )  # fmt: skip
            yield event("content_block_stop", {"type": "content_block_stop", "index": i})
        yield event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message["stop_reason"],
                    "stop_sequence": message["stop_sequence"],
                },
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
        yield event("message_stop", {"type": "message_stop"})
