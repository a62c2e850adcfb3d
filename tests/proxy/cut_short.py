"""Streams cut short: a client that hangs up before or while its answer comes, an upstream
that goes silent mid-stream, and the wait for an upstream to see its connection closed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fakes._http import FakeServer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, OPENAI_HEADERS, chat_body, messages_body


def stream_from_an_upstream_that_stalls(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake: FakeAnthropic | FakeOpenAI,
) -> tuple[RunningProxy, httpx.Response]:
    """A streamed request whose upstream goes silent for 3 s mid-stream, with the proxy's
    OCP_PROXY_UPSTREAM_TIMEOUT at 0.5 s."""
    fake.stream_delay = 3.0
    proxy = start_proxy(proxy_env | {"OCP_PROXY_UPSTREAM_TIMEOUT": "0.5"})
    if isinstance(fake, FakeAnthropic):
        path, body, headers = "/v1/messages", messages_body(stream=True), ANTHROPIC_HEADERS
    else:
        path, body, headers = "/v1/chat/completions", chat_body(stream=True), OPENAI_HEADERS
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        return proxy, http.post(path, json=body, headers=headers)


def first_line_then_leave(
    proxy: RunningProxy, path: str, body: dict[str, object], headers: dict[str, str]
) -> str:
    """The first line of a streamed answer, read by a client that then hangs up."""
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        with http.stream("POST", path, json=body, headers=headers) as response:
            return next(response.iter_lines())


def until_closed(upstream: FakeServer) -> None:
    """Return once the upstream's connections are closed (failing if one stays open 30 s)."""
    deadline = time.monotonic() + 30
    while upstream._conns and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not upstream._conns, "the upstream connection stayed open"


def leave_after(proxy: RunningProxy, request: dict[str, Any], needle: bytes) -> None:
    """Send `request`, read until `needle` has arrived (b"": the status line), hang up."""
    with httpx.Client(base_url=proxy.url, timeout=httpx.Timeout(30, read=10)) as http:
        with http.stream("POST", "/v1/messages", json=request, headers=ANTHROPIC_HEADERS) as r:
            got = b""
            chunks = r.iter_raw()
            while needle not in got:
                got += next(chunks)


def leave_waiting(proxy: RunningProxy, request: dict[str, Any], path: str = "/v1/messages") -> None:
    """Send `request` and hang up before any of the answer has come."""
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            proxy.url + path,
            json=request,
            headers=ANTHROPIC_HEADERS,
            timeout=httpx.Timeout(30, read=0.5),
        )
