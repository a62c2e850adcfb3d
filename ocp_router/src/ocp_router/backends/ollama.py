"""OllamaBackend: a local model through Ollama's native /api/chat (streamed NDJSON)."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from contextlib import aclosing
from typing import Any

import httpx

from ocp_router import _arguments
from ocp_router.backends._endpoint import Endpoint, Hints
from ocp_router.backends._http import (
    CHECK_TIMEOUT,
    CONTEXT_HINT,
    IDENTITY,
    PROBE_TIMEOUT,
    ClientOnFirstUse,
    LineTooLong,
    StreamTooLong,
    UndecodableBody,
    capped_lines,
    malformed,
    shown_url,
    without_credentials,
)
from ocp_router.backends.base import (
    ARGUMENT_NAMES,
    LOCAL_TIMEOUT,
    ClosingBackend,
    GenerateRequest,
    GenerateResponse,
    SettingNames,
    chat_messages,
    passes_check,
)
from ocp_router.backends.ollama_version import SilentCutCheck
from ocp_router.backends.probe import ModelProbe
from ocp_router.backends.reasoning import (
    OLLAMA_FIELDS,
    reasoning_text,
    reasoning_tokens,
    split_think_tag,
)
from ocp_router.errors import (
    BackendContextExceeded,
    BackendError,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
)
from ocp_router.redact_names import redact_name_head
from ocp_router.tokens import unread_tokens

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:11434"
DEFAULT_MODEL = "llama3.2"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _full_name(model: str) -> str:
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


def _folded(model: str) -> str:
    """`model` as Ollama looks it up: the default tag added, ASCII case ignored (from v0.5.2
    its handlers match each part of a name case-insensitively to the model pulled)."""
    return _full_name(model).lower()


class OllamaBackend(ClosingBackend):
    """Ollama's native API. `timeout` bounds a whole answer, including model load."""

    name = "ollama"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = LOCAL_TIMEOUT,
        keep_alive: str | None = None,
        num_ctx: int | None = None,
        client: httpx.AsyncClient | None = None,
        names: SettingNames = ARGUMENT_NAMES,
    ) -> None:
        """`names`: what error messages tell the user to change (by default these arguments)."""
        self._model = model
        self.names = names
        url, auth = without_credentials(_arguments.http_url("base_url", base_url))
        self.base_url = url.rstrip("/")
        self.shown_url = shown_url(self.base_url)  # for messages: no password
        self.timeout = _arguments.seconds("timeout", timeout)
        self.keep_alive = keep_alive
        self.num_ctx = num_ctx
        self._http = ClientOnFirstUse(
            lambda verify: httpx.AsyncClient(
                timeout=httpx.Timeout(timeout, connect=5.0), headers=IDENTITY, verify=verify
            ),
            auth,
            client,
        )
        self._cuts = SilentCutCheck(self.base_url)
        # What the server refused of `think` (a 400 naming it), not asked again: any thinking
        # (the model cannot think), or a level (a server before v0.11.1 takes only true/false).
        self._no_thinking = False
        self._no_levels = False
        hints = Hints(reach=self._reach_hint, auth=self._auth_hint, missing=self._pull_hint)
        self._server = Endpoint(self._http, self.base_url, backend=self.name, hints=hints)

    @property
    def model(self) -> str:
        return self._model

    def same_model(self, name: str) -> bool:
        """Whether `name` is this backend's model as Ollama reads names: `llama3.2` is
        `llama3.2:latest` (what `ollama list` shows, and what Ollama answers under), and
        `Llama3.2` is `llama3.2`."""
        return _folded(name) == _folded(self._model)

    @property
    def _client(self) -> httpx.AsyncClient:
        return self._http.get()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def is_available(self) -> bool:
        """True when the server answers within CHECK_TIMEOUT and the model is pulled."""
        return await passes_check(self)

    async def check(self) -> None:
        """Raise a BackendError that says what to do when the server or model is missing."""
        response = await self._server.send("GET", "/api/tags", timeout=CHECK_TIMEOUT)
        try:
            names = {m.get("name") or m.get("model") for m in response.json().get("models", [])}
        except (json.JSONDecodeError, AttributeError) as exc:
            raise malformed(self.name, "/api/tags is not a model list") from exc
        if not any(isinstance(n, str) and self.same_model(n) for n in names):
            raise BackendUnavailable(
                f"model {self._model!r} is not pulled in Ollama at "
                f"{self.shown_url}. {self._pull_hint}",
                backend=self.name,
            )

    async def probe(self, model: str | None = None) -> ModelProbe:
        """Ask Ollama about `model` (default: this backend's): pulled or not (/api/tags), its
        capabilities and trained context (/api/show), its loaded context (/api/ps). Raises a
        BackendError with the fix when the server cannot be reached."""
        model = model or self._model
        try:
            tags = await self._server.send("GET", "/api/tags", timeout=PROBE_TIMEOUT)
            names = tuple(
                str(m.get("name") or m.get("model")) for m in tags.json().get("models", [])
            )
            present = any(_folded(n) == _folded(model) for n in names)
            if not present:
                return ModelProbe(self.name, self.shown_url, model, False, names)
            show = await self._server.send(
                "POST", "/api/show", checked=False, json={"model": model}, timeout=PROBE_TIMEOUT
            )
            info = show.json() if show.status_code == 200 else {}
            ps = await self._server.send("GET", "/api/ps", checked=False, timeout=PROBE_TIMEOUT)
            loaded = ps.json().get("models", []) if ps.status_code == 200 else []
        except (json.JSONDecodeError, AttributeError) as exc:
            raise malformed(self.name, "/api/tags, /api/show or /api/ps is not JSON") from exc
        caps = info.get("capabilities") if isinstance(info, dict) else None
        model_info = info.get("model_info") if isinstance(info, dict) else None
        context = None
        if isinstance(model_info, dict):
            for key, value in model_info.items():
                if key.endswith(".context_length") and isinstance(value, int):
                    context = value
        loaded_context = None
        for m in loaded if isinstance(loaded, list) else []:
            if isinstance(m, dict) and _folded(str(m.get("name"))) == _folded(model):
                value = m.get("context_length")
                loaded_context = value if isinstance(value, int) else None
        return ModelProbe(
            self.name,
            self.shown_url,
            model,
            True,
            names,
            tools=("tools" in caps) if isinstance(caps, list) else None,
            context_window=context,
            loaded_context=loaded_context,
        )

    @property
    def _auth_hint(self) -> str:
        return (
            f"OCP sends Ollama no credentials: point {self.names.base_url} at an Ollama that "
            "needs none (a local `ollama serve`)."
        )

    def transport_failure(self, exc: httpx.HTTPError) -> BackendError:
        """`exc`, met talking to this server, as this backend says it: what failed and its
        fix, naming the setting (for a caller that talks to the server itself: the proxy)."""
        return self._server.transport_failure(exc)

    def not_installed(self, exc: BaseException | None) -> bool:
        """Whether `exc`, met reaching this server, means Ollama is not installed on this
        machine: nothing listens at a local URL and `ollama` is not on PATH."""
        return (
            isinstance(exc, httpx.ConnectError)
            and httpx.URL(self.base_url).host in _LOCAL_HOSTS
            and shutil.which("ollama") is None
        )

    def _reach_hint(self, exc: httpx.HTTPError) -> str:
        """The fix for `exc`: start Ollama, or (not installed: `ollama serve` is a command the
        user does not have) install it. Every caller says this one (a route's attempts, the
        proxy, a dry run, doctor)."""
        if self.not_installed(exc):
            return (
                "No Ollama here (`ollama` is not on PATH): install it from https://ollama.com, "
                f"then `ollama pull {self._model}` (or set {self.names.base_url} to an Ollama "
                "elsewhere)."
            )
        return f"Start it with `ollama serve`, or set {self.names.base_url} to where it runs."

    @property
    def _pull_hint(self) -> str:
        return f"Run `ollama pull {self._model}` or set {self.names.model} to a pulled model."

    def _body(self, request: GenerateRequest) -> dict[str, Any]:
        messages = chat_messages(request, system_inline=True)
        options: dict[str, Any] = {}
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if self.num_ctx is not None:
            options["num_ctx"] = self.num_ctx
        model = request.model or self._model
        # Ollama cuts a prompt longer than num_ctx silently by default: the model would answer
        # what it never fully saw. Refused instead (a 400 from v0.12.4), the router escalates.
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": True,
            "truncate": False,
        }
        if request.json_schema is not None:
            body["format"] = request.json_schema
        if (think := self._think(request.think)) is not None:
            body["think"] = think
        if options:
            body["options"] = options
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        return body

    def thinking_sent(self, think: bool | str | None) -> str | None:
        """What a request asking `think` is sent now, as `field=value`, given what the server
        refused before (None: not sent). The router's trace says so."""
        sent = self._think(think)
        return None if sent is None else f"think={json.dumps(sent)}"

    def _think(self, asked: bool | str | None) -> bool | str | None:
        """`think` as sent, given what the server refused before (None: not sent)."""
        if asked is None or (self._no_thinking and asked is not False):
            return None
        return True if isinstance(asked, str) and self._no_levels else asked

    def _refused_think(self, exc: BackendResponseError, asked: bool | str | None) -> bool:
        """Whether `exc` is the server refusing `think` (a 400 naming it), remembered so it
        is not sent so again; False for any other error."""
        sent = self._think(asked)
        if exc.status_code != 400 or sent in (None, False) or "think" not in str(exc):
            return False
        if "does not support thinking" in str(exc) or not isinstance(sent, str):
            self._no_thinking = True
        else:
            self._no_levels = True
        logger.info("ollama at %s refused think=%r: %s", self.shown_url, sent, exc)
        return True

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    final, text, thinking = await self._stream(request)
                except BackendResponseError as exc:
                    if not self._refused_think(exc, request.think):
                        raise
                    final, text, thinking = await self._stream(request)
        except TimeoutError as exc:
            raise BackendTimeout(
                f"ollama ({self._model}) gave no complete answer within {self.timeout:g}s; raise "
                f"{self.names.timeout} or use a smaller model.",
                backend=self.name,
            ) from exc
        read = int(final.get("prompt_eval_count", 0))
        await self._check_read_whole(request, read)
        if not thinking:  # a model whose thinking Ollama does not parse: inline in `content`
            text, thinking = split_think_tag(text)
        completion_tokens = int(final.get("eval_count", 0))
        return GenerateResponse(
            text=text,
            model=str(final.get("model") or request.model or self._model),
            prompt_tokens=read,
            completion_tokens=completion_tokens,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            stop_reason=final.get("done_reason"),
            thinking=thinking,
            # Ollama counts thinking in eval_count without saying how much: estimated
            reasoning_tokens=reasoning_tokens(0, thinking, completion_tokens),
        )

    async def _check_read_whole(self, request: GenerateRequest, read: int) -> None:
        """An Ollama older than v0.12.4 ignores `truncate: false` and cuts an over-long prompt
        silently; `prompt_eval_count` (the prompt tokens the model read) then falls far short
        of the prompt. On a later one a low count is a cache hit (ollama_version.py)."""
        prompt = "".join(m["content"] for m in chat_messages(request, system_inline=True))
        sent = unread_tokens(read, prompt)
        if sent is None or not await self._cuts.may_cut(self._client):
            return
        raise BackendContextExceeded(
            f"ollama ({self._model}) read {read} of about {sent} prompt tokens: it cut the "
            "prompt to fit its context (num_ctx) without an error, as Ollama before v0.12.4 "
            f"does (this one reports version {self._cuts.version or 'none'}); start Ollama "
            "with a larger OLLAMA_CONTEXT_LENGTH or update it." + CONTEXT_HINT,
            backend=self.name,
        )

    async def _stream(self, request: GenerateRequest) -> tuple[dict[str, Any], str, str]:
        """The final line, the answer and the thinking (`message.thinking`, in lines of its
        own before the answer's when the model thinks)."""
        parts: list[str] = []
        thoughts: list[str] = []
        async with self._server.stream("POST", "/api/chat", json=self._body(request)) as response:
            try:
                async with aclosing(capped_lines(response)) as lines:
                    async for line in lines:
                        if not line.strip():
                            continue
                        chunk = self._chunk(line)
                        message = chunk.get("message") or {}
                        if not isinstance(message, dict):
                            raise malformed(self.name, "stream line's message is not an object")
                        parts.append(str(message.get("content") or ""))
                        try:
                            thoughts.append(reasoning_text(message, "message", OLLAMA_FIELDS))
                        except ValueError as exc:
                            raise malformed(self.name, str(exc)) from exc
                        if chunk.get("done"):
                            return chunk, "".join(parts), "".join(thoughts)
            except (LineTooLong, StreamTooLong, UndecodableBody) as exc:
                raise malformed(self.name, str(exc)) from exc
        raise malformed(self.name, "stream ended without a final done line")

    def _chunk(self, line: str) -> dict[str, Any]:
        """One NDJSON line of the answer; an error line is the backend's error."""
        try:
            chunk = json.loads(line)
        except json.JSONDecodeError as exc:
            raise malformed(
                self.name, f"non-JSON stream line {redact_name_head(line, 80)!r}"
            ) from exc
        if not isinstance(chunk, dict):
            raise malformed(self.name, "stream line is not an object")
        if "error" in chunk:
            raise BackendResponseError(
                f"ollama failed mid-answer: {chunk['error']}", backend=self.name
            )
        return chunk
