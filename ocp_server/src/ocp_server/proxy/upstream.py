"""The paid tier: the client's body, with the tier's model and redacted, sent to the paid
provider in the client's own dialect; the answer relayed as it came (status, headers that
matter, body or stream byte for byte, but for an OpenAI stream's usage chunk the proxy asked
for and the client did not, and an in-stream error event's strings, redacted), with the usage
read on the way for cost.

An answer too long to hold (over HEAD_BYTES) is relayed as it comes, its usage found on the
way; an error body too long to be an honest one (over ERROR_BODY_BYTES) is not relayed.
A stream is relayed as the upstream flushes it, whole lines at a time; its lines are scanned
for the events that carry usage. An upstream that fails after the first byte (dropped, timed
out, a line over MAX_LINE_BYTES) ends the client's stream with an error in its dialect. A
client that goes away closes the upstream response, which cancels the upstream request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import httpx
from httpx._decoders import SUPPORTED_DECODERS  # what `aiter_bytes` can decode

from ocp_router.redact_names import redact_name_head
from ocp_server.off_loop import off_loop_within
from ocp_server.proxy.boundary import redacted_error
from ocp_server.proxy.chat import Usage
from ocp_server.proxy.json_field import TopLevelField
from ocp_server.proxy.lines import LineBuffer, LineTooLong
from ocp_server.proxy.served_model import renamed
from ocp_server.proxy.whole_body import Head

# Response headers worth relaying: content type, request ids, rate limits, retry advice.
_RELAY_PREFIXES = ("anthropic-", "x-ratelimit-", "openai-", "retry-after", "x-should-retry")
_RELAY = frozenset({"content-type", "request-id", "x-request-id", "retry-after"})


def relay_headers(headers: httpx.Headers) -> dict[str, str]:
    return {
        k: v
        for k, v in headers.items()
        if k.lower() in _RELAY or k.lower().startswith(_RELAY_PREFIXES)
    }


@dataclass(slots=True)
class Outcome:
    """What a relayed answer turned out to be, filled in as it streams."""

    status: int = 0
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    first_byte_ms: float | None = None
    sent: bool = False  # the request's body has gone out whole: the upstream can bill it


def unreadable_encoding(headers: httpx.Headers, upstream: str) -> str | None:
    """What is wrong when the response's content-encoding is one httpx cannot decode (br
    without brotli installed), else None. The proxy asks for `identity`; an upstream may
    compress anyway, and what the proxy relays is the decoded body."""
    codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
    unknown = ", ".join(c for c in codings if c and c not in SUPPORTED_DECODERS)
    if not unknown:
        return None
    return (
        f"the {upstream} upstream answered in a content-encoding the proxy cannot read "
        f"({unknown}), though it asked for identity"
    )


class StreamError(Protocol):
    """A dialect's in-stream error event (`anthropic.stream_error`, `openai.stream_error`)."""

    def __call__(self, message: str, *, timed_out: bool = False) -> bytes: ...


class CutShort(Exception):
    """An answer relayed as it came ended, cleanly on the wire, before its JSON closed."""


class UpstreamUnreachable(Exception):
    """The request never got an answer (connection refused, DNS, timeout before headers)."""


def timed_out(exc: UpstreamUnreachable) -> bool:
    """The upstream was reached and took the request, and no answer came in time (not a
    connect that timed out: that is a host to check)."""
    cause = exc.__cause__
    return isinstance(cause, httpx.TimeoutException) and not isinstance(cause, httpx.ConnectTimeout)


def unreachable_status(exc: UpstreamUnreachable) -> int:
    """The status a request that got no answer is answered with: 504 (Gateway Timeout, which
    Anthropic's API itself answers as a `timeout_error`) when the upstream was too slow, else
    502."""
    return 504 if timed_out(exc) else 502


