"""A fake OpenAI-compatible chat-completions server (``/v1/chat/completions``, ``/v1/models``).

Faithful points: ``Authorization: Bearer`` checked when ``api_key`` is set (401 otherwise);
errors are ``{"error": {"message", "type", "param", "code"}}``; streaming is SSE ``data:``
chunks with ``choices[].delta`` ending in ``data: [DONE]``, usage only in an extra final chunk
(empty ``choices``) when ``stream_options.include_usage`` is true; tool-call ``arguments`` are a
JSON *string*; ``max_tokens``/``max_completion_tokens`` cut the answer (``finish_reason``
``length``); tool messages must answer a preceding assistant ``tool_calls``; every response,
not only an error, carries ``x-request-id: req_<32 hex>``.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ._http import FakeServer, Request, Response, StreamResponse, json_response
from ._text import (
    count_tokens,
    cut_at_stop,
    json_chunks,
    pieces,
    snippet,
    structured_reply,
    truncate_tokens,
)

__all__ = ["FakeOpenAI"]

Reply = (
    str | dict[str, Any] | Callable[[list[dict[str, Any]], dict[str, Any]], "str | dict[str, Any]"]
)

_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("invalid_request_error", "Invalid request.", None),
    401: ("invalid_request_error", "Incorrect API key provided.", "invalid_api_key"),
    403: ("invalid_request_error", "You are not allowed to access this resource.", None),
    404: ("invalid_request_error", "Not found.", None),
    429: (
        "requests",
        "Rate limit reached for requests. Please try again in 1s.",
        "rate_limit_exceeded",
    ),
    500: (
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
        None,
    ),
    503: ("server_error", "The engine is currently overloaded, please try again later.", None),
}
_ASSISTANT_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "refusal", "audio", "function_call", "annotations"}
)
_ROLES = {"system", "developer", "user", "assistant", "tool"}
# Where a thinking model's reasoning comes: llama.cpp's and vLLM's field, then Ollama's /v1's.
_REASONING_FIELDS = ("reasoning_content", "reasoning")
# `reasoning_effort`'s values (the openai SDK's ReasoningEffort); another is a 400.
_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
#: The header naming a request on every answer (the SDK's `_request_id`).
REQUEST_ID = "x-request-id"


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


class FakeOpenAI(FakeServer):
    """Fake OpenAI-compatible server.

    ``models``: ids listed by ``/v1/models`` and accepted by chat (``None`` = accept any id,
    like llama.cpp's single-model server, and list ``["fake-model"]``).
    ``reply``: a string, a dict, or ``fn(messages, body) -> str | dict``; a dict may carry
    ``content``, ``tool_calls`` (``[{"name", "arguments": {...}}]``), ``finish_reason`` and
    ``usage`` (merged over the computed usage), and a thinking model's reasoning under the
    field a server sends it in: ``reasoning_content`` (llama.cpp with ``--reasoning-format``,
    vLLM) or ``reasoning`` (Ollama's ``/v1``), streamed in deltas before the content and in
    the whole message beside it, counted in ``completion_tokens``.
    Default: ``"openai answer: <first 40 chars of the last user message>"``.
    ``api_key``: when set, ``Authorization: Bearer <api_key>`` is required.
    ``silent_context``: a context window in tokens that a longer prompt is cut to fit without
    an error, ``usage.prompt_tokens`` saying what was read (LM Studio's context overflow
    policy, Ollama's ``/v1``, which cannot be told ``truncate: false``); ``None``: no cut.
    ``efforts``: the ``reasoning_effort`` values it takes, another a 400 naming the field
    (default OpenAI's; an older vLLM's: ``("low", "medium", "high")``).
    ``.base_url`` is ``<url>/v1``, what OpenAI-style clients take.
    """

    def __init__(
        self,
        models: list[str] | None = None,
        reply: Reply | None = None,
        api_key: str | None = None,
        *,
        delay: float = 0.0,
        stream_delay: float = 0.0,
    ) -> None:
        super().__init__(delay=delay, stream_delay=stream_delay)
        self.models = models if models is None else list(models)
        self.reply = reply
        self.api_key = api_key
        self.silent_context: int | None = None
        self.efforts: tuple[str, ...] = _EFFORTS
        # The id every answer names when set: an OpenAI-compatible server's own shape (a
        # uuid, a longer id); a fresh req_<32 hex>, as OpenAI's, each otherwise.
        self.request_id: str | None = None
        # The model every answer names when set: OpenAI names the dated snapshot that served
        # an alias (`gpt-4o` answered as `gpt-4o-2024-08-06`); the model asked for otherwise.
        self.answer_model: str | None = None
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    # -- errors ----------------------------------------------------------------------------------

    def _error(
        self, status: int, message: str | None = None, *, etype: str | None = None,
        code: str | None = None, param: str | None = None,
    ) -> Response:  # fmt: skip
        d_type, d_msg, d_code = _ERRORS.get(status, ("api_error", "Error.", None))
        body = {
            "error": {
                "message": message or d_msg,
                "type": etype or d_type,
                "param": param,
                "code": code if code is not None else d_code,
            }
        }
        return json_response(status, body, {REQUEST_ID: self.request_id or _request_id()})

    def error_response(self, status: int, message: str | None) -> Response:
        return self._error(status, message)

    def malformed_response(self, req: Request) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        if body.get("stream"):
            return Response(
                200,
                b'data: {"id": "chatcmpl-1", "choices": [{"delta": {"cont\n\n',
                "text/event-stream",
            )
        return Response(200, b'{"id": "chatcmpl-1", "object": "chat.comp', "application/json")

    def stream_error_chunk(self, message: str | None) -> bytes:
        err = {
            "error": {
                "message": message or "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
        return f"data: {json.dumps(err)}\n\n".encode()

    # -- routing ---------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response | StreamResponse:
        # Every answer names its request, a success as much as an error (the API's "Debugging
        # requests"): what the SDK's `_request_id` shows.
        resp = self._route(req)
        resp.headers.setdefault(REQUEST_ID, self.request_id or _request_id())
        return resp

    def _route(self, req: Request) -> Response | StreamResponse:
        if self.api_key is not None:
            auth = req.headers.get("authorization", "")
            if not auth:
                return self._error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    code=None,
                )
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if token != self.api_key:
                shown = (token[:3] + "*" * 4 + token[-4:]) if len(token) > 8 else "****"
                return self._error(401, f"Incorrect API key provided: {shown}.")
        if req.method == "GET" and req.path == "/v1/models":
            return json_response(
                200, {"object": "list", "data": [self._model(m) for m in self._listed()]}
            )
        if req.method == "GET" and req.path.startswith("/v1/models/"):
            mid = req.path.removeprefix("/v1/models/")
            if self.models is not None and mid not in self.models:
                return self._model_missing(mid)
            return json_response(200, self._model(mid))
        if req.method == "POST" and req.path == "/v1/chat/completions":
            return self._chat(req)
        return self._error(404, f"Invalid URL ({req.method} {req.path})")

    def _listed(self) -> list[str]:
        return self.models if self.models is not None else ["fake-model"]

    def _model(self, mid: str) -> dict[str, Any]:
        return {"id": mid, "object": "model", "created": 1_780_000_000, "owned_by": "fake"}

    def _model_missing(self, mid: str) -> Response:
        return self._error(
            404,
            f"The model `{mid}` does not exist or you do not have access to it.",
            code="model_not_found",
        )

    # -- validation ------------------------------------------------------------------------------

    def _validate(self, req: Request) -> dict[str, Any] | Response:
        if req.json_error is not None or not req.has_body:
            return self._error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)",
            )
        body = req.json
        if not isinstance(body, dict):
            return self._error(400, "Invalid type for request body: expected an object.")
        model = body.get("model")
        if not model:
            return self._error(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if messages is None:
            return self._error(
                400, "Missing required parameter: 'messages'.",
                param="messages", code="missing_required_parameter",
            )  # fmt: skip
        if not isinstance(messages, list) or not messages:
            return self._error(
                400, "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                param="messages", code="empty_array",
            )  # fmt: skip
        pending: set[str] = set()
        for i, m in enumerate(messages):
            role = m.get("role") if isinstance(m, dict) else None
            if role not in _ROLES:
                return self._error(
                    400,
                    f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', "
                    "'user', 'tool', and 'developer'.",
                    param=f"messages[{i}].role", code="invalid_value",
                )  # fmt: skip
            if role == "tool":
                if m.get("tool_call_id") not in pending:
                    return self._error(
                        400,
                        "Invalid parameter: messages with role 'tool' must be a response to a "
                        "preceeding message with 'tool_calls'.",
                        param=f"messages.[{i}].role",
                    )
                pending.discard(m["tool_call_id"])
                continue
            if pending:
                return self._error(
                    400,
                    "An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'. The following tool_call_ids did not "
                    f"have response messages: {', '.join(sorted(pending))}",
                    param="messages",
                )
            if role == "assistant":
                # OpenAI validates a message against its schema: an unknown field (Ollama's
                # `reasoning`, say) is refused
                if extra := sorted(set(m) - _ASSISTANT_KEYS):
                    return self._error(
                        400,
                        f"Additional properties are not allowed ('{extra[0]}' was unexpected)"
                        f" - 'messages.{i}'",
                    )
                pending = {str(tc.get("id")) for tc in m.get("tool_calls") or []}
        if self.models is not None and model not in self.models:
            return self._model_missing(model)
        for key in ("max_tokens", "max_completion_tokens"):
            v = body.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                return self._error(
                    400, f"Invalid '{key}': integer below minimum value. Expected a value >= 1.",
                    param=key, code="integer_below_min_value",
                )  # fmt: skip
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in self.efforts:
            return self._error(
                400,
                f"Invalid value: '{effort}'. Supported values are: "
                + ", ".join(f"'{e}'" for e in self.efforts) + ".",
                param="reasoning_effort", code="invalid_value",
            )  # fmt: skip
        return body

    # -- /v1/chat/completions --------------------------------------------------------------------

    def _chat(self, req: Request) -> Response | StreamResponse:
        body = self._validate(req)
        if isinstance(body, Response):
            return body
        messages: list[dict[str, Any]] = body["messages"]
        last_user = next(
            (_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        raw = self.reply(messages, body) if callable(self.reply) else self.reply
        if raw is None:
            raw = f"openai answer: {snippet(last_user)}"
        out: dict[str, Any] = {"content": raw} if isinstance(raw, str) else dict(raw)
        tool_calls: list[dict[str, Any]] = [
            {
                "id": tc.get("id") or "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {
                    "name": tc["name"],
                    "arguments": tc["arguments"]
                    if isinstance(tc.get("arguments"), str)
                    else json.dumps(tc.get("arguments", {})),
                },
            }
            for tc in out.get("tool_calls") or []
        ]
        content: str | None = None if out.get("content") is None else str(out["content"])
        finish = "tool_calls" if tool_calls else "stop"
        fmt = body.get("response_format") or {}
        if content is not None and fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema") or {}
            content = structured_reply(content, schema, snippet(last_user))
        elif content is not None and fmt.get("type") == "json_object":
            content = structured_reply(content, "json", snippet(last_user))
        if content is not None:
            stops = body.get("stop")
            content, hit = cut_at_stop(content, [stops] if isinstance(stops, str) else stops)
            limit = body.get("max_completion_tokens") or body.get("max_tokens")
            if limit:
                content, cut = truncate_tokens(content, int(limit))
                if cut:
                    finish = "length"
        if out.get("finish_reason"):
            finish = out["finish_reason"]
        prompt_tokens = sum(count_tokens(_text_of(m.get("content"))) for m in messages)
        if self.silent_context is not None:
            prompt_tokens = min(prompt_tokens, self.silent_context)
        thought = {k: str(out[k]) for k in _REASONING_FIELDS if out.get(k)}
        completion_tokens = sum(count_tokens(t) for t in thought.values())
        completion_tokens += count_tokens(content or "") + sum(
            count_tokens(tc["function"]["arguments"]) for tc in tool_calls
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
        if isinstance(out.get("usage"), dict):  # a server's own figures (cached, reasoning)
            usage |= out["usage"]
        cid = f"chatcmpl-{next(self._ids)}" + uuid.uuid4().hex[:12]
        created = int(time.time())
        model = self.answer_model or body["model"]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamResponse(
                self._chunks(
                    cid,
                    created,
                    model,
                    content,
                    tool_calls,
                    finish,
                    usage,
                    include_usage,
                    thought,
                ),  # fmt: skip
                "text/event-stream; charset=utf-8",
            )
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        message |= thought
        return json_response(
            200,
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
                "usage": usage,
                "system_fingerprint": "fp_fake",
            },
        )

    def _chunks(
        self, cid: str, created: int, model: str, content: str | None,
        tool_calls: list[dict[str, Any]], finish: str, usage: dict[str, Any], include_usage: bool,
        thought: dict[str, str],
    ) -> Iterator[bytes]:  # fmt: skip
        def chunk(choices: list[dict[str, Any]], usage_value: Any = None) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if include_usage:
                obj["usage"] = usage_value
            return f"data: {json.dumps(obj)}\n\n".encode()

        def delta(d: dict[str, Any], finish_reason: str | None = None) -> bytes:
            return chunk(
                [{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish_reason}]
            )

        yield delta({"role": "assistant", "content": "", "refusal": None})
        for key, text in thought.items():
            for piece in pieces(text, self.piece_chars):
                yield delta({key: piece})
        for piece in pieces(content or "", self.piece_chars):
            yield delta({"content": piece})
        for k, tc in enumerate(tool_calls):
            yield delta(
                {"tool_calls": [{"index": k, "id": tc["id"], "type": "function",
                                 "function": {"name": tc["function"]["name"], "arguments": ""}}]}
            )  # fmt: skip
            for part in json_chunks(tc["function"]["arguments"]):
                yield delta({"tool_calls": [{"index": k, "function": {"arguments": part}}]})
        yield delta({}, finish)
        if include_usage:
            yield chunk([], usage)
        yield b"data: [DONE]\n\n"
