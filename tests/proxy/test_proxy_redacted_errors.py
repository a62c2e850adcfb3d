"""Errors the proxy passes on, redacted wherever they go: a paid provider's error event inside
a 200 stream, and a local endpoint's `user:password@` in a local failure's text."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from ocp_server.proxy import local_answer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    SIMPLE,
    messages_body,
    request_in,
    sse_events,
)
from tests.proxy.recorded import last_row

KEY = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2 + "-x9AA"


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_paid_upstreams_error_event_mid_stream_reaches_the_client_redacted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    dialect: str,
) -> None:
    # The stream's error event was relayed as the provider sent it (the trace had it
    # redacted): a key it quoted went to the client, whose agent's model reads it.
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        (fake_anthropic if dialect == "anthropic" else fake_openai).fail_mid_stream(
            f"invalid key {KEY}", after=2
        )
        path, body, headers = request_in(dialect, stream=True)
        answered = http.post(path, json=body, headers=headers)
    assert answered.status_code == 200
    assert KEY not in answered.text
    name, data = sse_events(answered.text)[-1]
    error = json.loads(data)["error"]
    assert error["message"] == "invalid key [REDACTED:anthropic_key]"
    if dialect == "anthropic":  # the event and its type as the provider sent them
        assert name == "error" and error["type"] == "overloaded_error"
    else:
        assert error["type"] == "server_error"
    assert proxy.call(last_row)["error"] == "invalid key [REDACTED:anthropic_key]"


def test_a_paid_stream_without_errors_is_relayed_byte_for_byte(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # (the redaction reads error events only: an answer that quotes a key is the model's)
    fake_anthropic.add_steps({"text": f'the "error" key was {KEY}'})
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post(
            "/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS
        )
    assert KEY in answered.text


def test_a_local_endpoints_password_stays_out_of_a_failures_trace_log_and_client_error(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # OCP_OLLAMA_URL with basic auth for a gateway in front of Ollama: a failure whose text
    # quotes the URL carried the password (no pattern redaction knows) into the trace, the
    # log and, mid-stream, the client's error.
    caplog.set_level(logging.WARNING, logger=local_answer.__name__)
    url = fake_ollama.url.replace("http://", "http://bob:hunter2@")
    fake_ollama.fail_next(502, body={"error": f"gateway: {url}/api/chat refused"}, times=1)
    fake_ollama.fail_mid_stream(f"gateway: {url}/api/chat went away", after=2)
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": url, "ANTHROPIC_API_KEY": "sk-ant-test"})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        asked = messages_body(text=SIMPLE)
        escalated = http.post("/v1/messages", json=asked, headers=ANTHROPIC_HEADERS)
        row = proxy.call(last_row)
        cut = http.post(
            "/v1/messages", json=messages_body(text=SIMPLE, stream=True), headers=ANTHROPIC_HEADERS
        )
        streamed = proxy.call(last_row)
    assert escalated.status_code == 200  # the paid tier answered instead
    failed = row["attempts"][0]["error"]
    assert "gateway: http://***@127.0.0.1" in failed and "hunter2" not in failed
    assert "hunter2" not in json.dumps(streamed)
    said = json.loads(sse_events(cut.text)[-1][1])["error"]["message"]
    assert "http://***@127.0.0.1" in said and "went away" in said
    assert "hunter2" not in cut.text
    logged = [r.getMessage() for r in caplog.records if r.name == local_answer.__name__]
    assert logged and not [line for line in logged if "hunter2" in line]
