"""Shared httpx plumbing for the HTTP backends: one error translation, one timing helper."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ocp_router.errors import (
    BackendAuthError,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
)


def shown_url(url: str) -> str:
    """`url` fit for a message or a trace: a password or user in it (basic auth to a proxy in
    front of Ollama, say) is replaced by `***`."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not sep or "@" not in host:
        return url
    return f"{scheme}://***@{host.rpartition('@')[2]}{slash}{path}"


def transport_error(exc: httpx.HTTPError, *, backend: str, url: str, hint: str) -> BackendError:
    """Translate an httpx transport failure into our hierarchy; `hint` says what to do."""
    url = shown_url(url)
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeout(
            f"{backend} at {url} did not answer in time ({exc!r}). {hint}", backend=backend
        )
    if isinstance(exc, httpx.ConnectError):
        return BackendUnavailable(f"cannot reach {backend} at {url}. {hint}", backend=backend)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        # It was reachable and went away, usually mid-answer: starting it is rarely the fix.
        return BackendUnavailable(
            f"{backend} at {url} broke the connection ({exc!r}): if it was answering, it may "
            f"have crashed or run out of memory (check its log, or use a smaller model). {hint}",
            backend=backend,
        )
    return BackendUnavailable(
        f"{backend} at {url} broke the connection ({exc!r}). {hint}", backend=backend
    )


def error_text(response: httpx.Response) -> str:
    """The server's own error message, whatever shape it came in."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:300]
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        return str(err)[:300]
    return str(body)[:300]


# How providers word "the prompt is longer than the model's context window" (Anthropic
# "prompt is too long", OpenAI "context_length_exceeded" / "maximum context length", llama.cpp
# "exceeds the available context size").
_CONTEXT_WORDS = ("too long", "context length", "context_length", "context size", "context window")


def context_hint(code: int, text: str) -> str:
    """The fix for a 400/413 that says the prompt does not fit, else nothing."""
    if code in (400, 413) and any(word in text.lower() for word in _CONTEXT_WORDS):
        return (
            " The request is longer than the model's context window: send less context "
            "(a smaller max_context_tokens or OCP_CONTEXT_TOKENS, or fewer earlier turns)."
        )
    return ""


def rate_limit_message(backend: str, code: int | None, text: str, retry_after: str | None) -> str:
    """What a 429/529 means and when to try again (the provider's retry-after, if it sent one)."""
    when = f"retry after {retry_after} s" if retry_after else "retry later"
    detail = f"{code}: {text}" if text else str(code)
    return f"{backend} is rate limiting or overloaded ({detail}); {when} or route elsewhere."


def status_error(
    response: httpx.Response, *, backend: str, auth_hint: str, model_hint: str
) -> BackendError:
    """Translate an HTTP error status into our hierarchy."""
    code = response.status_code
    text = error_text(response)
    if code in (401, 403):
        return BackendAuthError(
            f"{backend} rejected the key ({code}: {text}). {auth_hint}",
            backend=backend,
            status_code=code,
        )
    if code == 404:
        return BackendUnavailable(
            f"{backend}: {text}. {model_hint}", backend=backend, status_code=code
        )
    if code in (429, 529) or (code == 503 and "overload" in text.lower()):
        return BackendRateLimited(
            rate_limit_message(backend, code, text, response.headers.get("retry-after")),
            backend=backend,
            status_code=code,
        )
    return BackendResponseError(
        f"{backend} answered {code}: {text.rstrip('.')}.{context_hint(code, text)}",
        backend=backend,
        status_code=code,
    )


def malformed(backend: str, detail: str) -> BackendResponseError:
    return BackendResponseError(
        f"{backend} sent a response we could not read ({detail}); check that the URL points "
        "at the right kind of server.",
        backend=backend,
    )
