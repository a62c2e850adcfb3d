"""Shared httpx plumbing for the HTTP backends: one error translation, one timing helper."""

from __future__ import annotations

import json
import logging
import ssl
import threading
import zlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from ocp_router.errors import (
    BackendAuthError,
    BackendContextExceeded,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
)
from ocp_router.redact_names import redact_name, redact_name_head

logger = logging.getLogger(__name__)


def shown_url(url: str) -> str:
    """`url` fit for a message or a trace: a password or user in it (basic auth to a proxy in
    front of Ollama, say) is replaced by `***`, and a token in its path or query redacted."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:
        url = f"{scheme}://***@{host.rpartition('@')[2]}{slash}{path}"
    return redact_name(url).text


class TLSAhead:
    """httpx's default TLS context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR), built in a
    daemon thread once a backend that may need it is made, and shared by every client made
    after: ~20 ms of CPU (90 ms of wall on a loaded host) that the first route's client spent
    on the event loop. Reading the CAs releases the GIL, so the loop goes on meanwhile."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False
        self._built = threading.Event()
        self._context: ssl.SSLContext | None = None

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._build, name="ocp-tls", daemon=True).start()

    def _build(self) -> None:
        try:
            self._context = httpx.create_ssl_context()
        except Exception:  # noqa: BLE001 - the client builds its own, and says what failed
            logger.debug("building the TLS context ahead failed", exc_info=True)
        finally:
            self._built.set()

    def verify(self) -> ssl.SSLContext | bool:
        """The context, once built (waited for if begun), else True: the client builds its own."""
        if not self._started:
            return True
        self._built.wait()
        return self._context if self._context is not None else True


#: The process's one (`ClientOnFirstUse` starts it).
TLS_AHEAD = TLSAhead()


class ClientOnFirstUse:
    """A backend's httpx client, made when first asked for (`get`), not with the backend: its
    TLS context and httpcore's import are ~40 ms of CPU each server start, and a server asked
    only to search never sends a request. The TLS context is built ahead, in a thread
    (`TLSAhead`), and handed to `make`. `auth` is set on it (on `given` at once)."""

    def __init__(
        self,
        make: Callable[[ssl.SSLContext | bool], httpx.AsyncClient],
        auth: httpx.BasicAuth | None,
        given: httpx.AsyncClient | None = None,
    ) -> None:
        self._make = make
        self._auth = auth
        self._closed = False
        self._client = None if given is None else self._with_auth(given)
        if given is None:
            TLS_AHEAD.start()

    @property
    def made(self) -> bool:
        return self._client is not None

    def get(self) -> httpx.AsyncClient:
        if self._client is None:
            if self._closed:  # as httpx says of a closed client: no new one after aclose
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            self._client = self._with_auth(self._make(TLS_AHEAD.verify()))
        return self._client

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()

    def _with_auth(self, client: httpx.AsyncClient) -> httpx.AsyncClient:
        if self._auth is not None:
            client.auth = self._auth
        return client


