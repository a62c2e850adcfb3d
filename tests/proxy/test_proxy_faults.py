"""Faults per dialect: upstream 429/529/500, an upstream that stalls or drops mid-stream, a
local model that is down or breaks, malformed bodies both ways, a client that leaves."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, cast

import anthropic
import httpx
import openai
import pytest

from ocp_server.proxy import Proxy
from tests.fakes._http import closed_port
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.cut_short import (
    first_line_then_leave,
    stream_from_an_upstream_that_stalls,
    until_closed,
)
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    SDK_CHAT,
    SDK_MESSAGE,
    SIMPLE,
    chat_body,
    messages_body,
    post,
    sse_events,
)
from tests.proxy.recorded import all_written, last_row, last_row_once_recorded
from tests.results import error_body


@pytest.mark.parametrize(
    ("status", "kind", "error_class"),
    [
        (429, "rate_limit_error", anthropic.RateLimitError),
        (529, "overloaded_error", anthropic.InternalServerError),
        (500, "api_error", anthropic.InternalServerError),
    ],
)
def test_an_anthropic_upstream_error_reaches_the_client_as_it_was_sent(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    status: int,
    kind: str,
    error_class: type[anthropic.APIStatusError],
) -> None:
    fake_anthropic.fail_next(status)
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with client, pytest.raises(error_class) as raised:
        client.messages.create(**SDK_MESSAGE)
    assert raised.value.status_code == status
    assert error_body(raised.value)["error"]["type"] == kind
    if status == 429:
        assert raised.value.response.headers["retry-after"] == "1"
    row = proxy.call(last_row)
    assert (row["status"], row["answered_tier"]) == (status, None)


@pytest.mark.parametrize("status", [429, 500])
def test_an_openai_upstream_error_reaches_the_client_as_it_was_sent(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    status: int,
) -> None:
    fake_openai.fail_next(status)
    proxy = start_proxy(proxy_env)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-openai", max_retries=0)
    with client, pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(**SDK_CHAT)
    assert raised.value.status_code == status


async def _summary(proxy: Proxy) -> dict[str, Any]:
    return proxy.recorder.summary({})


def _stored_flags(proxy: RunningProxy) -> list[tuple[int, int]]:
    """(escalated, local_unavailable) of each stored trace, once the proxy has written them."""
    proxy.call(all_written)
    assert proxy.db is not None
    with sqlite3.connect(proxy.db) as db:
        return db.execute("SELECT escalated, local_unavailable FROM traces").fetchall()


def test_an_upstream_that_stalls_mid_stream_ends_the_anthropic_stream_with_an_error_event(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy, response = stream_from_an_upstream_that_stalls(start_proxy, proxy_env, fake_anthropic)
    events = sse_events(response.text)
    assert response.status_code == 200
    assert events[0][0] == "message_start"
    name, data = events[-1]
    assert name == "error"
    # a timeout, as the API's error types name it (the SDK's GatewayTimeoutErrorObject)
    assert json.loads(data)["error"]["type"] == "timeout_error"
    assert "sent nothing for 0.5 s mid-stream" in json.loads(data)["error"]["message"]
    row = proxy.call(last_row)
    url = fake_anthropic.url + "/v1/messages"
    assert row["error"] == (
        f"the anthropic upstream at {url} sent nothing for 0.5 s mid-stream; "
        "raise OCP_PROXY_UPSTREAM_TIMEOUT"
    )


def test_an_upstream_that_drops_mid_stream_ends_the_openai_stream_with_an_error_chunk(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.drop_mid_stream(after=2)
    proxy = start_proxy(proxy_env)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-openai", max_retries=0)
    with client, pytest.raises(openai.APIError, match="mid-stream"):
        chat = client.chat.completions.create(
            model=SDK_CHAT["model"], messages=SDK_CHAT["messages"], stream=True
        )
        for _ in chat:
            pass


def test_an_anthropic_upstream_error_event_mid_stream_is_relayed_and_traced(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.fail_mid_stream("Overloaded", after=2)
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with client, pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        with client.messages.stream(
            model=SDK_MESSAGE["model"],
            max_tokens=SDK_MESSAGE["max_tokens"],
            messages=SDK_MESSAGE["messages"],
        ) as stream:
            for _ in stream:
                pass
    assert proxy.call(last_row)["error"] == "Overloaded"


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_local_model_that_is_down_hands_over_to_the_paid_tier_before_the_first_byte(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    dialect: str,
) -> None:
    env = proxy_env | {"OCP_OLLAMA_URL": f"http://127.0.0.1:{closed_port()}"}
    proxy = start_proxy(env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        if dialect == "anthropic":
            response = http.post(
                "/v1/messages",
                json=messages_body(text=SIMPLE, stream=True),
                headers=ANTHROPIC_HEADERS,
            )
            assert sse_events(response.text)[-1][0] == "message_stop"
            assert (
                fake_anthropic.requests_to("/v1/messages")[0].body["model"] == "claude-sonnet-5-5"
            )
        else:
            response = http.post(
                "/v1/chat/completions", json=chat_body(SIMPLE), headers=OPENAI_HEADERS
            )
            assert response.json()["choices"][0]["message"]["content"].startswith("openai answer")
    assert response.status_code == 200
    row = proxy.call(last_row)
    # not an escalation: no local answer was judged, the model could not be reached
    assert (row["tier"], row["answered_tier"]) == ("local", "mid")
    assert (row["escalated"], row["local_unavailable"]) == (False, True)
    assert [a["outcome"] for a in row["attempts"]] == ["error", "ok"]
    totals = proxy.call(_summary)["totals"]
    assert (totals["escalations"], totals["local_unavailable"]) == (0, 1)
    assert _stored_flags(proxy) == [(0, 1)]


def test_a_malformed_local_answer_escalates_too(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.malformed_next()
    proxy = start_proxy(proxy_env)
    response = post(proxy, "/v1/messages", messages_body(text=SIMPLE))
    assert response.status_code == 200
    assert response.json()["content"][0]["text"].startswith("claude answer")
    row = proxy.call(last_row)
    assert (row["escalated"], row["local_unavailable"]) == (True, False)
    totals = proxy.call(_summary)["totals"]
    assert (totals["escalations"], totals["local_unavailable"]) == (1, 0)
    assert _stored_flags(proxy) == [(1, 0)]


def test_a_local_model_failing_after_the_first_byte_ends_the_stream_in_the_clients_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.fail_mid_stream("model runner crashed", after=2)
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        a = http.post(
            "/v1/messages", json=messages_body(text=SIMPLE, stream=True), headers=ANTHROPIC_HEADERS
        )
        fake_ollama.fail_mid_stream("model runner crashed", after=2)
        o = http.post(
            "/v1/chat/completions", json=chat_body(SIMPLE, stream=True), headers=OPENAI_HEADERS
        )
    name, data = sse_events(a.text)[-1]
    assert name == "error" and "model runner crashed" in json.loads(data)["error"]["message"]
    last = sse_events(o.text)[-1][1]
    assert "model runner crashed" in json.loads(last)["error"]["message"]
    assert "[DONE]" not in o.text
    assert fake_anthropic.requests_to("/v1/messages") == []  # too late to escalate


@pytest.mark.usefixtures("ollama_installed")
def test_local_down_and_no_paid_credentials_is_a_clear_error_in_each_dialect(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": url})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        a = http.post(
            "/v1/messages",
            json=messages_body(text=SIMPLE),
            headers={"anthropic-version": "2023-06-01"},
        )
        o = http.post("/v1/chat/completions", json=chat_body(SIMPLE))
    assert a.status_code == 401
    assert a.json()["type"] == "error"
    assert a.json()["error"]["type"] == "authentication_error"
    assert "no paid credentials" in a.json()["error"]["message"]
    assert o.status_code == 401 and "no paid credentials" in o.json()["error"]["message"]
    # What the local attempt hit, with its fix, as `ocp_model_route` and doctor say it (it
    # was "ollama llama3.2: ConnectError: All connection attempts failed").
    for said in (a.json()["error"]["message"], o.json()["error"]["message"]):
        assert f"ollama llama3.2: cannot reach ollama at {url}" in said, said
        assert "ollama serve" in said and "OCP_OLLAMA_URL" in said, said


def test_an_unreachable_openai_compatible_local_server_is_named_with_its_setting(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    env = proxy_env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": url}
    proxy = start_proxy(env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        o = http.post("/v1/chat/completions", json=chat_body(SIMPLE))
    said = o.json()["error"]["message"]
    assert o.status_code == 401, said
    # not "openai", read as OpenAI's paid API
    assert f"cannot reach the local OpenAI-compatible server at {url}" in said, said
    assert "OCP_LOCAL_BASE_URL" in said and "OPENAI_BASE_URL" not in said, said


def test_a_failed_local_attempt_names_its_backend_and_model_once(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A local model that is not pulled (the fake 404s it) and no paid credentials: the error
    # lists what was tried as "ollama qwen9: HTTP 404 ...", not "ollama qwen9: ollama qwen9: ...".
    caplog.set_level(logging.INFO, logger="ocp_server.proxy.serving")
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_MODEL": "qwen9"})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        a = http.post(
            "/v1/messages",
            json=messages_body(text=SIMPLE),
            headers={"anthropic-version": "2023-06-01"},
        )
    message = a.json()["error"]["message"]
    assert a.status_code == 401
    assert "(tried: ollama qwen9: HTTP 404" in message
    assert message.count("ollama qwen9") == 1
    logged = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert any("local ollama qwen9 failed: HTTP 404" in line for line in logged), logged
    summary = [r.getMessage() for r in caplog.records if " tokens, 401 in " in r.getMessage()]
    assert len(summary) == 1 and "local -> no answer 0+0 tokens" in summary[0], summary


def test_an_unreachable_paid_upstream_is_a_502_in_the_clients_dialect(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    env = proxy_env | {"OCP_PROXY_ANTHROPIC_UPSTREAM": f"http://127.0.0.1:{closed_port()}"}
    proxy = start_proxy(env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "api_error"


def test_an_unreachable_paid_upstream_is_named_with_its_url_and_setting(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    # It said only "the openai upstream did not answer: ConnectError: [Errno -2] Name or
    # service not known": not where it went, nor the setting that moves it.
    a_url, o_url = (f"http://127.0.0.1:{closed_port()}" for _ in range(2))
    env = proxy_env | {
        "OCP_PROXY_ANTHROPIC_UPSTREAM": a_url,
        "OCP_PROXY_OPENAI_UPSTREAM": o_url + "/v1",
    }
    proxy = start_proxy(env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        a = http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
        count = http.post(
            "/v1/messages/count_tokens",
            json={"model": "claude-opus-5-5", "messages": [{"role": "user", "content": "hi"}]},
            headers=ANTHROPIC_HEADERS,
        )
        o = http.post(
            "/v1/chat/completions", json=chat_body(), headers={"authorization": "Bearer k"}
        )
    for response, url, setting in (
        (a, a_url + "/v1/messages", "OCP_PROXY_ANTHROPIC_UPSTREAM"),
        (count, a_url + "/v1/messages/count_tokens", "OCP_PROXY_ANTHROPIC_UPSTREAM"),
        (o, o_url + "/v1/chat/completions", "OCP_PROXY_OPENAI_UPSTREAM"),
    ):
        said = response.json()["error"]["message"]
        assert response.status_code == 502, said
        assert f"at {url} did not answer" in said and setting in said, said
        assert "ConnectError" in said, said  # the cause is still given


def test_a_paid_upstream_silent_past_its_timeout_names_the_timeout_setting(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # No status line within OCP_PROXY_UPSTREAM_TIMEOUT: the setting to raise is that one,
    # not the upstream's URL (it said only "did not answer: ReadTimeout").
    fake_anthropic.delay = 3.0
    proxy = start_proxy(proxy_env | {"OCP_PROXY_UPSTREAM_TIMEOUT": "0.5"})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
    said = response.json()["error"]["message"]
    assert response.status_code == 504, said
    assert "did not answer within 0.5 s (ReadTimeout)" in said, said
    assert "raise OCP_PROXY_UPSTREAM_TIMEOUT" in said, said
    assert "OCP_PROXY_ANTHROPIC_UPSTREAM" not in said, said


def test_a_malformed_paid_answer_is_a_502_not_a_broken_body(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.malformed_next()
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with client, pytest.raises(anthropic.APIStatusError, match="not JSON") as raised:
        client.messages.create(**SDK_MESSAGE)
    assert raised.value.status_code == 502


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/messages", b"{not json", "body: not valid JSON"),
        ("/v1/messages", json.dumps({"model": "m", "messages": []}).encode(), "max_tokens"),
        ("/v1/messages", json.dumps({"max_tokens": 5, "messages": []}).encode(), "model"),
        ("/v1/chat/completions", json.dumps({"model": "m"}).encode(), "messages"),
        ("/v1/chat/completions", b"[]", "body: expected a JSON object"),
    ],
)
def test_a_malformed_request_is_a_400_naming_the_field(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    body: bytes,
    field: str,
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert field in error["message"]
    if path == "/v1/messages":
        assert response.json()["type"] == "error"


def test_a_client_leaving_mid_stream_cancels_the_upstream_request(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # 2,000 pieces at 50 ms: 100 s if nobody hangs up, far beyond the 30 s waited for it.
    fake_anthropic.reply = "word " * 2000
    fake_anthropic.stream_delay = 0.05
    proxy = start_proxy(proxy_env)
    body = messages_body(stream=True)
    first = first_line_then_leave(proxy, "/v1/messages", body, ANTHROPIC_HEADERS)
    assert first.startswith("event: message_start")
    until_closed(fake_anthropic)
    assert last_row_once_recorded(proxy)["error"] == "the client went away mid-stream"


def test_shutdown_lets_an_open_stream_finish(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.reply = "word " * 20
    fake_anthropic.stream_delay = 0.05
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        with http.stream(
            "POST", "/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS
        ) as response:
            lines = response.iter_lines()
            assert next(lines).startswith("event: message_start")
            assert proxy.server is not None
            proxy.server.should_exit = True  # what SIGTERM does
            rest = "\n".join(lines)
    assert sse_events(rest)[-1][0] == "message_stop"
    assert rest.count("text_delta") >= 20


def test_an_openai_client_leaving_mid_stream_cancels_the_upstream_request(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = "word " * 2000  # 100 s if nobody hangs up
    fake_openai.stream_delay = 0.05
    proxy = start_proxy(proxy_env)
    first = first_line_then_leave(
        proxy, "/v1/chat/completions", chat_body(stream=True), OPENAI_HEADERS
    )
    assert first.startswith("data: {")
    until_closed(fake_openai)
    assert last_row_once_recorded(proxy)["error"] == "the client went away mid-stream"


def test_an_openai_upstream_that_stalls_mid_stream_ends_with_an_error_chunk(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    _, response = stream_from_an_upstream_that_stalls(start_proxy, proxy_env, fake_openai)
    last = json.loads(sse_events(response.text)[-1][1])
    assert "sent nothing for 0.5 s mid-stream" in last["error"]["message"]
    assert "[DONE]" not in response.text


def test_a_paid_upstream_silent_past_its_timeout_is_a_504_timeout_error_to_the_sdks(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    # A gateway whose upstream took the request and never answered said 502 and, to an
    # Anthropic client, `api_error`: Anthropic's API answers a request it timed out on 504
    # `timeout_error`, the type the SDK's GatewayTimeoutError and Claude Code's retry see.
    fake_anthropic.delay = fake_openai.delay = 3.0
    proxy = start_proxy(proxy_env | {"OCP_PROXY_UPSTREAM_TIMEOUT": "0.5"})
    claude = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as refused:
        claude.messages.create(**SDK_MESSAGE)
    assert refused.value.status_code == 504
    body = cast(dict[str, Any], refused.value.body)
    assert body["error"]["type"] == "timeout_error", body
    gpt = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-openai", max_retries=0)
    with pytest.raises(openai.APIStatusError) as failed:
        gpt.chat.completions.create(**SDK_CHAT)
    assert failed.value.status_code == 504
    assert "raise OCP_PROXY_UPSTREAM_TIMEOUT" in failed.value.message


@pytest.mark.parametrize(
    ("status", "kind"), [(402, "billing_error"), (504, "timeout_error"), (529, "overloaded_error")]
)
def test_an_anthropic_error_too_long_to_relay_keeps_the_type_its_status_has(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    status: int,
    kind: str,
) -> None:
    # Replaced by the proxy's own words, a 402's error was an `invalid_request_error` and a
    # 504's an `api_error`: the types Anthropic's API gives them are billing and timeout.
    fake_anthropic.fail_next(status, body="x" * (70 * 1024))
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind, response.text
