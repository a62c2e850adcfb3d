"""The official `anthropic` and `openai` SDKs through the proxy, streaming and not, to the local
model (fake Ollama) and to the paid provider (fake Anthropic / fake OpenAI): simple requests
answered locally, hard ones relayed untouched, the tier's model, keys and redaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD, SIMPLE, TOOLS, messages_body
from tests.proxy.recorded import recorded_rows
from tests.proxy.sdk_clients import (
    anthropic_client,
    close_clients,  # noqa: F401 - autouse, closes the SDK clients a test opened
)
from tests.results import message_text


def test_a_simple_anthropic_request_is_answered_by_the_local_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    message = anthropic_client(proxy).messages.create(
        model="claude-opus-5-5",
        max_tokens=200,
        system="You are terse.",
        messages=[{"role": "user", "content": SIMPLE}],
    )
    assert message.model == "claude-opus-5-5"  # the model asked for (served_model.py)
    assert [b.type for b in message.content] == ["text"]
    assert message_text(message) == f"local answer: {SIMPLE}"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens > 0
    sent = fake_ollama.requests_to("/api/chat")[0].body
    assert sent["model"] == "llama3.2"
    assert sent["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": SIMPLE},
    ]
    assert sent["options"] == {"num_predict": 200}
    assert fake_anthropic.requests == []


def test_a_streamed_anthropic_request_answered_locally_is_a_faithful_event_stream(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env)
    with anthropic_client(proxy).messages.stream(
        model="claude-opus-5-5", max_tokens=100, messages=[{"role": "user", "content": SIMPLE}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"local answer: {SIMPLE}"
    assert message_text(final) == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_a_local_answers_input_tokens_are_the_models_count_streamed_or_not(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    # message_start can only carry OCP's estimate (the model has not answered yet); the
    # stream's final usage said that estimate (14 tokens here, of JSON) where the same request
    # unstreamed, and the trace, said the model's own count (5).
    proxy = start_proxy(proxy_env)
    client = anthropic_client(proxy)
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": SIMPLE}]
    whole = client.messages.create(model="claude-opus-5-5", max_tokens=100, messages=messages)
    with client.messages.stream(
        model="claude-opus-5-5", max_tokens=100, messages=messages
    ) as stream:
        streamed = stream.get_final_message()
    assert streamed.usage.input_tokens == whole.usage.input_tokens
    assert proxy.call(recorded_rows)[0]["input_tokens"] == streamed.usage.input_tokens


def test_a_hard_anthropic_request_is_relayed_to_the_paid_provider_untouched(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    image = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
    body: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 300,
        "system": [
            {"type": "text", "text": "Big stable context", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": image},
                    {"type": "text", "text": HARD, "cache_control": {"type": "ephemeral"}},
                ],
            }
        ],
        "metadata": {"user_id": "u-1"},
    }
    message = anthropic_client(proxy).messages.create(
        **body, extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"}
    )
    assert message_text(message).startswith("claude answer: ")
    assert message.model == "claude-opus-5-5"
    seen = fake_anthropic.requests_to("/v1/messages")[0]
    assert seen.body == body  # the top decision keeps the requested (top) model
    # the SDK's own credential header arrives as it was sent (SDK 2.x sends a bearer)
    assert seen.headers["authorization"] == "Bearer sk-ant-test"
    assert seen.headers["user-agent"].startswith("Anthropic/Python")
    assert seen.headers["anthropic-version"]
    assert seen.headers["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert fake_ollama.requests_to("/api/chat") == []


def test_a_request_offering_tools_stays_paid_and_keeps_its_tools(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
) -> None:
    fake_anthropic.script = [{"tool_use": {"name": "read_file", "input": {"path": "a.py"}}}]
    proxy = start_proxy(proxy_env)
    message = anthropic_client(proxy).messages.create(
        model="claude-sonnet-5-5",
        max_tokens=100,
        tools=TOOLS,
        messages=[{"role": "user", "content": SIMPLE}],
    )
    assert message.stop_reason == "tool_use"
    assert message.content[-1].type == "tool_use"
    assert fake_anthropic.requests_to("/v1/messages")[0].body["tools"] == TOOLS
    assert fake_ollama.requests_to("/api/chat") == []


def test_a_paid_stream_is_relayed_event_by_event_and_its_usage_is_costed(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    events: list[str] = []
    with anthropic_client(proxy).messages.stream(
        model="claude-opus-5-5", max_tokens=300, messages=[{"role": "user", "content": HARD}]
    ) as stream:
        for event in stream:
            events.append(event.type)
        final = stream.get_final_message()
    assert events[0] == "message_start"
    assert "content_block_delta" in events
    assert message_text(final).startswith("claude answer: ")
    rows = proxy.call(recorded_rows)
    assert rows[0]["answered_tier"] == "top"
    assert rows[0]["input_tokens"] == final.usage.input_tokens
    assert rows[0]["output_tokens"] == final.usage.output_tokens
    # claude-opus-5-5 at $4 in / $20 out per million tokens
    expected = (final.usage.input_tokens * 4 + final.usage.output_tokens * 20) / 1e6
    assert rows[0]["cost_usd"] == round(expected, 6)


def test_the_requested_model_is_the_ceiling_for_a_mid_tier_decision(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_ROUTE_MODE": "paid"})  # every request: the mid tier
    client = anthropic_client(proxy)
    for asked in ("claude-opus-5-5", "claude-haiku-5-5", "claude-sonnet-5-5"):
        client.messages.create(
            model=asked, max_tokens=50, messages=[{"role": "user", "content": SIMPLE}]
        )
    sent = [r.body["model"] for r in fake_anthropic.requests_to("/v1/messages")]
    # Opus comes down to the mid model; Haiku is cheaper than it and is never raised.
    assert sent == ["claude-sonnet-5-5", "claude-haiku-5-5", "claude-sonnet-5-5"]


def test_with_no_ceiling_each_tier_uses_its_configured_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    env = proxy_env | {"OCP_ROUTE_MODE": "paid", "OCP_PROXY_CEILING": "none"}
    proxy = start_proxy(env)
    anthropic_client(proxy).messages.create(
        model="claude-haiku-5-5", max_tokens=50, messages=[{"role": "user", "content": SIMPLE}]
    )
    assert fake_anthropic.requests_to("/v1/messages")[0].body["model"] == "claude-sonnet-5-5"


def test_the_environment_key_is_used_only_when_the_client_sends_none(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.api_key = None  # accept any key; the test reads what arrived
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": "sk-ant-from-env"})
    body = messages_body(max_tokens=50)
    headers = {"anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        assert http.post("/v1/messages", json=body, headers=headers).status_code == 200
        own = headers | {"x-api-key": "sk-ant-client"}
        assert http.post("/v1/messages", json=body, headers=own).status_code == 200
    keys = [r.headers["x-api-key"] for r in fake_anthropic.requests_to("/v1/messages")]
    assert keys == ["sk-ant-from-env", "sk-ant-client"]


def test_secrets_are_redacted_before_a_paid_request_leaves(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    secret = "AKIA" + "QW7B3PDKHX4PY8GP"  # AKIAIOSFODNN7EXAMPLE is a placeholder
    proxy = start_proxy(proxy_env)
    anthropic_client(proxy).messages.create(
        model="claude-opus-5-5",
        max_tokens=50,
        messages=[{"role": "user", "content": f"{HARD}. My key is {secret}"}],
    )
    sent = json.dumps(fake_anthropic.requests_to("/v1/messages")[0].body)
    assert secret not in sent
    assert "[REDACTED:" in sent
