"""A paid upstream that fails once its answer has begun (the connection dropped mid-stream or
mid-body, silent past OCP_PROXY_UPSTREAM_TIMEOUT): the client is told where its request went
and the setting to change, in words, as for an upstream that never answered (f7659c3), not
httpx's exception (`RemoteProtocolError('peer closed connection ...')`, its repr even)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from ocp_server.proxy.upstream import failed_message
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.cut_short import stream_from_an_upstream_that_stalls
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    messages_body,
    request_in,
    sse_events,
)
from tests.proxy.recorded import last_row

_INTERNALS = ("RemoteProtocolError", "ReadTimeout", "ReadError", "httpx", "httpcore", "peer")


def _assert_plain(said: str) -> None:
    assert not any(word in said for word in _INTERNALS), said


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_paid_stream_dropped_midway_names_the_upstream_and_its_setting(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    dialect: str,
) -> None:
    proxy = start_proxy(proxy_env)
    path, body, headers = request_in(dialect, stream=True)
    if dialect == "anthropic":
        fake_anthropic.drop_mid_stream(after=2)
        url, setting = fake_anthropic.url + "/v1/messages", "OCP_PROXY_ANTHROPIC_UPSTREAM"
    else:
        fake_openai.drop_mid_stream(after=2)
        url, setting = fake_openai.base_url + "/chat/completions", "OCP_PROXY_OPENAI_UPSTREAM"
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post(path, json=body, headers=headers)
    assert response.status_code == 200  # the stream had begun
    data = sse_events(response.text)[-1][1]
    said = json.loads(data)["error"]["message"]
    assert f"the {dialect} upstream at {url} closed the connection mid-stream" in said, said
    assert setting in said and "the answer is incomplete" in said, said
    _assert_plain(said)
    assert proxy.call(last_row)["error"] in said  # the trace says the same


def test_a_paid_stream_silent_midway_says_to_raise_the_upstream_timeout(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy, response = stream_from_an_upstream_that_stalls(start_proxy, proxy_env, fake_anthropic)
    said = json.loads(sse_events(response.text)[-1][1])["error"]["message"]
    url = fake_anthropic.url + "/v1/messages"
    assert f"the anthropic upstream at {url} sent nothing for 0.5 s mid-stream" in said, said
    assert "raise OCP_PROXY_UPSTREAM_TIMEOUT" in said, said
    _assert_plain(said)


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_a_paid_answer_dropped_before_its_end_is_a_502_naming_the_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    path: str,
) -> None:
    # A short answer is read whole before it is relayed: its 502 quoted httpx's repr,
    # "the anthropic upstream failed: RemoteProtocolError('peer closed connection ...')".
    chunks = (b'{"id": "msg_1", "type": "message", ', b'"content": [], "usage": {}}')
    fake_anthropic.raw_stream_next(chunks, "application/json", path=path, framing="length")
    fake_anthropic.drop_mid_stream(after=1)
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post(path, json=messages_body(), headers=ANTHROPIC_HEADERS)
    said = response.json()["error"]["message"]
    assert response.status_code == 502, said
    url = fake_anthropic.url + path
    assert f"upstream at {url} closed the connection" in said, said
    assert "OCP_PROXY_ANTHROPIC_UPSTREAM" in said, said
    _assert_plain(said)


def test_a_failed_upstreams_url_is_shown_without_its_credentials_or_query() -> None:
    url = "https://user:s3cret-pass@gateway.example/v1/chat/completions?key=s3cret-query"
    request = httpx.Request("POST", url)
    said = failed_message(
        "openai",
        url,
        "OCP_PROXY_OPENAI_UPSTREAM",
        httpx.ReadError("[Errno 104] Connection reset by peer", request=request),
        600,
        "mid-stream",
    )
    assert said == (
        "the openai upstream at https://gateway.example/v1/chat/completions lost the "
        "connection mid-stream (set by OCP_PROXY_OPENAI_UPSTREAM)"
    )