def without_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """`url` without the user and password in it, and those as basic auth: httpx sends the
    same header either way, but logs every request's URL as it is, password included."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not sep or "@" not in host:
        return url, None
    parsed = httpx.URL(url)
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}", httpx.BasicAuth(
        parsed.username, parsed.password
    )


def basic_auth_header(auth: httpx.BasicAuth) -> str:
    """The Authorization header `auth` sends, for a client that takes headers, not auth."""
    request = next(auth.auth_flow(httpx.Request("GET", "http://localhost")))
    return request.headers["Authorization"]


# Timeouts before the request was whole on the wire: no connection yet (connect, a slot in
# the pool) or its body not all written. By name: the Anthropic SDK raises httpx2's classes.
_UNSENT_TIMEOUTS = frozenset({"ConnectTimeout", "PoolTimeout", "WriteTimeout"})


def never_sent(exc: BaseException | None) -> bool:
    """Whether `exc` (an httpx or httpx2 timeout) came before the request had left."""
    return exc is not None and type(exc).__name__ in _UNSENT_TIMEOUTS


def transport_error(
    exc: httpx.HTTPError, *, backend: str, url: str, hint: str, said: str | None = None
) -> BackendError:
    """Translate an httpx transport failure into our hierarchy; `hint` says what to do,
    `said` how the message names the server (by default `backend`, the error's own name)."""
    url = shown_url(url)
    who = said or backend
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeout(
            f"{who} at {url} did not answer in time ({exc!r}). {hint}",
            backend=backend,
            sent=not never_sent(exc),
        )
    if isinstance(exc, httpx.ConnectError):
        return BackendUnavailable(f"cannot reach {who} at {url}. {hint}", backend=backend)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        # It was reachable and went away, usually mid-answer: starting it is rarely the fix.
        return BackendUnavailable(
            f"{who} at {url} broke the connection ({exc!r}): if it was answering, it may "
            f"have crashed or run out of memory (check its log, or use a smaller model). {hint}",
            backend=backend,
        )
    return BackendUnavailable(
        f"{who} at {url} broke the connection ({exc!r}). {hint}", backend=backend
    )


def error_body(response: httpx.Response) -> Any:
    """The error answer's JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _error_object(body: Any) -> Any:
    """The error inside a body: `error` when there is one (OpenAI, Anthropic, llama.cpp,
    Ollama), else the body itself (vLLM). Ollama passes its runner's error on as a JSON string
    in `error`: read through it."""
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, str) and err.lstrip().startswith("{"):
        try:
            return _error_object(json.loads(err))
        except json.JSONDecodeError:
            return err
    return err


def error_text(response: httpx.Response) -> str:
    """The server's own error message, whatever shape it came in."""
    body = error_body(response)
    if body is None:
        return redact_name_head(response.text, 300)  # redacted whole, then cut
    err = _error_object(body)
    if isinstance(err, dict):
        return redact_name_head(str(err.get("message") or err), 300)
    return redact_name_head(str(err), 300)


# The documented signals that a request does not fit: OpenAI's `error.code`; the `error.type`
# of llama.cpp's server (which Ollama's runner is) and Anthropic's 413 `request_too_large`.
_CONTEXT_CODES = frozenset({"context_length_exceeded"})
_CONTEXT_TYPES = frozenset({"exceed_context_size_error", "request_too_large"})
# Where a body carries neither, how providers word it, matched in lower case: Anthropic's
# `invalid_request_error` "prompt is too long: N tokens > M maximum" and "input length and
# `max_tokens` exceed context limit: ...", vLLM "maximum context length", Ollama "longer than
# the context length".
_CONTEXT_WORDS = (
    "too long",
    "context length",
    "context_length",
    "context size",
    "context window",
    "context limit",
)


def exceeds_context(status: int, body: Any, text: str) -> bool:
    """Whether an error answer says the request is longer than the model's context window:
    the provider's code or type decides when it gives one, the wording only when it does not."""
    err = _error_object(body)
    if isinstance(err, dict):
        code, kind = err.get("code"), err.get("type")
        if isinstance(code, str) and code:
            return code in _CONTEXT_CODES
        if kind in _CONTEXT_TYPES:
            return True
        if isinstance(kind, str) and kind.endswith("_error") and kind != "invalid_request_error":
            return False  # typed as another kind of error (api_error, overloaded_error, ...)
    return status in (400, 413) and any(word in text.lower() for word in _CONTEXT_WORDS)


CONTEXT_HINT = (
    " The request is too long for the model's context window (or the API's size limit): send "
    "less context (fewer earlier turns or less pasted text; through ocp-server: a smaller "
    "max_context_tokens or OCP_CONTEXT_TOKENS)."
)


def retry_after(headers: Mapping[str, str]) -> str | None:
    """When the server says to try again: `retry-after-ms` (which the OpenAI and Anthropic
    SDKs read first), else `retry-after`, in seconds or as an HTTP date; None if it said not."""
    millis = headers.get("retry-after-ms")
    try:
        if millis is not None:
            return f"{float(millis) / 1000:g} s"
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    return f"{value} s" if value.strip().replace(".", "", 1).isdigit() else value


def rate_limit_message(backend: str, code: int | None, text: str, retry_after: str | None) -> str:
    """What a 429/529 means and when to try again (`retry_after`: the server's word on it)."""
    when = f"retry after {retry_after}" if retry_after else "retry later"
    detail = f"{code}: {text}" if text else str(code)
    return f"{backend} is rate limiting or overloaded ({detail}); {when} or route elsewhere."


# Shorter than this, a "key" is no real one, and replacing it would mangle the message.
_SHORTEST_KEY = 8


def hide_key(text: str, key: str | None) -> str:
    """`text` without `key`: a proxy or gateway may quote back the key it was sent, and an
    error's text goes into the route's trace and its log line."""
    if key and len(key) >= _SHORTEST_KEY:
        return text.replace(key, "[REDACTED:api_key]")
    return text


def status_error(
    response: httpx.Response,
    *,
    backend: str,
    auth_hint: str,
    model_hint: str,
    key: str | None = None,
    said: str | None = None,
) -> BackendError:
    """Translate an HTTP error status into our hierarchy; `key`, the one sent, is never
    quoted; `said`: how the message names the server (by default `backend`)."""
    code = response.status_code
    who = said or backend
    text = hide_key(error_text(response), key)
    if code in (401, 403):
        return BackendAuthError(
            f"{who} rejected the key ({code}: {text}). {auth_hint}",
            backend=backend,
            status_code=code,
        )
    if code == 404:
        return BackendUnavailable(
            f"{who}: {text.rstrip('.')}. {model_hint}", backend=backend, status_code=code
        )
    if code in (429, 529) or (code == 503 and "overload" in text.lower()):
        return BackendRateLimited(
            rate_limit_message(who, code, text, retry_after(response.headers)),
            backend=backend,
            status_code=code,
        )
    if exceeds_context(code, error_body(response), text):
        return BackendContextExceeded(
            f"{who} answered {code}: {text.rstrip('.')}.{CONTEXT_HINT}",
            backend=backend,
            status_code=code,
        )
    return BackendResponseError(
        f"{who} answered {code}: {text.rstrip('.')}.", backend=backend, status_code=code
    )


def malformed(backend: str, detail: str, *, said: str | None = None) -> BackendResponseError:
    """An answer that is not the wire format; `said`: how the message names the server (by
    default `backend`)."""
    return BackendResponseError(
        f"{said or backend} sent a response we could not read ({detail}); check that the URL "
        "points at the right kind of server.",
        backend=backend,
    )


# Far above any line an honest server streams (an Ollama NDJSON line: a few hundred bytes; a
# whole long answer well under 1 MiB), far below trouble: the proxy reads with the same cap.
MAX_LINE_BYTES = 8 * 1024 * 1024
# A whole streamed answer, read for one reply: an Ollama line is ~120 bytes a token, so this is
# ~500,000 tokens, past any local model's context; an endless stream of short lines stopped
# only at the timeout (a minute of it, held as the answer's text).
MAX_STREAM_BYTES = 64 * 1024 * 1024

# Seconds a status question may take before any prompt is sent: is the server up and the
# model there (check, is_available), and each question of a probe (`ocp-server doctor`).
CHECK_TIMEOUT = 2.0
PROBE_TIMEOUT = 5.0

# Every backend asks for bodies as they are: a compressed body is capped by its decoded size.
IDENTITY = {"Accept-Encoding": "identity"}

# What a server may still compress with, decoded here a piece at a time (zlib's window bits).
_INFLATABLE = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
# Bytes decoded at a time: httpx decodes each chunk on the wire whole, and deflate inflates a
# 64 kB read to up to 64 MB (a "zip bomb") before any cap sees it.
_PIECE_BYTES = 64 * 1024


def wire_codings(value: str) -> list[str]:
    """The content codings a `content-encoding` header names, in the order applied."""
    codings = (c.strip().lower() for c in value.split(","))
    return [c for c in codings if c and c != "identity"]


def inflatable(codings: list[str]) -> str | None:
    """The one coding `inflated` reads when `codings` is just that, else None."""
    return codings[0] if len(codings) == 1 and codings[0] in _INFLATABLE else None


class UndecodableBody(Exception):
    """A gzip or deflate body that does not decode."""


async def inflated(raw: AsyncIterable[bytes], coding: str) -> AsyncIterator[bytes]:
    """`raw`, a body in `coding` (gzip or deflate), decoded at most _PIECE_BYTES at a time;
    bytes after the end of the compressed data are dropped, as httpx does."""
    decoder = zlib.decompressobj(_INFLATABLE[coding])
    # deflate's first input, kept until its 2-byte zlib header has been read: servers send
    # deflate without it too (httpx reads both), and only then is it known which this is.
    head: bytes | None = b"" if coding == "deflate" else None
    try:
        async for data in raw:
            while data and not decoder.eof:
                try:
                    piece = decoder.decompress(data, _PIECE_BYTES)
                except zlib.error:
                    if head is None:
                        raise
                    decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                    data, head = head + data, None
                    piece = decoder.decompress(data, _PIECE_BYTES)
                if head is not None:
                    head = None if len(head) + len(data) >= 2 else head + data
                data = decoder.unconsumed_tail
                if piece:
                    yield piece
                # A full piece with no input left may leave output inside zlib: drain it.
                while len(piece) == _PIECE_BYTES and not data and not decoder.eof:
                    piece = decoder.decompress(b"", _PIECE_BYTES)
                    if piece:
                        yield piece
        if tail := decoder.flush():
            yield tail
    except zlib.error as exc:
        raise UndecodableBody(f"its {coding} body does not decode ({exc})") from exc


def decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """`response`'s body as it was before the server compressed it, gzip and deflate a
    piece at a time (others as httpx decodes them: zstd, several codings)."""
    coding = inflatable(wire_codings(response.headers.get("content-encoding", "")))
    if coding is None or response.is_stream_consumed:  # read already: a transport's own
        return response.aiter_bytes()
    return inflated(response.aiter_raw(), coding)


class LineTooLong(Exception):
    """A streamed body went on past `limit` bytes without ending its line."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a stream line longer than {limit:,} bytes")


class StreamTooLong(Exception):
    """A stream read as one answer went on past `limit` bytes in all."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a streamed answer longer than {limit:,} bytes in all")


