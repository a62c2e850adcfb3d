"""The local tier: a `Chat` sent to Ollama's `/api/chat` or to an OpenAI-compatible local
server's `/chat/completions`, always streamed, read back as `Event`s (local_events.py), the
whole answer within OCP_LOCAL_TIMEOUT.

Every failure is a `LocalFailed`: before the first event the proxy escalates to the paid tier;
after it the client's dialect reports the error.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import anyio
import httpx

from ocp_router.backends.ollama_version import SilentCutCheck
from ocp_router.redact_names import redact_name_head
from ocp_router.tokens import unread_tokens
from ocp_server.proxy.chat import ANY_JSON, Chat, Event
from ocp_server.proxy.lines import LineBuffer, LineTooLong
from ocp_server.proxy.local_events import BadAnswer, ollama_events, openai_events, think_tags
from ocp_server.proxy.stops import watch_stops
from ocp_server.proxy.whole_body import BodyTooLarge, read_whole

T = TypeVar("T")


class LocalFailed(Exception):
    """The local model could not answer (down, an HTTP error, an error in the stream, a
    broken body, an empty answer). `str()` names the backend and model ("ollama llama3.2:
    HTTP 404 ..."); `detail` is the failure alone, for where the backend and model are
    already named (an attempt's error)."""

    def __init__(
        self, target: LocalTarget, detail: str, error_type: str = "BackendResponseError"
    ) -> None:
        detail = without_userinfo(detail)
        super().__init__(f"{target.kind} {target.model}: {detail}")
        self.detail = detail
        # As the router names it (ocp_router.errors): BackendUnavailable only when the model
        # could not be reached, which the trace tells from a model that failed an answer.
        self.error_type = error_type


# A URL's `user:password@` (OCP_OLLAMA_URL or OCP_LOCAL_BASE_URL with basic auth for a proxy in
# front of the server), which a server's own error text or an exception's may quote; the
# password is no secret pattern redaction knows ("hunter2").
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@")


def without_userinfo(text: str) -> str:
    """`text` with every URL's user and password shown as `***`."""
    return _USERINFO.sub(r"\1***@", text)


@dataclass(frozen=True, slots=True)
class LocalTarget:
    kind: str  # ollama | openai
    base_url: str
    model: str
    timeout: float
    # OCP_LOCAL_MAX_TOKENS, sent when the client gives no limit of its own: a local server
    # asked for none writes until its context is full (llama.cpp, vLLM).
    max_tokens: int | None = None
    # A transport failure in the router's words, with its fix ("cannot reach ollama at …
    # Start it with `ollama serve`, or set OCP_OLLAMA_URL …"); None: the exception's own.
    explain: Callable[[httpx.HTTPError], Exception] | None = None
    # OCP_LOCAL_API_KEY, a bearer token for an OpenAI-compatible server that requires one
    api_key: str | None = field(default=None, repr=False)
    # Models that answered `think` with Ollama's 400 "does not support thinking": asked
    # without it from then on, while the proxy runs.
    unthinking: set[str] = field(default_factory=set, compare=False, repr=False)
    # (model, level) pairs the server answered with a 400 naming the field: Ollama's `think`
    # (older than v0.11.1, or "max" before v0.22.0; asked `think: true` instead), an
    # OpenAI-compatible server's `reasoning_effort` (an older vLLM takes "low" to "high"
    # alone; asked without it). Per level, as a server may refuse one and take the others:
    # one that takes none costs a refused request per level, at most five.
    refused_levels: set[tuple[str, str]] = field(default_factory=set, compare=False, repr=False)


async def unread_prompt(
    chat: Chat, done: Event, client: httpx.AsyncClient, cuts: SilentCutCheck | None
) -> str | None:
    """What is wrong when the local model read far less than the prompt (its `done` usage
    against OCP's estimate): the server cut it to fit its context without an error, as Ollama
    before v0.12.4 does whatever `truncate` says. None when it read it whole, or when `cuts`
    (the Ollama's check) says the server is newer: there a low count is a cache hit. `cuts`
    None (an OpenAI-compatible server: no version to ask) takes a low count as a cut."""
    read = done.usage.input_tokens
    sent = unread_tokens(read, "".join(m.content for m in chat.messages))
    if sent is None or (cuts is not None and not await cuts.may_cut(client)):
        return None
    reports = f", version {cuts.version or 'none'}" if cuts is not None else ""
    return (
        f"the local model read {read} of about {sent} prompt tokens: the server cut the "
        f"prompt to fit its context without an error (Ollama before v0.12.4 does{reports})"
    )


def _ollama_body(chat: Chat, model: str, think: bool | str | None = None) -> dict[str, Any]:
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
    # Ollama cuts a prompt longer than num_ctx silently by default; refused instead (a 400
    # before the first byte from v0.12.4), the request escalates to the paid tier.
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": True, "truncate": False}
    if options:
        body["options"] = options
    if chat.tools:
        body["tools"] = [{"type": "function", "function": t} for t in chat.tools]
    if chat.json_format is not None:  # a schema, or "json": Ollama constrains its output to it
        body["format"] = chat.json_format
    if think is not None:  # (a model without thinking answers 400 to true or a level)
        body["think"] = think  # true, false, or a level ("low", "medium", "high", "max")
    return body


# What Ollama answers `think` with for a model that cannot think (a 400, server/routes.go).
_NO_THINKING = "does not support thinking"


class _AskAgain(Exception):
    """The server refused what it was asked of thinking, remembered on the target: asked
    again without it. `str()` is the trace's note. Either the model cannot think (Ollama's
    "does not support thinking" to `think`), or a 400 about the level sent: Ollama's levels
    came with v0.11.1 ("max" with v0.22.0), and an older server fails to decode one (Go's
    "cannot unmarshal string into Go struct field ChatRequest.think of type bool")."""


# How a 400 about the level names the field: Ollama's (Go's decoding error, or "invalid
# think value"), an OpenAI-compatible server's that refuses `reasoning_effort`.
_ABOUT_LEVELS = re.compile(r"think|reasoning_effort")


def _note(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


async def _without_thinking(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """`events` but the model's thinking, which the client did not ask to see."""
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if event.kind != "thinking":
                yield event


def _openai_body(chat: Chat, model: str, level: str | None = None) -> dict[str, Any]:
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
    if level:  # OpenAI's field, which Ollama's /v1 takes with its own levels
        body["reasoning_effort"] = level
    if chat.json_format == ANY_JSON:
        body["response_format"] = {"type": "json_object"}
    elif isinstance(chat.json_format, dict):
        # a server that cannot follow it answers 400 before the first byte: the paid tier's
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": chat.json_format},
        }
    return body


async def stream_local(
    client: httpx.AsyncClient, target: LocalTarget, chat: Chat, notes: list[str]
) -> AsyncGenerator[Event, None]:
    """The local answer as events, ending with exactly one `done`, all within
    `target.timeout` (OCP_LOCAL_TIMEOUT bounds the whole answer, not one read: a model that
    keeps trickling tokens is stopped too). What of the request the server refused, now or
    earlier, is added to `notes` (the trace's). Raises `LocalFailed`."""
    if chat.max_tokens is None and target.max_tokens is not None:
        chat = replace(chat, max_tokens=target.max_tokens)
    think = _think(chat, target)
    # OpenAI's field, with Ollama's /v1's values: its levels, and "none" for off
    level = "none" if think is False and target.kind == "openai" else None
    level = think if isinstance(think, str) else level
    field_name = "think" if target.kind == "ollama" else "reasoning_effort"
    if level is not None and (target.model, level) in target.refused_levels:
        _note(notes, f"local: {field_name} {level!r} not sent ({target.kind} refused it earlier)")
        think = (True if chat.thinks else None) if isinstance(think, str) else think
        level = None
    if target.kind == "ollama":
        url = target.base_url.rstrip("/") + "/api/chat"
        body = _ollama_body(chat, target.model, think)
        parse = ollama_events
    else:
        url = target.base_url.rstrip("/") + "/chat/completions"
        body = _openai_body(chat, target.model, level)
        parse = openai_events
    deadline = asyncio.get_running_loop().time() + target.timeout
    timeout = httpx.Timeout(target.timeout, connect=min(target.timeout, 5.0))
    auth = {"authorization": f"Bearer {target.api_key}"} if target.api_key else None
    request = client.build_request("POST", url, json=body, headers=auth, timeout=timeout)
    try:
        response = await _by(deadline, target, client.send(request, stream=True))
        try:
            if response.status_code != 200:
                try:
                    raw = await _by(deadline, target, read_whole(response))
                except BodyTooLarge as exc:
                    raise LocalFailed(target, f"HTTP {response.status_code}, {exc}") from None
                text = raw.decode("utf-8", "replace")
                shown = redact_name_head(text, 300)  # redacted whole, then cut
                if think and response.status_code == 400 and _NO_THINKING in text:
                    target.unthinking.add(target.model)
                    why = f"{target.kind} refused {field_name} (HTTP 400 {shown})"
                    raise _AskAgain(f"local: {why}; asked again without it")
                if level and response.status_code == 400 and _ABOUT_LEVELS.search(text):
                    target.refused_levels.add((target.model, level))
                    why = f"{target.kind} refused {field_name} {level!r} (HTTP 400 {shown})"
                    raise _AskAgain(f"local: {why}; asked again without the level, as from now on")
                # 404: the model is not pulled (Ollama) or the URL names no server's API
                kind = "BackendUnavailable" if response.status_code == 404 else None
                raise LocalFailed(
                    target, f"HTTP {response.status_code} {shown}", kind or "BackendResponseError"
                )
            events = think_tags(parse(_lines(response, target, deadline)))
            if not chat.think:
                events = _without_thinking(events)
            if chat.watch:  # the client's sequences, matched here (stops.py)
                prompt = "".join(m.content for m in chat.messages)
                events = watch_stops(events, chat.watch, prompt)
            async with aclosing(events):  # type: ignore[type-var]
                async for event in events:
                    yield event
        finally:
            with anyio.CancelScope(shield=True):  # cancelled by a hangup: close still
                await response.aclose()
    except httpx.HTTPError as exc:
        said = target.explain(exc) if target.explain is not None else None
        kind = (
            type(said).__name__
            if said is not None
            else "BackendTimeout"
            if isinstance(exc, httpx.TimeoutException)
            else "BackendUnavailable"
        )
        detail = str(said) if said else f"{type(exc).__name__}: {exc}"
        raise LocalFailed(target, detail, kind) from exc
    except BadAnswer as exc:
        raise LocalFailed(target, str(exc)) from exc
    except _AskAgain as exc:
        _note(notes, str(exc))
        again = stream_local(client, target, chat, notes)
        async with aclosing(again):
            async for event in again:
                yield event


def _think(chat: Chat, target: LocalTarget) -> bool | str | None:
    """What the local model is asked of thinking: its level, True (think, at its default
    level), False (do not think; Ollama refuses only a model that cannot think asked to), or
    None (nothing said). One that cannot think is asked nothing but to stay off. (A level
    the server refused is taken out by the caller.)"""
    if chat.thinks is False:
        return False
    if target.model in target.unthinking:
        return None
    return chat.effort or (True if chat.thinks else None)


async def _by(deadline: float, target: LocalTarget, work: Awaitable[T]) -> T:
    """`work`'s result, or LocalFailed once the answer's time is up."""
    try:
        async with asyncio.timeout_at(deadline):
            return await work
    except TimeoutError:
        raise LocalFailed(
            target,
            f"no complete answer within {target.timeout:g}s; raise OCP_LOCAL_TIMEOUT or use a "
            "smaller model",
            "BackendTimeout",
        ) from None


async def _lines(
    response: httpx.Response, target: LocalTarget, deadline: float
) -> AsyncIterator[str]:
    """The body's lines, each read by the deadline, none longer than MAX_LINE_BYTES."""
    buffer = LineBuffer()
    chunks = response.aiter_bytes()
    while True:
        try:
            chunk = await _by(deadline, target, anext(chunks))
        except StopAsyncIteration:
            break
        try:
            lines = buffer.lines(chunk)
        except LineTooLong as exc:
            raise LocalFailed(target, str(exc)) from None
        for line in lines:
            yield line.decode("utf-8", "replace")
    if rest := buffer.rest():
        yield rest.decode("utf-8", "replace")
