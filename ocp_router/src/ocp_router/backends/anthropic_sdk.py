"""The anthropic SDK's side of AnthropicBackend (backends/anthropic.py): its errors mapped onto
ours, its client with every body capped. Imported when the backend first sends a request, not
with the backend: the SDK's import and its client's TLS context are ~150 ms of CPU, which a
server with a key set paid before its first search. Needs the `anthropic` extra:
`pip install 'ocp-router[anthropic]'`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx2

from ocp_router.backends._http import (
    CONTEXT_HINT,
    IDENTITY,
    MAX_LINE_BYTES,
    UndecodableBody,
    exceeds_context,
    hide_key,
    inflatable,
    inflated,
    never_sent,
    rate_limit_message,
    retry_after,
    wire_codings,
)
from ocp_router.backends.base import ARGUMENT_NAMES, SettingNames
from ocp_router.errors import (
    BackendAuthError,
    BackendContextExceeded,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
)
from ocp_router.redact_names import redact_name_head

NAME = "anthropic"


def translate(
    exc: anthropic.AnthropicError,
    model: str,
    key: str | None = None,
    names: SettingNames = ARGUMENT_NAMES,
) -> BackendError:
    """Map every anthropic SDK error onto our hierarchy (tests pin each mapping); `key`, the
    one sent, is never quoted (a gateway may echo it in its error); `names`: what the hints
    tell the user to change."""
    name = NAME
    status = getattr(exc, "status_code", None)
    if isinstance(exc, BackendResponseError):
        return exc  # a body refused while read (_Refused): past the cap, or undecodable
    if isinstance(exc, anthropic.APITimeoutError):
        return BackendTimeout(
            f"anthropic did not answer in time; raise {names.timeout}. ({exc})",
            backend=name,
            sent=not never_sent(exc.__cause__),  # the SDK raises it from httpx2's timeout
        )
    if isinstance(exc, anthropic.APIConnectionError):
        return BackendUnavailable(
            f"cannot reach the Anthropic API ({exc}); check the network or {names.base_url}.",
            backend=name,
        )
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return BackendAuthError(
            f"anthropic rejected the key ({status}). Set {names.api_key}.",
            backend=name,
            status_code=status,
        )
    if isinstance(exc, anthropic.RateLimitError) or status == 529:
        response = getattr(exc, "response", None)
        when = retry_after(response.headers) if response is not None else None
        return BackendRateLimited(
            rate_limit_message(name, status, "", when), backend=name, status_code=status
        )
    if isinstance(exc, anthropic.NotFoundError):
        return BackendUnavailable(
            f"anthropic has no model {model!r}; check {names.model}.",
            backend=name,
            status_code=status,
        )
    if isinstance(exc, anthropic.APIStatusError):
        text = hide_key(_api_message(exc), key).rstrip(".")
        if exceeds_context(exc.status_code, exc.body, text):
            return BackendContextExceeded(
                f"anthropic answered {status}: {text}.{CONTEXT_HINT}",
                backend=name,
                status_code=status,
            )
        return BackendResponseError(
            f"anthropic answered {status}: {text}.", backend=name, status_code=status
        )
    return BackendResponseError(
        f"anthropic sent a response we could not read ({hide_key(str(exc), key)})", backend=name
    )


def _api_message(exc: anthropic.APIStatusError) -> str:
    """The API's own error message (`exc.message` is the SDK's repr of the whole body)."""
    body = exc.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return redact_name_head(str(error["message"]), 300)  # redacted whole, then cut
    return redact_name_head(exc.message, 300)


class _Refused(BackendResponseError, anthropic.AnthropicError):
    """A body refused while the SDK reads it. An AnthropicError, so the SDK neither wraps it
    in an APIConnectionError nor retries it: a body past the cap is no honest answer, and
    each retry read (and billed) it again."""


class _CappedStream(httpx2.AsyncByteStream):
    """A response body that stops past `limit` bytes (an event stream: past `limit` bytes in
    one line, as a stream may go on for long): the SDK reads a body whole, and a stream's
    event whole, holding one that never ends, or a huge one, until the timeout. A gzip or
    deflate body (sent though the client asked for identity) is decoded here, a piece at a
    time, and counted decoded: its wire bytes may be a thousandth of it."""

    def __init__(
        self,
        inner: httpx2.AsyncByteStream,
        status: int,
        *,
        sse: bool,
        hint: str,
        limit: int,
        coding: str | None = None,
    ) -> None:
        self._inner = inner
        self._status = status
        self._sse = sse
        self._hint = hint
        self._limit = limit
        self._coding = coding

    async def __aiter__(self) -> AsyncIterator[bytes]:
        count = 0  # bytes of the body, or of the stream's current line
        chunks = inflated(self._inner, self._coding) if self._coding else self._inner
        try:
            async for chunk in chunks:
                last_break = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) if self._sse else -1
                if last_break == -1:
                    count += len(chunk)
                else:
                    breaks = (chunk.find(b"\n"), chunk.find(b"\r"))
                    first_break = min(i for i in breaks if i != -1)
                    if count + first_break > self._limit:
                        raise self._too_long()
                    count = len(chunk) - last_break - 1
                if count > self._limit:
                    raise self._too_long()
                yield chunk
        except UndecodableBody as exc:
            raise _Refused(
                f"anthropic sent a response we could not read ({exc}); {self._hint}",
                backend=NAME,
                status_code=self._status,
            ) from exc

    def _too_long(self) -> _Refused:
        what = "an event-stream line" if self._sse else "a response body"
        return _Refused(
            f"anthropic sent {what} longer than {self._limit:,} bytes (answered "
            f"{self._status}); stopped reading it: {self._hint}",
            backend=NAME,
            status_code=self._status,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def capped_http_client(hint: str, limit: int = MAX_LINE_BYTES) -> httpx2.AsyncClient:
    """The SDK's own default client (its proxies, keep-alive, limits), asking for bodies
    uncompressed, with every response body read through `_CappedStream`; `hint`: what the
    error tells the user to check."""

    async def cap(response: httpx2.Response) -> None:
        if not isinstance(response.stream, httpx2.AsyncByteStream):
            return  # a sync stream, which an async client's transport never gives
        codings = wire_codings(response.headers.get("content-encoding", ""))
        coding = inflatable(codings)
        if codings and coding is None:
            # httpx2 would pass the body on undecoded, or decode it whole (several codings)
            raise _Refused(
                f"anthropic answered in a content-encoding OCP does not read "
                f"({', '.join(codings)}), though it asked for identity (answered "
                f"{response.status_code}): {hint}",
                backend=NAME,
                status_code=response.status_code,
            )
        if coding is not None:
            # Decoded by _CappedStream: httpx2 must not decode it again.
            del response.headers["content-encoding"]
            response.headers.pop("content-length", None)
        sse = response.headers.get("content-type", "").startswith("text/event-stream")
        response.stream = _CappedStream(
            response.stream, response.status_code, sse=sse, hint=hint, limit=limit, coding=coding
        )

    return anthropic.DefaultAsyncHttpxClient(headers=IDENTITY, event_hooks={"response": [cap]})


def make_client(
    *,
    api_key: str,
    base_url: str,
    headers: dict[str, str] | None,
    timeout: float,
    max_retries: int,
    names: SettingNames,
) -> anthropic.AsyncAnthropic:
    """The backend's client, every response body read through the cap, sending the headers
    OCP's settings make (`headers`) and no others."""
    client = anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        default_headers=headers,
        http_client=capped_http_client(f"check that {names.base_url} points at the Anthropic API."),
    )
    # The SDK adds the process's ANTHROPIC_CUSTOM_HEADERS to every request, read by itself:
    # an ocp-server Claude Code starts inherits Claude Code's, where the README has users put
    # OCP's proxy token, which then went to the paid provider. Only the settings configure OCP.
    client._custom_headers = dict(headers or {})
    return client
