"""A fake Ollama server speaking the native ``/api/*`` wire format (see ollama-api.md).

Faithful points a client must cope with: ``stream`` defaults to TRUE when omitted (NDJSON,
``application/x-ndjson``), the last line has ``done: true`` + ``done_reason`` + metrics in
nanoseconds, zero-valued metrics are omitted (``load_duration`` is absent once the model is
loaded), errors are ``{"error": "..."}``, an unknown model is a 404, tools sent to a model
without the ``tools`` capability are a 400, message ``content`` must be a string, and a
failure after output started arrives as an extra ``{"error": ...}`` line with status 200.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ._http import FakeServer, Request, Response, StreamResponse, json_response
from ._text import count_tokens, embedding, pieces, snippet, structured_reply, truncate_tokens

__all__ = ["FakeOllama"]

Reply = (
    str | dict[str, Any] | Callable[[list[dict[str, Any]], dict[str, Any]], "str | dict[str, Any]"]
)

_NDJSON = "application/x-ndjson"
_JSON = "application/json; charset=utf-8"
_INT_OPTIONS = {
    "num_predict", "num_ctx", "top_k", "seed", "num_keep", "repeat_last_n", "num_batch",
    "num_gpu", "main_gpu", "num_thread", "draft_num_predict",
}  # fmt: skip
_FLOAT_OPTIONS = {
    "temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty",
    "frequency_penalty",
}  # fmt: skip
_ALL_CAPS = {"completion", "tools", "insert", "vision", "embedding", "thinking"}


def normalize(name: str) -> str:
    """``llama3.2`` -> ``llama3.2:latest`` (tag defaults to ``latest``)."""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _drop_zero(d: dict[str, Any]) -> dict[str, Any]:
    """Go's ``omitempty``: zero metrics are absent, not 0."""
    return {k: v for k, v in d.items() if v not in (0, None)}


def _arch(name: str) -> str:
    base = name.rsplit("/", 1)[-1].split(":", 1)[0]
    if "embed" in base:
        return "nomic-bert" if base.startswith("nomic") else "bert"
    m = re.match(r"[a-z]+\d*", base)
    word = m.group(0) if m else "llama"
    return re.sub(r"\d+$", "", word) if word.startswith(("llama", "gemma", "phi")) else word


def _param_size(name: str) -> str:
    tag = name.rsplit(":", 1)[-1]
    m = re.search(r"(\d+(?:\.\d+)?)([bm])", tag.lower())
    if m:
        n = float(m.group(1))
        return f"{n:.1f}B" if m.group(2) == "b" else f"{int(n)}M"
    return "137M" if "embed" in name else "3.2B"


def _keep_alive_zero(v: Any) -> bool:
    return v in (0, "0", "0s", "0m", 0.0)


