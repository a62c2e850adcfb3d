"""OpenAIBackend: any OpenAI-compatible /chat/completions endpoint over plain httpx.

One code path for OpenAI, OpenRouter, LM Studio, llama.cpp's server, vLLM and Ollama's /v1:
plain httpx keeps us in control of the fields those servers disagree on (`max_tokens`, an
explicit `temperature`) and of timeouts, without the openai SDK's weight.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
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
    hide_key,
    malformed,
    shown_url,
    without_credentials,
)
from ocp_router.backends.base import (
    ARGUMENT_NAMES,
    PAID_TIMEOUT,
    ClosingBackend,
    GenerateRequest,
    GenerateResponse,
    SettingNames,
    chat_messages,
    passes_check,
)
from ocp_router.backends.probe import ModelProbe
from ocp_router.backends.reasoning import reasoning_text, reasoning_tokens, split_think_tag
from ocp_router.errors import (
    BackendContextExceeded,
    BackendError,
    BackendResponseError,
    BackendTimeout,
)
from ocp_router.redact_names import redact_name_head
from ocp_router.tokens import unread_tokens

DEFAULT_URL = "https://api.openai.com/v1"
# How errors name a server other than OpenAI's when the caller gives no `said`.
COMPATIBLE_SERVER = "the OpenAI-compatible server"

logger = logging.getLogger(__name__)


class OpenAIBackend(ClosingBackend):
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        timeout: float = PAID_TIMEOUT,
        max_tokens: int | None = None,
        client: httpx.AsyncClient | None = None,
        names: SettingNames = ARGUMENT_NAMES,
        cut_check: bool = False,
        said: str | None = None,
    ) -> None:
        """`names`: what error messages tell the user to change (by default these arguments).
        `said`: how they name the server; by default "OpenAI" for OpenAI's own API and
        COMPATIBLE_SERVER (with its URL) for any other: a local or hosted compatible server
        (llama.cpp, vLLM, LM Studio, OpenRouter) is no OpenAI, which users read "openai" as.
        The errors' `backend` stays "openai".
        `cut_check`: the server may cut an over-long prompt to fit its context without an
        error (LM Studio's overflow policy, Ollama's /v1): an answer whose usage says it read
        under half of the prompt is then a BackendContextExceeded (the settings' local tier)."""
        self._model = model
        self.names = names
        url, auth = without_credentials(_arguments.http_url("base_url", base_url))
        self.base_url = url.rstrip("/")
        self.shown_url = shown_url(self.base_url)  # for messages: no password
        self.timeout = _arguments.seconds("timeout", timeout)
        self.max_tokens = max_tokens
        self.cut_check = cut_check
        self._json_object_schema = False  # set once the server turns `json_schema` down
        # the `reasoning_effort` values the server turned down: a server may take some levels
        # and not others (gpt-oss on vLLM: not "none"); one without the field costs a retry
        # a value, four at most
        self._efforts_refused: set[str] = set()
        self._key = api_key  # only to keep it out of error messages
        headers = IDENTITY | ({"Authorization": f"Bearer {api_key}"} if api_key else {})
        self._http = ClientOnFirstUse(
            lambda verify: httpx.AsyncClient(
                timeout=httpx.Timeout(timeout, connect=5.0), headers=headers, verify=verify
            ),
            auth,
            client,
        )
        self.said = said or _said_for(self.base_url)
        hints = Hints(reach=self._url_hint, auth=self._key_hint, missing=self._missing_hint(model))
        self._server = Endpoint(
            self._http, self.base_url, backend=self.name, hints=hints, key=api_key, said=self.said
        )
        self._said_at = f"{self.said} at {self.shown_url}"  # as the Endpoint's say it

    @property
    def model(self) -> str:
        return self._model

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(model={self._model!r}, base_url={self.shown_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def is_available(self) -> bool:
        """True when the server answers /models within CHECK_TIMEOUT."""
        return await passes_check(self)

    async def check(self) -> None:
        """Raise a BackendError that says what to do when the server does not answer /models
        (not running, the wrong URL, a key it refuses)."""
        await self._server.send("GET", "/models", missing=self._no_models, timeout=CHECK_TIMEOUT)

    @property
    def _no_models(self) -> str:
        return f"Check {self.names.base_url}: {self.shown_url}/models does not exist."

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        model = request.model or self._model
        messages = chat_messages(request, system_inline=True)
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": False}
        if request.json_schema is not None:
            body["response_format"] = self._response_format(request.json_schema)
        max_tokens = request.max_tokens or self.max_tokens
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if (effort := self._effort(request.think)) is not None:
            body["reasoning_effort"] = effort
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._post_chat(body)
                if effort is not None and _about_effort(response):
                    # A server without the field (or this value): asked again without it,
                    # and not sent this value again.
                    logger.info("%s refused reasoning_effort=%r", self.shown_url, effort)
                    self._efforts_refused.add(effort)
                    del body["reasoning_effort"]
                    response = await self._post_chat(body)
                if self._rejects_json_schema(response, body):
                    # llama-cpp-python's server takes a schema only as {"type": "json_object",
                    # "schema": ...}: ask again that way, and remember it for this server.
                    self._json_object_schema = True
                    body["response_format"] = self._response_format(request.json_schema or {})
                    response = await self._post_chat(body)
        except TimeoutError as exc:
            raise BackendTimeout(
                f"{self._said_at} ({model}) gave no answer within {self.timeout:g}s; raise "
                f"{self.names.timeout}.",
                backend=self.name,
            ) from exc
        if response.status_code != 200:
            raise self._server.status_failure(response, self._missing_hint(model))
        answer = self._parse(response, started, model)
        if self.cut_check:
            self._check_read_whole(request, answer.prompt_tokens, model)
        return answer

    def thinking_sent(self, think: bool | str | None) -> str | None:
        """What a request asking Ollama's `think` is sent now, as `field=value` (None: not
        sent). The router's trace says so."""
        effort = self._effort(think)
        return None if effort is None else f"reasoning_effort={json.dumps(effort)}"

    def _effort(self, think: bool | str | None) -> str | None:
        """`think` as OpenAI's `reasoning_effort`, with Ollama's /v1's values (ollama-api.md
        §7: its levels, "none" for off); None (not sent) for plain True, or a value the server
        turned down."""
        if think is None or think is True:
            return None
        effort = "none" if think is False else str(think)
        return None if effort in self._efforts_refused else effort

    async def _post_chat(self, body: dict[str, Any]) -> httpx.Response:
        return await self._server.send("POST", "/chat/completions", checked=False, json=body)

    def _check_read_whole(self, request: GenerateRequest, read: int, model: str) -> None:
        """A server with no version to ask (unlike Ollama's, ollama_version.py): a count far
        under OCP's estimate of the prompt is taken as a cut."""
        prompt = "".join(m["content"] for m in chat_messages(request, system_inline=True))
        sent = unread_tokens(read, prompt)
        if sent is None:
            return
        raise BackendContextExceeded(
            f"{self._said_at} ({model}) read {read} of about {sent} prompt tokens: it cut the "
            "prompt to fit its context without an error; give the model a larger context "
            "window on that server." + CONTEXT_HINT,
            backend=self.name,
        )

    def _missing_hint(self, model: str) -> str:
        """What to check on a 404: the model, and a base URL short of its /v1 (LM Studio shows
        its server as http://localhost:1234; its API, as vLLM's and Ollama's, is under /v1)."""
        hint = f"Check that {self.names.model} ({model!r}) is served at {self.shown_url}"
        if self.base_url.endswith("/v1"):
            return hint + "."
        return (
            f"{hint}, and {self.names.base_url}: OpenAI-compatible servers answer under /v1 "
            f"(is it {self.shown_url}/v1?)."
        )

    def transport_failure(self, exc: httpx.HTTPError) -> BackendError:
        """`exc`, met talking to this server, as this backend says it: what failed and its
        fix, naming the setting (for a caller that talks to the server itself: the proxy)."""
        return self._server.transport_failure(exc)

    @property
    def _url_hint(self) -> str:
        return f"Check {self.names.base_url} and that the server is running."

    @property
    def _key_hint(self) -> str:
        return f"Set {self.names.api_key}."

    async def probe(self, model: str | None = None, *, tools: bool = False) -> ModelProbe:
        """Ask the server about `model` (default: this backend's): listed by /models or not,
        its context window where the server reports one (llama.cpp `meta.n_ctx_train`, vLLM
        `max_model_len`, OpenRouter `context_length`, LM Studio `max_context_length`). With
        `tools`, a one-token chat offering one tool tells whether it takes tools."""
        model = model or self._model
        response = await self._server.send(
            "GET",
            "/models",
            missing=self._no_models,
            timeout=PROBE_TIMEOUT,
        )
        try:
            listed = [m for m in response.json().get("data", []) if isinstance(m, dict)]
        except (json.JSONDecodeError, AttributeError) as exc:
            raise malformed(self.name, "/models is not a model list", said=self._said_at) from exc
        names = tuple(str(m.get("id")) for m in listed)
        entry = next((m for m in listed if m.get("id") == model), None)
        if entry is None and len(listed) == 1:
            entry = listed[0]  # a one-model server (llama.cpp) answers under any name
        context = None
        if entry is not None:
            meta = entry.get("meta")
            meta = meta if isinstance(meta, dict) else {}
            for value in (
                meta.get("n_ctx_train"),
                entry.get("max_model_len"),
                entry.get("context_length"),
                entry.get("max_context_length"),
            ):
                if isinstance(value, int) and value > 0:
                    context = value
                    break
        takes_tools = await self._takes_tools(model) if tools and model in names else None
        return ModelProbe(
            self.name,
            self.shown_url,
            model,
            model in names,
            names,
            tools=takes_tools,
            context_window=context,
        )

    async def _takes_tools(self, model: str) -> bool | None:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1,
            "stream": False,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "ping",
                        "description": "Answer a ping.",
                        "parameters": {"type": "object", "properties": {}},
                    },
                }
            ],
        }
        try:
            response = await self._server.send(
                "POST", "/chat/completions", checked=False, json=body, timeout=self.timeout
            )
        except BackendError:
            return None
        if response.status_code == 200:
            return True
        return False if response.status_code in (400, 422, 500) else None

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self._json_object_schema:
            return {"type": "json_object", "schema": schema}
        return {
            "type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": schema},
        }

    def _rejects_json_schema(self, response: httpx.Response, body: dict[str, Any]) -> bool:
        fmt = body.get("response_format")
        return (
            response.status_code in (400, 422, 500)
            and isinstance(fmt, dict)
            and fmt.get("type") == "json_schema"
            and "json_object" in response.text
        )

    def _parse(self, response: httpx.Response, started: float, model: str) -> GenerateResponse:
        try:
            data = response.json()
            choice = data["choices"][0]
            message = choice["message"]
            text = message.get("content") or ""
            usage = data.get("usage") or {}
            if not isinstance(usage, dict):
                usage = {}
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            completion_tokens = int(usage.get("completion_tokens") or 0)
            cached = int(_detail(usage, "prompt_tokens_details", "cached_tokens"))
            reported = int(_detail(usage, "completion_tokens_details", "reasoning_tokens"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            shown = redact_name_head(hide_key(response.text, self._key), 80)
            raise malformed(
                self.name, f"no choices[0].message in {shown!r}", said=self._said_at
            ) from exc
        if not isinstance(text, str):
            raise BackendResponseError(
                f"{self._said_at} answered with non-text content", backend=self.name
            )
        try:  # a thinking model's reasoning: llama.cpp, vLLM, Ollama's /v1 (reasoning.py)
            thinking = reasoning_text(message)
        except ValueError as exc:
            raise malformed(self.name, str(exc), said=self._said_at) from exc
        if not thinking:  # llama.cpp with --reasoning-format none: inline in `content`
            text, thinking = split_think_tag(text)
        return GenerateResponse(
            text=text,
            model=str(data.get("model") or model),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            stop_reason=choice.get("finish_reason"),
            cache_read_tokens=cached,
            thinking=thinking,
            reasoning_tokens=reasoning_tokens(reported, thinking, completion_tokens),
        )


def _said_for(base_url: str) -> str:
    """How errors name the server at `base_url`: OpenAI's API by its name, any other as the
    OpenAI-compatible server it is."""
    return "OpenAI" if httpx.URL(base_url).host == "api.openai.com" else COMPATIBLE_SERVER


def _detail(usage: dict[str, Any], details: str, field: str) -> Any:
    """`usage[details][field]` (a breakdown OpenAI sends and local servers may not), or 0."""
    part = usage.get(details)
    return (part.get(field) or 0) if isinstance(part, dict) else 0


def _about_effort(response: httpx.Response) -> bool:
    """A 400 (422: vLLM's validation) that names `reasoning_effort`."""
    return response.status_code in (400, 422) and "reasoning_effort" in response.text
