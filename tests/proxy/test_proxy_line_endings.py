"""Line endings as the server-sent events spec allows them (WHATWG HTML: CRLF, LF or a bare
CR), through the line reader, the paid relay and the local reader: a bare-CR stream is relayed
as it arrives, its usage is counted, and a CRLF split across two reads is one line end."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ocp_server.proxy.lines import LineBuffer, LineTooLong
from tests.fakes._http import Request, StreamResponse
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    NDJSON,
    SIMPLE,
    SSE,
    anthropic_sse,
    messages_body,
)
from tests.proxy.recorded import last_row

# ---- the line reader --------------------------------------------------------------------------


def test_a_bare_cr_ends_a_line() -> None:
    buffer = LineBuffer()
    assert buffer.feed(b"data: a\r\rdata: b\rdata: c") == b"data: a\r\rdata: b\r"
    assert buffer.rest() == b"data: c"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_every_ending_gives_the_same_lines(ending: bytes) -> None:
    buffer = LineBuffer()
    text = ending.join([b"event: ping", b"data: {}", b"", b"data: x", b""])
    assert buffer.lines(text) == [b"event: ping", b"data: {}", b"", b"data: x"]


def test_a_crlf_split_across_two_reads_is_one_line_end() -> None:
    buffer = LineBuffer()
    relayed = buffer.feed(b"data: a\r")  # CR may be a line end of its own: relayed at once
    assert relayed == b"data: a\r"
    # ... and the LF that follows completes it: no empty line (an SSE event dispatch) between.
    assert buffer.lines(b"\ndata: b\r\n") == [b"data: b"]
    assert buffer.lines(b"\r") == [b""]  # a real blank line after the CRLF
    assert buffer.lines(b"\n") == []  # the LF of that CRLF
    assert buffer.lines(b"\n") == [b""]  # and a blank line of its own


def test_a_split_crlf_is_relayed_byte_for_byte() -> None:
    buffer = LineBuffer()
    pieces = [b"event: a\r", b"\ndata: 1\r", b"\n\r", b"\n", b"data: 2\r\n\r\n"]
    assert b"".join(buffer.feed(p) for p in pieces) + buffer.rest() == b"".join(pieces)


def test_a_line_without_any_ending_is_still_capped() -> None:
    buffer = LineBuffer(limit=10)
    buffer.feed(b"abc\r")
    with pytest.raises(LineTooLong):
        buffer.feed(b"x" * 11)


# ---- on the wire ------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\r", "\r\n-split"])
def test_a_paid_stream_is_relayed_as_sent_and_its_usage_counted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    ending: str,
) -> None:
    if ending == "\r":
        chunks = anthropic_sse("\r")
    else:  # every CRLF split between two chunks
        split = (c.replace(b"\r\n", b"\r|\n").split(b"|") for c in anthropic_sse("\r\n"))
        chunks = [piece for pieces in split for piece in pieces]
    fake_anthropic.raw_stream_next(chunks, SSE, path="/v1/messages")
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 200
    assert response.content == b"".join(chunks)
    row = proxy.call(last_row)
    assert row["error"] is None
    assert (row["input_tokens"], row["output_tokens"]) == (5, 7)


class _Gate:
    """A stream that sends its first chunk, then waits until the test has seen it (bounded, so
    a proxy that holds the chunk fails the test instead of hanging it)."""

    def __init__(self, first: bytes, rest: list[bytes]) -> None:
        self.first, self.rest = first, rest
        self.seen = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        yield self.first
        self.seen.wait(20)
        yield from self.rest


def _read_through_gate(response: httpx.Response, needle: bytes, gate: _Gate) -> bytes:
    """The whole body, opening `gate` once `needle` has arrived."""
    chunks = response.iter_raw()
    got = b""
    while needle not in got:
        got += next(chunks)
    gate.seen.set()
    return got + b"".join(chunks)


def test_a_bare_cr_paid_stream_reaches_the_client_as_it_is_sent(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    events = anthropic_sse("\r")
    gate = _Gate(b"".join(events[:3]), events[3:])
    fake_anthropic.handle = lambda req: StreamResponse(gate.chunks(), SSE)  # type: ignore[method-assign]
    proxy = start_proxy(proxy_env)
    timeout = httpx.Timeout(30, read=5)  # the gate opens only once the client has the text
    with httpx.Client(base_url=proxy.url, timeout=timeout) as http:
        with http.stream(
            "POST", "/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS
        ) as response:
            body = _read_through_gate(response, b"over CR", gate)
    assert body == b"".join(events)


def _ollama_lines(ending: bytes) -> tuple[bytes, list[bytes]]:
    hello = {"model": "llama3.2", "message": {"role": "assistant", "content": "Hello"}}
    done = {
        "model": "llama3.2",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 3,
        "eval_count": 2,
    }
    first = json.dumps(hello | {"done": False}).encode() + ending
    return first, [json.dumps(done).encode() + ending]


def test_a_bare_cr_local_stream_reaches_the_client_as_it_is_sent(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    first, rest = _ollama_lines(b"\r")
    gate = _Gate(first, rest)
    plain = fake_ollama.handle

    def handle(req: Request) -> Any:
        return StreamResponse(gate.chunks(), NDJSON) if req.path == "/api/chat" else plain(req)

    fake_ollama.handle = handle  # type: ignore[method-assign]
    proxy = start_proxy(proxy_env)
    timeout = httpx.Timeout(30, read=5)
    request = messages_body(text=SIMPLE, stream=True)
    with httpx.Client(base_url=proxy.url, timeout=timeout) as http:
        with http.stream("POST", "/v1/messages", json=request, headers=ANTHROPIC_HEADERS) as r:
            body = _read_through_gate(r, b"Hello", gate)
    assert b"message_stop" in body
    row = proxy.call(last_row)
    assert row["answered_tier"] == "local" and row["error"] is None
    assert (row["input_tokens"], row["output_tokens"]) == (3, 2)
    assert fake_anthropic.requests_to("/v1/messages") == []


def test_a_local_stream_with_split_crlfs_reads_as_one_line_each(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    first, rest = _ollama_lines(b"\r\n")
    chunks = [p for c in (first, *rest) for p in (c[:-1], c[-1:])]
    fake_ollama.raw_stream_next(chunks, NDJSON, path="/api/chat")
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "Hello"
    assert proxy.call(last_row)["answered_tier"] == "local"