class FakeOllama(FakeServer):
    """Fake Ollama.

    ``models``: model names (``name[:tag]``; tag defaults to ``latest``).
    ``reply``: a string, a dict, or ``fn(messages, body) -> str | dict``; a dict may carry
    ``content``, ``thinking``, ``tool_calls`` (``[{"name": ..., "arguments": {...}}]``)
    and ``done_reason``.
    Default: ``"local answer: <first 40 chars of the last user message>"``.
    ``capabilities``: a list applied to every model, or ``{model: [caps]}``; by default a model
    whose name contains ``embed`` has ``["embedding"]`` and others ``["completion", "tools"]``.
    ``context_length``: the model's trained context (``/api/show`` ``<arch>.context_length``).
    ``default_num_ctx``: the context used when ``options.num_ctx`` is absent. A longer prompt
    is silently truncated (visible as a smaller ``prompt_eval_count``), as Ollama does, unless
    the request says ``"truncate": false`` (chat and generate, v0.12.4+; older servers ignore
    the field): then it is a 400 "the input length exceeds the context length", the runner's
    ``errorInputTooLong`` (runner/ollamarunner/runner.go).
    ``version``: what ``GET /api/version`` reports (it decides whether ``truncate`` is known).
    ``counts_cached_prompt``: False makes ``prompt_eval_count`` count only the prompt tokens
    not served from the prompt cache (the part after the prefix shared with the model's last
    prompt), as Ollama builds on llama-server did until mid-2026 (ollama/ollama#16428); a
    repeated prompt then counts 1.
    ``thinks_unasked``: a model with the ``thinking`` capability sends its ``thinking`` also
    when the request has no ``think``, in the same fields as when asked: Ollama's default
    from v0.12.4 (ollama-api.md does not say it; ollama/ollama server/routes.go, ChatHandler,
    sets a missing ``think`` to true for such a model, 90d429f5a); before, the model's
    template decided.
    """

    def __init__(
        self,
        models: list[str] | None = None,
        reply: Reply | None = None,
        capabilities: list[str] | dict[str, list[str]] | None = None,
        *,
        version: str = "0.32.15",
        counts_cached_prompt: bool = True,
        thinks_unasked: bool = False,
        context_length: int | dict[str, int] = 131072,
        default_num_ctx: int = 4096,
        embedding_dim: int = 16,
        delay: float = 0.0,
        stream_delay: float = 0.0,
    ) -> None:
        super().__init__(delay=delay, stream_delay=stream_delay)
        self.models = [normalize(m) for m in (models or ["llama3.2:latest"])]
        self.reply = reply
        self._capabilities = capabilities
        self.version = version
        self.counts_cached_prompt = counts_cached_prompt
        self.thinks_unasked = thinks_unasked
        self._cached_prompt: dict[str, str] = {}  # model -> the prompt its cache holds
        self.context_length = context_length
        self.default_num_ctx = default_num_ctx
        self.embedding_dim = embedding_dim
        self._loaded: dict[str, tuple[datetime, int]] = {}  # model -> (expires_at, num_ctx)

    # -- model metadata --------------------------------------------------------------------------

    def capabilities_of(self, model: str) -> list[str]:
        model = normalize(model)
        caps = self._capabilities
        if isinstance(caps, dict):
            for key, value in caps.items():
                if normalize(key) == model:
                    return list(value)
        elif isinstance(caps, list):
            return list(caps)
        return ["embedding"] if "embed" in model else ["completion", "tools"]

    def _ctx_len(self, model: str) -> int:
        if isinstance(self.context_length, dict):
            for key, value in self.context_length.items():
                if normalize(key) == model:
                    return value
            return 131072
        return self.context_length

    def _find(self, name: Any) -> str | None:
        if not isinstance(name, str) or not name:
            return None
        n = normalize(name)
        return n if n in self.models else None

    def _details(self, model: str) -> dict[str, Any]:
        arch = _arch(model)
        return {
            "parent_model": "",
            "format": "gguf",
            "family": arch,
            "families": [arch],
            "parameter_size": _param_size(model),
            "quantization_level": "F16" if "embed" in model else "Q4_K_M",
        }

    def _digest(self, model: str) -> str:
        return hashlib.sha256(model.encode()).hexdigest()

    def _size(self, model: str) -> int:
        return 1_000_000_000 + int(self._digest(model)[:6], 16) * 1000

    # -- errors ----------------------------------------------------------------------------------

    def error_response(self, status: int, message: str | None) -> Response:
        defaults = {
            400: "invalid request",
            404: "model not found",
            500: "an error was encountered while running the model: unexpected EOF",
            503: "server busy, please try again.  maximum pending requests exceeded",
        }
        return json_response(
            status, {"error": message or defaults.get(status, "error")}, content_type=_JSON
        )

    def malformed_response(self, req: Request) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        streaming = req.path in ("/api/chat", "/api/generate") and body.get("stream", True)
        if streaming:
            return Response(200, b'{"model":"' + b"\x00garbage\n" + b"not json at all\n", _NDJSON)
        return Response(200, b'{"model":"llama3.2:latest","created_at":"2026-', _JSON)

    def stream_error_chunk(self, message: str | None) -> bytes:
        msg = message or "an error was encountered while running the model: unexpected EOF"
        return (json.dumps({"error": msg}) + "\n").encode()

    def _err(self, status: int, message: str) -> Response:
        return self.error_response(status, message)

    # -- routing ---------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response | StreamResponse:
        routes: dict[tuple[str, str], Callable[[Request], Response | StreamResponse]] = {
            ("GET", "/"): self._root,
            ("HEAD", "/"): self._root,
            ("GET", "/api/version"): self._version,
            ("HEAD", "/api/version"): self._version,
            ("GET", "/api/tags"): self._tags,
            ("HEAD", "/api/tags"): self._tags,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/show"): self._show,
            ("POST", "/api/chat"): self._chat,
            ("POST", "/api/generate"): self._generate,
            ("POST", "/api/embed"): self._embed,
            ("POST", "/api/embeddings"): self._embeddings_legacy,
        }
        fn = routes.get((req.method, req.path))
        if fn is None:
            return Response(404, b"404 page not found", "text/plain")
        return fn(req)

    def _root(self, req: Request) -> Response:
        return Response(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self, req: Request) -> Response:
        return json_response(200, {"version": self.version}, content_type=_JSON)

    def _tags(self, req: Request) -> Response:
        modified = "2026-05-01T10:00:00.000000000Z"
        models = [
            {
                "name": m,
                "model": m,
                "modified_at": modified,
                "size": self._size(m),
                "digest": self._digest(m),
                "details": self._details(m),
            }
            for m in self.models
        ]
        return json_response(200, {"models": models}, content_type=_JSON)

    def _ps(self, req: Request) -> Response:
        now = datetime.now(UTC)
        out = []
        for m, (expires, num_ctx) in list(self._loaded.items()):
            if expires < now:
                self._loaded.pop(m, None)
                continue
            out.append(
                {
                    "name": m,
                    "model": m,
                    "size": self._size(m),
                    "digest": self._digest(m),
                    "details": self._details(m),
                    "expires_at": expires.isoformat().replace("+00:00", "Z"),
                    "size_vram": self._size(m),
                    "context_length": num_ctx,
                }
            )
        return json_response(200, {"models": out}, content_type=_JSON)

    # -- request validation ----------------------------------------------------------------------

    def _body(self, req: Request) -> dict[str, Any] | Response:
        if not req.has_body:
            return self._err(400, "missing request body")
        if req.json_error is not None:
            return self._err(400, req.json_error)
        if not isinstance(req.json, dict):
            return self._err(
                400, "json: cannot unmarshal " + type(req.json).__name__ + " into Go value"
            )
        return req.json

    def _model(self, body: dict[str, Any], *, show: bool = False) -> str | Response:
        name = body.get("model") or body.get("name")
        if not name:
            return self._err(400, "model is required")
        found = self._find(name)
        if found is None:
            if show:
                return self._err(404, f"model '{name}' not found")
            return self._err(404, f'model "{name}" not found, try pulling it first')
        return found

    def _body_and_model(
        self, req: Request, *, show: bool = False
    ) -> tuple[dict[str, Any], str] | Response:
        """The request's JSON object and the model it names, or the error Ollama answers."""
        body = self._body(req)
        if isinstance(body, Response):
            return body
        model = self._model(body, show=show)
        if isinstance(model, Response):
            return model
        return body, model

    def _options(self, body: dict[str, Any]) -> dict[str, Any] | Response:
        opts = body.get("options") or {}
        if not isinstance(opts, dict):
            return self._err(400, "json: cannot unmarshal options into Go value of type map")
        for k, v in opts.items():
            if k in _INT_OPTIONS and (isinstance(v, bool) or not isinstance(v, (int, float))):
                return self._err(400, f'option "{k}" must be of type integer')
            if k in _FLOAT_OPTIONS and (isinstance(v, bool) or not isinstance(v, (int, float))):
                return self._err(400, f'option "{k}" must be of type float')
        return opts

    def _checked_options(
        self, body: dict[str, Any], model: str, verb: str
    ) -> dict[str, Any] | Response:
        """A chat's or a generate's options, or Ollama's 400 for what both refuse alike: bad
        options, format or think, or a model that does not complete (`verb`: what it says)."""
        opts = self._options(body)
        if isinstance(opts, Response):
            return opts
        for check in (self._check_format(body), self._check_think(body, model)):
            if check is not None:
                return check
        if "completion" not in self.capabilities_of(model):
            return self._err(400, f'"{model}" does not support {verb}')
        return opts

    def _check_format(self, body: dict[str, Any]) -> Response | None:
        fmt = body.get("format")
        if fmt in (None, "", "json") or isinstance(fmt, dict):
            return None
        return self._err(400, f'invalid format: "{fmt}"; expected "json" or a valid JSON schema')

    def _check_think(self, body: dict[str, Any], model: str) -> Response | None:
        think = body.get("think")
        if think is None or think is False:
            return None
        version = _version_tuple(self.version)
        if isinstance(think, str) and version < (0, 11, 1):  # `think` was a bool
            return self._err(
                400,
                "json: cannot unmarshal string into Go struct field ChatRequest.think of type bool",
            )
        levels = ("low", "medium", "high") + (("max",) if version >= (0, 22) else ())
        if isinstance(think, str) and think not in levels:
            return self._err(400, f'invalid think value: "{think}"')
        if not isinstance(think, (bool, str)):
            return self._err(400, "json: cannot unmarshal think value")
        if "thinking" not in self.capabilities_of(model):
            return self._err(400, f'"{model}" does not support thinking')
        return None

    def _too_long(
        self, messages: list[dict[str, Any]], body: dict[str, Any], opts: dict[str, Any]
    ) -> Response | None:
        """The 400 a server that knows ``truncate`` gives an over-long prompt with it false."""
        knows_truncate = _version_tuple(self.version) >= (0, 12, 4)
        if not knows_truncate or body.get("truncate", True) is not False:
            return None
        num_ctx = int(opts.get("num_ctx") or self.default_num_ctx)
        if _prompt_tokens(messages) <= num_ctx:
            return None
        return self._err(400, "the input length exceeds the context length")

    # -- the "model" -----------------------------------------------------------------------------

    def _produce(
        self, model: str, messages: list[dict[str, Any]], body: dict[str, Any], opts: dict[str, Any]
    ) -> dict[str, Any]:
        last_user = next(
            (str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"),
            "",
        )
        raw = self.reply(messages, body) if callable(self.reply) else self.reply
        if raw is None:
            raw = f"local answer: {snippet(last_user)}"
        out: dict[str, Any] = {"content": raw} if isinstance(raw, str) else dict(raw)
        content = str(out.get("content") or "")
        if body.get("format") and not out.get("tool_calls"):
            content = structured_reply(content, body["format"], snippet(last_user))
        thinks = bool(body.get("think")) or (
            self.thinks_unasked
            and body.get("think") is None
            and "thinking" in self.capabilities_of(model)
        )
        thinking = out.get("thinking")
        if thinks and thinking is None:
            thinking = f"thinking about: {snippet(last_user)}"
        if not thinks:
            thinking = None
        done_reason = out.get("done_reason", "stop")
        for stop in opts.get("stop") or []:
            if stop and stop in content:
                content = content[: content.index(stop)]
        limit = opts.get("num_predict")
        if isinstance(limit, int) and limit >= 0:
            content, cut = truncate_tokens(content, limit)
            if cut:
                done_reason = "length"
        tool_calls = [
            {"function": {"index": i, "name": tc["name"], "arguments": tc.get("arguments", {})}}
            # Ollama from v0.12 sends an id of its own ("call_…") when the reply names one
            | ({"id": tc["id"]} if "id" in tc else {})
            for i, tc in enumerate(out.get("tool_calls") or [])
        ]
        prompt_tokens = _prompt_tokens(messages)
        num_ctx = opts.get("num_ctx") or self.default_num_ctx
        prompt_tokens = min(prompt_tokens, int(num_ctx))  # silent truncation at num_ctx
        if not self.counts_cached_prompt:
            prompt_tokens = self._uncached_tokens(model, messages, prompt_tokens)
        eval_tokens = count_tokens(content) + count_tokens(thinking or "")
        eval_tokens += sum(count_tokens(json.dumps(t["function"]["arguments"])) for t in tool_calls)
        load_ns = 0 if model in self._loaded else 48_000_000
        self._touch(model, body.get("keep_alive"), int(num_ctx))
        prompt_ns = prompt_tokens * 1_000_000
        eval_ns = eval_tokens * 10_000_000
        metrics = _drop_zero(
            {
                "total_duration": load_ns + prompt_ns + eval_ns + 1_500_000,
                "load_duration": load_ns,
                "prompt_eval_count": prompt_tokens,
                "prompt_eval_duration": prompt_ns,
                "eval_count": eval_tokens,
                "eval_duration": eval_ns,
            }
        )
        return {
            "content": content,
            "thinking": thinking,
            "tool_calls": tool_calls,
            "done_reason": done_reason,
            "metrics": metrics,
        }

    def _uncached_tokens(self, model: str, messages: list[dict[str, Any]], read: int) -> int:
        """The prompt tokens evaluated past the prefix the model's cache already holds (at
        least 1: the last token is always evaluated)."""
        prompt = "".join(str(m.get("content") or "") for m in messages)
        shared = os.path.commonprefix([prompt, self._cached_prompt.get(model, "")])
        self._cached_prompt[model] = prompt
        return max(1, min(read, count_tokens(prompt[len(shared) :])))

    def _touch(self, model: str, keep_alive: Any, num_ctx: int) -> None:
        if _keep_alive_zero(keep_alive):
            self._loaded.pop(model, None)
            return
        self._loaded[model] = (datetime.now(UTC) + timedelta(minutes=5), num_ctx)

    def _load_only(self, model: str, body: dict[str, Any], key: str) -> Response:
        unload = _keep_alive_zero(body.get("keep_alive"))
        if unload:
            self._loaded.pop(model, None)
        else:
            self._touch(model, body.get("keep_alive"), self.default_num_ctx)
        obj: dict[str, Any] = {"model": model, "created_at": _now()}
        obj[key] = {"role": "assistant", "content": ""} if key == "message" else ""
        obj.update({"done": True, "done_reason": "unload" if unload else "load"})
        return json_response(200, obj, content_type=_JSON)

    # -- /api/chat -------------------------------------------------------------------------------

    def _chat(self, req: Request) -> Response | StreamResponse:
        asked = self._body_and_model(req)
        if isinstance(asked, Response):
            return asked
        body, model = asked
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            return self._err(400, "json: cannot unmarshal messages into Go value of type []Message")
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                return self._err(400, f"json: cannot unmarshal messages[{i}] into Message")
            content = m.get("content")
            if content is not None and not isinstance(content, str):
                kind = "array" if isinstance(content, list) else type(content).__name__
                return self._err(
                    400,
                    f"json: cannot unmarshal {kind} into Go struct field "
                    "ChatRequest.messages.content of type string",
                )
        opts = self._checked_options(body, model, "chat")
        if isinstance(opts, Response):
            return opts
        caps = self.capabilities_of(model)
        if body.get("tools") and "tools" not in caps:
            full = model if "/" in model else f"registry.ollama.ai/library/{model}"
            return self._err(400, f"{full} does not support tools")
        if not messages:
            return self._load_only(model, body, "message")
        if (too_long := self._too_long(messages, body, opts)) is not None:
            return too_long

        out = self._produce(model, messages, body, opts)
        if body.get("stream", True) is False:
            msg: dict[str, Any] = {"role": "assistant", "content": out["content"]}
            if out["thinking"]:
                msg["thinking"] = out["thinking"]
            if out["tool_calls"]:
                msg["tool_calls"] = out["tool_calls"]
            obj = {"model": model, "created_at": _now(), "message": msg, "done": True}
            obj["done_reason"] = out["done_reason"]
            obj.update(out["metrics"])
            return json_response(200, obj, content_type=_JSON)
        return StreamResponse(self._chat_lines(model, out), _NDJSON)

    def _chat_lines(self, model: str, out: dict[str, Any]) -> Iterator[bytes]:
        def line(obj: dict[str, Any]) -> bytes:
            return (json.dumps(obj) + "\n").encode()

        for piece in pieces(out["thinking"] or "", self.piece_chars):
            yield line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": "", "thinking": piece},
                    "done": False,
                }
            )
        for piece in pieces(out["content"], self.piece_chars):
            yield line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )
        if out["tool_calls"]:
            yield line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": out["tool_calls"],
                    },
                    "done": False,
                }
            )
        final: dict[str, Any] = {
            "model": model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": out["done_reason"],
        }
        final.update(out["metrics"])
        yield line(final)

    # -- /api/generate ---------------------------------------------------------------------------

    def _generate(self, req: Request) -> Response | StreamResponse:
        asked = self._body_and_model(req)
        if isinstance(asked, Response):
            return asked
        body, model = asked
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str):
            return self._err(
                400, "json: cannot unmarshal value into Go struct field prompt of type string"
            )
        opts = self._checked_options(body, model, "generate")
        if isinstance(opts, Response):
            return opts
        caps = self.capabilities_of(model)
        if body.get("suffix") and "insert" not in caps:
            return self._err(400, f'"{model}" does not support insert')
        if body.get("raw") and (body.get("template") or body.get("system") or body.get("context")):
            return self._err(400, "raw mode does not support template, system, or context")
        if not prompt:
            return self._load_only(model, body, "response")

        messages: list[dict[str, Any]] = []
        if body.get("system"):
            messages.append({"role": "system", "content": str(body["system"])})
        messages.append({"role": "user", "content": prompt})
        if (too_long := self._too_long(messages, body, opts)) is not None:
            return too_long
        out = self._produce(model, messages, body, opts)
        context = list(range(1, out["metrics"].get("prompt_eval_count", 0) + 1))
        if body.get("stream", True) is False:
            obj: dict[str, Any] = {"model": model, "created_at": _now(), "response": out["content"]}
            if out["thinking"]:
                obj["thinking"] = out["thinking"]
            obj.update({"done": True, "done_reason": out["done_reason"]})
            if not body.get("raw"):
                obj["context"] = context
            obj.update(out["metrics"])
            return json_response(200, obj, content_type=_JSON)
        return StreamResponse(self._generate_lines(model, out, context, body), _NDJSON)

    def _generate_lines(
        self, model: str, out: dict[str, Any], context: list[int], body: dict[str, Any]
    ) -> Iterator[bytes]:
        for piece in pieces(out["thinking"] or "", self.piece_chars):
            obj: dict[str, Any] = {
                "model": model,
                "created_at": _now(),
                "response": "",
                "thinking": piece,
            }
            obj["done"] = False
            yield (json.dumps(obj) + "\n").encode()
        for piece in pieces(out["content"], self.piece_chars):
            obj = {"model": model, "created_at": _now(), "response": piece, "done": False}
            yield (json.dumps(obj) + "\n").encode()
        final: dict[str, Any] = {"model": model, "created_at": _now(), "response": "", "done": True}
        final["done_reason"] = out["done_reason"]
        if not body.get("raw"):
            final["context"] = context
        final.update(out["metrics"])
        yield (json.dumps(final) + "\n").encode()

    # -- /api/show -------------------------------------------------------------------------------

    def _show(self, req: Request) -> Response:
        asked = self._body_and_model(req, show=True)
        if isinstance(asked, Response):
            return asked
        body, model = asked
        arch = _arch(model)
        caps = [c for c in self.capabilities_of(model) if c in _ALL_CAPS]
        info: dict[str, Any] = {
            "general.architecture": arch,
            "general.parameter_count": 3_212_749_888,
            "general.file_type": 15,
            f"{arch}.context_length": self._ctx_len(model),
            f"{arch}.embedding_length": 3072,
            f"{arch}.block_count": 28,
        }
        obj = {
            "license": "fake license",
            "modelfile": f"# Modelfile generated by the fake\nFROM {model}\n",
            "parameters": 'stop                           "<|eot_id|>"',
            "template": "{{ .Prompt }}",
            "details": self._details(model),
            "model_info": info,
            "capabilities": caps,
            "modified_at": "2026-05-01T10:00:00.000000000Z",
        }
        return json_response(200, obj, content_type=_JSON)

    # -- /api/embed ------------------------------------------------------------------------------

    def _embed(self, req: Request) -> Response:
        asked = self._body_and_model(req)
        if isinstance(asked, Response):
            return asked
        body, model = asked
        inp = body.get("input")
        if isinstance(inp, str):
            texts = [inp]
        elif isinstance(inp, list) and all(isinstance(x, str) for x in inp):
            texts = list(inp)
        elif inp is None:
            texts = []
        else:
            return self._err(400, "invalid input type")
        dims = body.get("dimensions")
        if dims is not None and (not isinstance(dims, int) or dims <= 0):
            return self._err(400, "dimensions must be a positive integer")
        num_ctx = int((body.get("options") or {}).get("num_ctx") or self.default_num_ctx)
        if body.get("truncate") is False and any(count_tokens(t) > num_ctx for t in texts):
            return self._err(400, "the input length exceeds the context length")
        start = time.perf_counter_ns()
        vectors = [embedding(t, self.embedding_dim) for t in texts]
        if dims:
            vectors = [_renormalize(v[:dims]) for v in vectors]
        load_ns = 0 if model in self._loaded else 30_000_000
        if texts:
            self._touch(model, body.get("keep_alive"), num_ctx)
        obj: dict[str, Any] = {"model": model, "embeddings": vectors}
        obj.update(
            _drop_zero(
                {
                    "total_duration": load_ns + (time.perf_counter_ns() - start) + 1_000_000,
                    "load_duration": load_ns,
                    "prompt_eval_count": sum(count_tokens(t) for t in texts),
                }
            )
        )
        return json_response(200, obj, content_type=_JSON)

    def _embeddings_legacy(self, req: Request) -> Response:
        asked = self._body_and_model(req)
        if isinstance(asked, Response):
            return asked
        body, model = asked
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str):
            return self._err(400, "invalid input type")
        vec = embedding(prompt, self.embedding_dim) if prompt else []
        return json_response(200, {"embedding": vec}, content_type=_JSON)


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(count_tokens(str(m.get("content") or "")) for m in messages)


def _version_tuple(text: str) -> tuple[int, ...]:
    """``"0.12.4"`` -> ``(0, 12, 4)``; a pre-release suffix (``-rc2``) is ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-", 1)[0])[:3])


def _renormalize(v: list[float]) -> list[float]:
    norm = sum(x * x for x in v) ** 0.5 or 1.0
    return [round(x / norm, 6) for x in v]
