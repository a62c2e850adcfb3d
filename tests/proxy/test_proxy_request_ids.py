"""Each proxied request's id: in its answer's header as its dialect's API names it
(Anthropic's `request-id`, OpenAI's `x-request-id`, which each SDK shows with an error), in
its trace and in the log; a paid upstream's own id relayed in its place, and traced too."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anthropic
import httpx
import openai
import pytest

from ocp_server.proxy import serving
from ocp_server.proxy.base import LOOP_HEADER
from tests.fakes.anthropic import FakeAnthropic
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    HARD,
    OPENAI_HEADERS,
    SIMPLE,
    chat_body,
    messages_body,
    sdk_message,
)
from tests.proxy.recorded import last_row


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_answer_names_its_request_as_its_trace_and_log_line_do(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    stream: bool,
) -> None:
    caplog.set_level(logging.INFO, logger=serving.__name__)
    proxy = start_proxy(proxy_env)
    said = sdk_message(proxy, stream, **messages_body(text=SIMPLE))[1]
    row = proxy.call(last_row)
    assert row["answered_tier"] == "local"
    assert said == row["request_id"] == "req_ocp_" + row["id"]
    assert row["upstream_request_id"] is None
    assert f"proxy {said} anthropic: local -> local/" in _logged(caplog)


def test_a_paid_answer_relays_the_upstreams_request_id_and_the_trace_keeps_both(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=serving.__name__)
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with client:
        message = client.messages.create(
            model="claude-opus-5-5", max_tokens=100, messages=[{"role": "user", "content": HARD}]
        )
    assert fake_anthropic.requests_to("/v1/messages")  # answered by the paid tier
    said = message._request_id
    row = proxy.call(last_row)
    assert said is not None and said == row["upstream_request_id"]
    assert not said.startswith("req_ocp_") and row["request_id"] == "req_ocp_" + row["id"]
    assert f"proxy {row['request_id']} (upstream {said}) anthropic:" in _logged(caplog)


def test_a_paid_error_names_the_upstreams_request_id(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.fail_next(529, path="/v1/messages")
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    with client, pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(
            model="claude-opus-5-5", max_tokens=100, messages=[{"role": "user", "content": HARD}]
        )
    row = proxy.call(last_row)
    assert raised.value.status_code == 529
    assert raised.value.request_id == row["upstream_request_id"] is not None


def test_a_refused_request_names_its_id_in_the_clients_error_and_the_log(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=serving.__name__)
    proxy = start_proxy(proxy_env)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-test", max_retries=0)
    with client, pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": SIMPLE}],
            temperature=3,
        )
    said = raised.value.request_id
    assert said is not None and said.startswith("req_ocp_")
    assert f"proxy {said} openai: refused, 400 Invalid 'temperature'" in _logged(caplog)


def test_an_openai_clients_local_stream_carries_x_request_id(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
) -> None:
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post(
            "/v1/chat/completions",
            json=chat_body(text=SIMPLE) | {"stream": True},
            headers=OPENAI_HEADERS,
        )
    assert answered.status_code == 200, answered.text
    assert answered.headers["x-request-id"] == proxy.call(last_row)["request_id"]
    assert "request-id" not in answered.headers  # Anthropic's name, not this dialect's


def test_a_request_that_loops_back_still_names_its_request(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
) -> None:
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        looped = http.post(
            "/v1/messages",
            json={"model": "claude-opus-5-5", "max_tokens": 10, "messages": []},
            headers=ANTHROPIC_HEADERS | {LOOP_HEADER: "1"},
        )
    assert looped.status_code == 508
    assert looped.headers["request-id"].startswith("req_ocp_")


# ---- the routes that answer without routing -------------------------------------------------
def _without_keys(env: dict[str, str]) -> dict[str, str]:
    """No API key in the environment (the client sends none): answered by the proxy itself."""
    return env | {"ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""}


@pytest.mark.parametrize(
    "body",
    [
        {"model": "claude-opus-5-5", "messages": [{"role": "user", "content": SIMPLE}]},
        {"model": "claude-opus-5-5", "messages": "not a list"},  # refused: a 400
    ],
)
def test_a_token_count_names_its_request(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], body: dict[str, object]
) -> None:
    proxy = start_proxy(_without_keys(proxy_env))
    headers = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/messages/count_tokens", json=body, headers=headers)
    assert answered.headers["request-id"].startswith("req_ocp_"), answered.headers
    assert "x-request-id" not in answered.headers


@pytest.mark.parametrize(
    ("headers", "header"),
    [({"anthropic-version": "2023-06-01"}, "request-id"), ({}, "x-request-id")],
)
@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/llama3.2", "/v1/models/no-such"])
def test_a_model_list_or_model_names_its_request_in_its_dialects_header(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    headers: dict[str, str],
    header: str,
    path: str,
) -> None:
    proxy = start_proxy(_without_keys(proxy_env))
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.get(path, headers=headers)
    assert answered.status_code == (404 if "no-such" in path else 200), answered.text
    assert answered.headers[header].startswith("req_ocp_"), answered.headers