async def capped_lines(
    response: httpx.Response, limit: int = MAX_LINE_BYTES, total: int = MAX_STREAM_BYTES
) -> AsyncGenerator[str, None]:
    """The body's lines (LF or CRLF ended; the last may end without), none longer than
    `limit` bytes, `total` bytes in all (decoded): httpx's `aiter_lines` buffers a line that
    never ends without bound, until the answer's timeout (a minute of a local server's
    output held in memory). Each line is checked, not only the one a chunk ends inside:
    a decoded chunk may hold whole lines past the cap."""
    pending = bytearray()
    read = 0
    async for chunk in decoded(response):
        read += len(chunk)
        if read > total:
            raise StreamTooLong(total)
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            if len(pending) + end - start > limit:
                raise LineTooLong(limit)
            pending += chunk[start:end]
            yield _decoded(pending)
            pending.clear()
            start = end + 1
        pending += chunk[start:]
        if len(pending) > limit:
            raise LineTooLong(limit)
    if pending:
        yield _decoded(pending)


def _decoded(line: bytearray) -> str:
    return line.decode("utf-8", errors="replace").removesuffix("\r")


# Headers about the body as it came on the wire, which the bytes read here no longer are.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def capped_body(
    response: httpx.Response,
    *,
    backend: str,
    limit: int = MAX_LINE_BYTES,
    said: str | None = None,
) -> httpx.Response:
    """`response` (opened as a stream) read whole, up to `limit` bytes decoded: past them, a
    backend error (the route escalates). httpx's `aread` holds a body that never ends, or a
    huge one, in memory until the timeout. The same cap as a stream line: a whole answer is
    one. `said`: how the message names the server (by default `backend`)."""
    body = bytearray()
    try:
        async for chunk in decoded(response):
            body += chunk
            if len(body) > limit:
                raise BackendResponseError(
                    f"{said or backend} sent a response body longer than {limit:,} bytes (answered "
                    f"{response.status_code}); stopped reading it: check that the URL points "
                    "at the right kind of server.",
                    backend=backend,
                    status_code=response.status_code,
                )
    except UndecodableBody as exc:
        raise malformed(backend, str(exc), said=said) from exc
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=response.request
    )


async def capped_send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    backend: str,
    limit: int = MAX_LINE_BYTES,
    said: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """`client.request(method, url, **kwargs)` with its body read by `capped_body`."""
    async with client.stream(method, url, **kwargs) as response:
        return await capped_body(response, backend=backend, limit=limit, said=said)