def unreachable_message(
    name: str, url: str, setting: str, exc: UpstreamUnreachable, timeout: float
) -> str:
    """What the client is told: where the request went (without any user:password or query a
    gateway's URL may carry) and the setting to change, since "Name or service not known" or
    "ReadTimeout" alone names neither. A connect that timed out is a host to check, not a
    timeout to raise (its bound is 10 s at most)."""
    shown = _shown(url)
    if timed_out(exc):
        return (
            f"the {name} upstream at {shown} did not answer within {timeout:g} s ({exc}); "
            "raise OCP_PROXY_UPSTREAM_TIMEOUT"
        )
    return f"the {name} upstream at {shown} did not answer: {exc} (set by {setting})"


def failed_message(
    name: str, url: str, setting: str, exc: httpx.HTTPError, timeout: float, where: str
) -> str:
    """What the client is told when an upstream's answer, begun, failed `where` ("mid-stream",
    "mid-body"): as `unreachable_message`, where it went and the setting to change, and what
    happened in words (httpx's exception names its own internals: `RemoteProtocolError('peer
    closed connection without sending complete message body (incomplete chunked read)')`)."""
    shown = _shown(url)
    if isinstance(exc, httpx.TimeoutException):
        return (
            f"the {name} upstream at {shown} sent nothing for {timeout:g} s {where}; "
            "raise OCP_PROXY_UPSTREAM_TIMEOUT"
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        what = "closed the connection"
    elif isinstance(exc, httpx.DecodingError):
        what = "sent a body its content-encoding does not decode"
    elif isinstance(exc, httpx.NetworkError):
        what = "lost the connection"
    else:
        what = "failed"
    return f"the {name} upstream at {shown} {what} {where} (set by {setting})"


def _shown(url: str) -> httpx.URL:
    """`url` without any user:password or query a gateway's URL may carry."""
    return httpx.URL(url).copy_with(username=None, password=None, query=None, fragment=None)


# List items serialised per call: a few ms of GIL each for short messages, and a fraction of
# the calls (and time) of one call per item.
_ITEMS_PER_PIECE = 256
# A string this long is serialised in slices of this many characters: one call over a 30 MB
# message held the GIL 0.1-0.2 s; a slice takes a few ms.
_CHARS_PER_PIECE = 1 << 20


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def request_bytes(body: dict[str, Any], size: int | None = None) -> bytes:
    """`body` as compact JSON, the same bytes as one `json.dumps`, written a field and a batch
    of list items at a time, and a long string a slice at a time: one call over a 30 MB
    conversation of short messages holds the GIL for its whole 0.2-0.4 s (the event loop
    waits, though this runs in a thread); between pieces it is let go. Each piece is encoded
    alone (UTF-8 of the whole is that of its pieces; JSON escapes a string character by
    character, so its slices' escapes are its own), the quotes and brackets a piece's call
    adds are dropped by a view, not a copy, and the pieces joined once. `size`: the body's
    size as received, when known; one smaller than a slice (with room for what redaction
    adds) is not searched for long strings."""
    holding: set[int] = set()  # ids of the lists and dicts with a long string inside
    if size is None or size >= _CHARS_PER_PIECE // 4:
        _find_long_strings(body, holding)
    if not holding and not any(
        isinstance(v, list) and len(v) > _ITEMS_PER_PIECE for v in body.values()
    ):
        return _dumps(body).encode()  # one piece: a join would only copy it again
    pieces: list[bytes | memoryview] = []
    for key, value in body.items():
        pieces.append(b"," if pieces else b"{")
        pieces.append(_dumps(key).encode() + b":")
        if isinstance(value, list) and value:
            _write_items(value, pieces, holding)
        else:
            _write(value, pieces, holding)
    pieces.append(b"}" if pieces else b"{}")
    return b"".join(pieces)


def _find_long_strings(value: Any, holding: set[int]) -> bool:
    """Whether `value` (a dict or a list) holds a string of _CHARS_PER_PIECE or more; adds
    the id of each list and dict on the way to one to `holding`. (66 ms of CPU over 60,000
    messages, in Python, so it lets the GIL go.)"""
    found = False
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is str:
            if len(item) >= _CHARS_PER_PIECE:
                found = True
        elif (kind is dict or kind is list) and item and _find_long_strings(item, holding):
            found = True
    if found:
        holding.add(id(value))
    return found


def _write(value: Any, pieces: list[bytes | memoryview], holding: set[int]) -> None:
    """`value`'s JSON onto `pieces`: in one piece, unless it is or holds a long string."""
    if type(value) is str and len(value) >= _CHARS_PER_PIECE:
        pieces.append(b'"')
        for start in range(0, len(value), _CHARS_PER_PIECE):
            encoded = _dumps(value[start : start + _CHARS_PER_PIECE]).encode()
            pieces.append(memoryview(encoded)[1:-1])
        pieces.append(b'"')
    elif id(value) not in holding:
        pieces.append(_dumps(value).encode())
    elif type(value) is dict:
        for i, (key, item) in enumerate(value.items()):
            pieces.append(b"," if i else b"{")
            pieces.append(_dumps(key).encode() + b":")
            _write(item, pieces, holding)
        pieces.append(b"}")
    else:
        _write_items(value, pieces, holding)


def _write_items(items: list[Any], pieces: list[bytes | memoryview], holding: set[int]) -> None:
    """A non-empty list's JSON onto `pieces`: its items a batch a call, but an item that holds
    a long string on its own."""
    pieces.append(b"[")
    start = 0
    while start < len(items):
        if start:
            pieces.append(b",")
        item = items[start]
        if id(item) in holding or (type(item) is str and len(item) >= _CHARS_PER_PIECE):
            _write(item, pieces, holding)
            start += 1
            continue
        end = start + 1
        while end < len(items) and end - start < _ITEMS_PER_PIECE:
            after = items[end]
            if id(after) in holding or (type(after) is str and len(after) >= _CHARS_PER_PIECE):
                break
            end += 1
        batch = _dumps(items[start:end]).encode()
        pieces.append(memoryview(batch)[1:-1])
        start = end
    pieces.append(b"]")


async def open_upstream(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    timeout: float,
    outcome: Outcome | None = None,
    *,
    size: int = 0,
    work_timeout: float,
) -> httpx.Response:
    """Send and wait for the status line and headers (the body is read by the caller).
    `outcome.sent` is set once the whole request has gone out (httpcore's trace events).
    `size`: the client's body in bytes. It is serialised off the event loop, within
    `work_timeout` seconds (else off_loop.WorkTimedOut, nothing sent)."""
    what = "serialising of the request"
    content = await off_loop_within(work_timeout, what, size, request_bytes, body, size)
    extensions: dict[str, Any] = {}
    if outcome is not None:

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith("send_request_body.complete"):
                outcome.sent = True

        extensions["trace"] = trace
    request = client.build_request(
        "POST",
        url,
        content=content,
        headers=headers | {"content-type": "application/json", "accept-encoding": "identity"},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        extensions=extensions,
    )
    try:
        return await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise UpstreamUnreachable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc


async def relay_stream(
    response: httpx.Response,
    outcome: Outcome,
    fold: Callable[[Any, Usage], Usage],
    stream_error: StreamError,
    failure: Callable[[httpx.HTTPError, str], str],
    hidden: Callable[[bytes], bool] | None = None,
    edit: Callable[[bytes], bytes] | None = None,
) -> AsyncGenerator[bytes, None]:
    """The upstream's event stream, line by line as whole lines arrive (an error appended
    after half a line would not parse); usage folded from each `data:` line that mentions it;
    an in-stream `error` event noted; a failed read told by `failure(exc, "mid-stream")`.
    Lines `hidden` says are not for the client are read, not relayed; those that are pass
    through `edit` (which names the model asked for: served_model.renamed_lines). Always
    closes the upstream response."""
    lines = LineBuffer()
    try:
        async for chunk in response.aiter_bytes():  # decoded: the encoding is not relayed
            if complete := lines.feed(chunk):
                if shown := _shown_lines(complete, hidden):
                    yield edit(shown) if edit else shown
                _scan(complete, outcome, fold)
        if rest := lines.rest():
            if shown := _shown_lines(rest, hidden):
                yield edit(shown) if edit else shown
            _scan(rest, outcome, fold)
    except LineTooLong as exc:
        outcome.error = str(exc)
        yield stream_error(f"{outcome.error}; the answer is incomplete")
    except httpx.HTTPError as exc:
        outcome.error = failure(exc, "mid-stream")
        timed_out = isinstance(exc, httpx.TimeoutException)
        yield stream_error(f"{outcome.error}; the answer is incomplete", timed_out=timed_out)
    finally:
        with anyio.CancelScope(shield=True):  # cancelled by a hangup: close still
            await response.aclose()


def _shown_lines(complete: bytes, hidden: Callable[[bytes], bool] | None) -> bytes:
    if b'"error"' in complete:  # (a key: inside a JSON string its quotes are escaped)
        complete = b"".join(map(_redacted_error_line, complete.splitlines(keepends=True)))
    if hidden is None:
        return complete
    # An event's blank line left after its hidden `data:` line ends an event with no data,
    # which a server-sent events reader drops.
    return b"".join(line for line in complete.splitlines(keepends=True) if not hidden(line))


def _redacted_error_line(line: bytes) -> bytes:
    """An in-stream error event's `data:` line (Anthropic's `event: error`, OpenAI's error
    chunk) with its strings redacted, as an error body is (boundary.redacted_error): the
    provider's error may quote the key it refused, and the client's agent reads it. Any other
    line as it came."""
    data = line.rstrip(b"\r\n")
    if not data.startswith(b"data:") or b'"error"' not in data:
        return line
    try:
        event = json.loads(data[5:])
    except ValueError:
        return line
    if not isinstance(event, dict) or "error" not in event:
        return line
    payload = data[5:].lstrip(b" ")
    redacted = redacted_error(payload)
    if redacted is payload:
        return line
    return b"data: " + redacted + line[len(data) :]


def _scan(complete: bytes, outcome: Outcome, fold: Callable[[Any, Usage], Usage]) -> None:
    for line in complete.splitlines():  # bytes: only \n, \r\n and \r end a line
        if not line.startswith(b"data:") or not (b'"usage"' in line or b'"error"' in line):
            continue
        if b'"usage":null' in line and b'"error"' not in line:  # OpenAI's chunks, asked usage
            continue
        try:
            data = json.loads(line[5:])
        except ValueError:
            continue
        if isinstance(data, dict) and "error" in data:  # an in-stream error event
            error = data["error"]
            message = str(error.get("message") if isinstance(error, dict) else error)
            outcome.error = redact_name_head(message, 300)  # redacted whole, then cut
        outcome.usage = fold(data, outcome.usage)


async def relay_body(
    response: httpx.Response,
    head: Head,
    outcome: Outcome,
    usage_of_message: Callable[[Any], Usage],
    failure: Callable[[httpx.HTTPError, str], str],
    asked: str | None = None,
) -> AsyncGenerator[bytes, None]:
    """A non-streaming answer too long to hold, as it comes after `head`: its top-level usage
    found on the way (json_field.py), an answer that does not close as one JSON object noted;
    its model named `asked`, when given, in `head` (served_model.renamed: both APIs name it
    before the answer, so within the first megabyte).
    An upstream that fails mid-body fails the client's read too (a clean end would pass a cut
    answer off as whole), and so does an object that ends unclosed (an upstream whose body
    ends with the connection cannot say it was cut). Always closes the upstream response."""
    assert head.rest is not None
    usage = TopLevelField("usage")
    try:
        usage.feed(head.data)
        yield renamed(head.data, asked) if asked is not None else head.data
        async for chunk in head.rest:
            usage.feed(chunk)
            yield chunk
    except httpx.HTTPError as exc:
        outcome.error = failure(exc, "mid-body")
        raise
    finally:
        with anyio.CancelScope(shield=True):  # cancelled by a hangup: close still
            await response.aclose()
    outcome.usage = usage_of_message({"usage": usage.value})
    if usage.cut_short:
        outcome.error = "the upstream's answer ended before its JSON closed (cut short)"
        raise CutShort(outcome.error)
    if not usage.whole:
        outcome.error = "the upstream answered 200 with a body that is not JSON (relayed)"
