"""The official `anthropic` and `openai` SDKs through the proxy, streaming and not, to the
local model (fake Ollama) and to the paid provider (fake Anthropic / fake OpenAI)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import anthropic
import httpx
import openai
import pytest

from tests.fakes._http import closed_port
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD, SIMPLE, TOOLS
from tests.proxy.recorded import recorded_rows
from tests.results import message_text

OPENAI_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]
SUM_SCHEMA = {
    "type": "object",
    "properties": {"sum": {"type": "integer"}},
    "required": ["sum"],
    "additionalProperties": False,
}


_clients: list[anthropic.Anthropic | openai.OpenAI] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def _anthropic(proxy: RunningProxy, key: str = "sk-ant-test") -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=proxy.url, api_key=key, max_retries=0, timeout=20)
    _clients.append(client)
    return client


def _openai(proxy: RunningProxy, key: str = "sk-openai") -> openai.OpenAI:
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=key, max_retries=0, timeout=20)
    _clients.append(client)
    return client


def test_a_simple_anthropic_request_is_answered_by_the_local_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    message = _anthropic(proxy).messages.create(
        model="claude-opus-5-5",
        max_tokens=200,
        system="You are terse.",
        messages=[{"role": "user", "content": SIMPLE}],
    )
    assert message.model == "llama3.2"
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
    with _anthropic(proxy).messages.stream(
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
    client = _anthropic(proxy)
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
    message = _anthropic(proxy).messages.create(
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
    message = _anthropic(proxy).messages.create(
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
    with _anthropic(proxy).messages.stream(
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


def test_openai_sdk_simple_requests_are_answered_locally_streaming_and_not(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    proxy = start_proxy(proxy_env)
    client = _openai(proxy)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": SIMPLE}]
    )
    assert completion.model == "llama3.2"
    assert completion.choices[0].message.content == f"local answer: {SIMPLE}"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": SIMPLE}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"local answer: {SIMPLE}"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert fake_openai.requests == []


def test_openai_sdk_hard_requests_are_relayed_to_the_openai_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
) -> None:
    fake_openai.api_key = "sk-openai"
    proxy = start_proxy(proxy_env)
    client = _openai(proxy)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": HARD}], temperature=0.2
    )
    content = completion.choices[0].message.content
    assert content is not None and content.startswith("openai answer: ")
    sent = fake_openai.requests_to("/v1/chat/completions")[0]
    assert sent.body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": HARD}],
        "temperature": 0.2,
    }
    assert sent.headers["authorization"] == "Bearer sk-openai"
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": HARD}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.startswith("openai answer: ")
    assert fake_ollama.requests_to("/api/chat") == []


def test_a_paid_openai_stream_that_asked_for_no_usage_is_still_costed(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # The SDK's default: no stream_options. OpenAI then streams no usage at all, and the
    # trace said 0 tokens and $0 for a paid answer (a daily budget never counted it).
    proxy = start_proxy(proxy_env)
    chunks = list(
        _openai(proxy).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": HARD}], stream=True
        )
    )
    # The client gets the stream it asked for: no usage chunk, whose empty `choices` a
    # client indexing choices[0] would trip on.
    assert chunks and all(c.choices for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks).startswith("openai answer")
    sent = fake_openai.requests_to("/v1/chat/completions")[0].body
    assert sent["stream_options"] == {"include_usage": True}
    row = proxy.call(recorded_rows)[0]
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert row["cost_usd"] > 0 and not row["cost_estimated"]


def test_a_paid_openai_stream_that_asked_for_usage_gets_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env)
    chunks = list(
        _openai(proxy).chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": HARD}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    row = proxy.call(recorded_rows)[0]
    assert row["output_tokens"] == chunks[-1].usage.completion_tokens > 0


def test_a_paid_openai_upstream_that_refuses_stream_options_is_asked_again_without(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # Older Azure API versions and some servers refuse the stream_options the proxy adds:
    # every paid stream the client had asked nothing unusual of failed with their 400.
    refusal = {
        "error": {
            "message": "Unrecognized request argument supplied: stream_options",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    fake_openai.fail_next(400, refusal, path="/v1/chat/completions")
    proxy = start_proxy(proxy_env)
    for _ in range(2):
        chunks = list(
            _openai(proxy).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": HARD}], stream=True
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text.startswith("openai answer"), text
    sent = [r.body for r in fake_openai.requests_to("/v1/chat/completions")]
    # asked once with it; again without, and the next request (the upstream remembered) too
    assert ["stream_options" in b for b in sent] == [True, False, False]
    # traced once the stream has ended, after the input's count (in a worker thread)
    deadline = time.monotonic() + 20
    while len(rows := proxy.call(recorded_rows)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r["status"] for r in rows] == [200, 200]
    assert rows[1]["notes"] == [
        "the upstream refused stream_options: asked again without, usage estimated"
    ]
    assert all(r["input_tokens"] > 0 and r["cost_usd"] > 0 and r["cost_estimated"] for r in rows)
    # The refused ask is an attempt of its own (unbilled: the upstream refused it), then the
    # one that answered; the next request, asked without at once, made one.
    refused, answered = rows[1]["attempts"]
    assert (refused["outcome"], refused["error_type"], refused["cost_usd"]) == (
        "error",
        "HTTP 400",
        0.0,
    )
    assert "stream_options" in refused["error"]
    assert answered["outcome"] == "ok" and rows[1]["escalations"] == 1
    assert [a["outcome"] for a in rows[0]["attempts"]] == ["ok"]


def test_the_requested_model_is_the_ceiling_for_a_mid_tier_decision(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_ROUTE_MODE": "paid"})  # every request: the mid tier
    client = _anthropic(proxy)
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
    _anthropic(proxy).messages.create(
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
    body = {
        "model": "claude-opus-5-5",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": HARD}],
    }
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
    _anthropic(proxy).messages.create(
        model="claude-opus-5-5",
        max_tokens=50,
        messages=[{"role": "user", "content": f"{HARD}. My key is {secret}"}],
    )
    sent = json.dumps(fake_anthropic.requests_to("/v1/messages")[0].body)
    assert secret not in sent
    assert "[REDACTED:" in sent


def test_models_are_listed_in_each_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.models = ["gpt-4o", "gpt-4o-mini"]
    proxy = start_proxy(proxy_env)
    names = [m.id for m in _anthropic(proxy).models.list()]
    assert names == ["claude-sonnet-5-5", "claude-opus-5-5", "llama3.2"]
    assert fake_anthropic.requests == []  # the paid backend's dialect: the proxy's own list
    # An OpenAI client's paid requests go to its upstream with the model they name: it was
    # listed the Claude models, which that upstream refuses; it is listed that upstream's.
    assert [m.id for m in _openai(proxy).models.list()] == ["gpt-4o", "gpt-4o-mini"]
    (asked,) = fake_openai.requests_to("/v1/models")
    assert asked.headers["authorization"] == "Bearer sk-openai"  # the client's own key


def test_a_listed_model_is_retrieved_and_another_is_not_found_in_each_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    # Both APIs serve GET /v1/models/{id} (the SDKs' models.retrieve); the proxy said 404.
    fake_openai.models = ["gpt-4o"]
    proxy = start_proxy(proxy_env)
    claude, gpt = _anthropic(proxy), _openai(proxy)
    for name in ("claude-opus-5-5", "llama3.2"):
        assert claude.models.retrieve(name).id == name
    assert gpt.models.retrieve("gpt-4o").id == "gpt-4o"
    # an Ollama model's name may hold slashes
    slashed = start_proxy(proxy_env | {"OCP_LOCAL_MODEL": "hf.co/org/model:Q4"})
    assert _anthropic(slashed).models.retrieve("hf.co/org/model:Q4").id == "hf.co/org/model:Q4"
    with pytest.raises(anthropic.NotFoundError) as refused:
        claude.models.retrieve("claude-unknown-1")
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: claude-unknown-1"},
    }
    assert fake_anthropic.requests == []
    for name in ("gpt-unknown", "claude-opus-5-5"):  # the OpenAI upstream's own answer
        with pytest.raises(openai.NotFoundError) as missing:
            gpt.models.retrieve(name)
        assert missing.value.code == "model_not_found" and f"`{name}`" in missing.value.message


def test_an_openai_client_without_credentials_is_listed_the_local_model_alone(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # No key to ask its upstream with, none in the environment: only the local model answers.
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        listed = http.get("/v1/models").json()
        assert [m["id"] for m in listed["data"]] == ["llama3.2"]
        assert http.get("/v1/models/claude-opus-5-5").status_code == 404
    assert fake_openai.requests == []


def test_an_anthropic_client_is_listed_its_upstreams_models_when_the_paid_backend_is_openai(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.models = ["claude-haiku-5-5"]
    env = proxy_env | {
        "OCP_PAID_BACKEND": "openai",
        "OCP_PAID_MODEL": "gpt-4o-mini",
        "OCP_PAID_TOP_MODEL": "gpt-4o",
    }
    proxy = start_proxy(env)
    assert [m.id for m in _anthropic(proxy).models.list()] == ["claude-haiku-5-5"]
    assert [m.id for m in _openai(proxy).models.list()] == ["gpt-4o-mini", "gpt-4o", "llama3.2"]


def test_an_unreachable_upstream_asked_for_its_models_is_a_502_naming_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    upstream = f"http://127.0.0.1:{closed_port()}/v1"
    proxy = start_proxy(proxy_env | {"OCP_PROXY_OPENAI_UPSTREAM": upstream})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answer = http.get("/v1/models", headers={"authorization": "Bearer sk-openai"})
    said = answer.json()["error"]["message"]
    assert answer.status_code == 502, said
    assert f"at {upstream}/models did not answer" in said and "OCP_PROXY_OPENAI_UPSTREAM" in said


def test_the_local_model_asked_for_on_a_paid_tier_is_sent_as_the_tiers_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # It is listed; a hard request for it went to Anthropic as "llama3.2", which has no such model.
    proxy = start_proxy(proxy_env)
    _anthropic(proxy).messages.create(
        model="llama3.2", max_tokens=50, messages=[{"role": "user", "content": HARD}]
    )
    (sent,) = fake_anthropic.requests_to("/v1/messages")
    assert sent.body["model"] == "claude-opus-5-5"


def test_count_tokens_is_answered_by_the_upstream_with_credentials_else_estimated(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    counted = _anthropic(proxy).messages.count_tokens(
        model="claude-opus-5-5", messages=[{"role": "user", "content": HARD}]
    )
    assert counted.input_tokens > 0
    assert len(fake_anthropic.requests_to("/v1/messages/count_tokens")) == 1
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        body = {"model": "claude-opus-5-5", "messages": [{"role": "user", "content": HARD}]}
        estimated = http.post("/v1/messages/count_tokens", json=body).json()
    assert estimated["input_tokens"] > 10
    assert len(fake_anthropic.requests_to("/v1/messages/count_tokens")) == 1


def test_with_local_tools_a_tool_call_is_answered_locally_in_the_clients_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.reply = {
        "content": "",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
    }
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    message = _anthropic(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        tools=TOOLS,
        messages=[{"role": "user", "content": SIMPLE}],
    )
    assert message.model == "llama3.2"
    assert message.stop_reason == "tool_use"
    (call,) = [b for b in message.content if b.type == "tool_use"]
    assert (call.name, call.input) == ("read_file", {"path": "a.py"})
    sent = fake_ollama.requests_to("/api/chat")[0].body
    assert sent["tools"][0]["function"]["name"] == "read_file"
    assert fake_anthropic.requests == []


def test_over_the_daily_budget_a_paid_request_without_tools_is_answered_locally(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_DAILY_BUDGET_USD": "0"})
    message = _anthropic(proxy).messages.create(
        model="claude-opus-5-5", max_tokens=100, messages=[{"role": "user", "content": HARD}]
    )
    assert message.model == "llama3.2"
    assert fake_anthropic.requests_to("/v1/messages") == []
    row = proxy.call(recorded_rows)[0]
    assert (row["tier"], row["answered_tier"]) == ("top", "local")
    assert row["notes"][0].startswith("paid: budget: $0.0000 spent today")


@pytest.mark.parametrize(
    "asks",
    [
        {"n": 2},
        {"logprobs": True, "top_logprobs": 2},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "sum"}}},
        {"web_search_options": {}},
        {"tools": [{"type": "custom", "custom": {"name": "apply_patch"}}]},
        {"tools": OPENAI_TOOLS, "tool_choice": "required"},
        {
            "tools": OPENAI_TOOLS,
            "tool_choice": {"type": "function", "function": {"name": "read_file"}},
        },
    ],
    ids=[
        "n",
        "logprobs",
        "json_schema_without_a_schema",
        "web_search",
        "custom_tool",
        "tool_required",
        "tool_named",
    ],
)
def test_a_simple_openai_request_asking_what_a_local_answer_lacks_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
    asks: dict[str, Any],
) -> None:
    # A local answer has one choice, no log probabilities and no shape it was not given:
    # answered locally, `n=2` came back with one choice.
    # A tool call demanded (OCP_LOCAL_TOOLS=1: tools alone keep nothing paid): no local model
    # can be made to make one, and the local answer was text.
    fake_openai.api_key = "sk-openai"
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    completion = _openai(proxy).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": SIMPLE}], **asks
    )
    assert completion.model != "llama3.2"
    sent = fake_openai.requests_to("/v1/chat/completions")
    assert len(sent) == 1 and all(sent[0].body[k] == v for k, v in asks.items())
    assert fake_ollama.requests_to("/api/chat") == []


@pytest.mark.parametrize(
    ("asks", "said"),
    [
        ({"tools": TOOLS, "tool_choice": {"type": "any"}}, "tool_choice 'any'"),
        (
            {"tools": TOOLS, "tool_choice": {"type": "tool", "name": "read_file"}},
            "tool_choice 'tool'",
        ),
        # a format that is not a JSON schema: nothing a local model can be held to
        ({"output_config": {"format": {"type": "grammar"}}}, "output_config.format"),
        ({"output_format": {"type": "json_schema"}}, "output_format"),
    ],
    ids=["tool_any", "tool_named", "output_config_not_a_schema", "output_format_no_schema"],
)
def test_a_simple_anthropic_request_asking_what_a_local_answer_lacks_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    asks: dict[str, Any],
    said: str,
) -> None:
    # Answered locally, a demanded tool call came back as text.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    message = _anthropic(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        messages=[{"role": "user", "content": SIMPLE}],
        extra_body=asks,
    )
    assert message.model != "llama3.2"
    sent = fake_anthropic.requests_to("/v1/messages")
    assert len(sent) == 1 and all(sent[0].body[k] == v for k, v in asks.items())
    assert fake_ollama.requests_to("/api/chat") == []
    (note,) = proxy.call(recorded_rows)[0]["notes"]
    assert note.startswith(f"local: {said}") and note.endswith("answered by the paid tier")


def test_a_request_that_forbids_tool_calls_reaches_the_local_model_without_tools(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], fake_ollama: FakeOllama
) -> None:
    # tool_choice none: the local model was offered the tools all the same, free to call one.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    _anthropic(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        tools=TOOLS,
        tool_choice={"type": "none"},
        messages=[{"role": "user", "content": SIMPLE}],
    )
    _openai(proxy).chat.completions.create(
        model="gpt-4o",
        tools=cast(Any, OPENAI_TOOLS),
        tool_choice="none",
        messages=[{"role": "user", "content": SIMPLE}],
    )
    sent = fake_ollama.requests_to("/api/chat")
    assert len(sent) == 2 and not any(r.body.get("tools") for r in sent)


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
        {"type": "code_execution_20250825", "name": "code_execution"},
    ],
    ids=["web_search", "code_execution"],
)
def test_a_request_offering_an_anthropic_server_tool_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    tool: dict[str, Any],
) -> None:
    # Anthropic runs these itself; with OCP_LOCAL_TOOLS=1 the local model got none of them
    # (they have no input_schema to translate) and answered without searching or running.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    _anthropic(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        messages=[{"role": "user", "content": SIMPLE}],
        extra_body={"tools": [tool]},
    )
    assert fake_ollama.requests_to("/api/chat") == []
    (sent,) = fake_anthropic.requests_to("/v1/messages")
    assert sent.body["tools"] == [tool]
    (note,) = proxy.call(recorded_rows)[0]["notes"]
    assert note.startswith(f"local: the tool {tool['name']!r} is Anthropic's own ({tool['type']!r}")


@pytest.mark.parametrize(
    "asks",
    [
        {"output_config": {"format": {"type": "json_schema", "schema": SUM_SCHEMA}}},
        {"output_format": {"type": "json_schema", "schema": SUM_SCHEMA}},  # the beta's name
    ],
    ids=["output_config_format", "output_format"],
)
@pytest.mark.parametrize("local_backend", ["ollama", "openai"])
def test_a_simple_anthropic_request_for_structured_output_is_answered_locally_in_its_schema(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    asks: dict[str, Any],
    local_backend: str,
) -> None:
    # Claude Code asks for its session titles so: sent paid (a local model was thought unable
    # to follow a schema), though both local backends constrain their output to one.
    with FakeOpenAI() as local:
        env = proxy_env
        if local_backend == "openai":
            env = env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": local.base_url}
        proxy = start_proxy(env)
        message = _anthropic(proxy).messages.create(
            model="claude-haiku-5-5",
            max_tokens=100,
            messages=[{"role": "user", "content": SIMPLE}],
            extra_body=asks,
        )
        assert message.model == "llama3.2" and fake_anthropic.requests == []
        block = message.content[0]
        assert isinstance(block, anthropic.types.TextBlock)
        assert isinstance(json.loads(block.text)["sum"], int)
        if local_backend == "ollama":
            (sent,) = fake_ollama.requests_to("/api/chat")
            assert sent.body["format"] == SUM_SCHEMA
        else:
            (sent,) = local.requests_to("/v1/chat/completions")
            assert sent.body["response_format"]["json_schema"]["schema"] == SUM_SCHEMA
        assert proxy.call(recorded_rows)[0]["notes"] == []


@pytest.mark.parametrize(
    ("response_format", "ollama_format"),
    [
        ({"type": "json_object"}, "json"),
        ({"type": "json_schema", "json_schema": {"name": "sum", "schema": SUM_SCHEMA}}, SUM_SCHEMA),
    ],
    ids=["json_object", "json_schema"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_a_simple_openai_request_for_json_is_answered_locally_as_json(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
    response_format: dict[str, Any],
    ollama_format: Any,
    stream: bool,
) -> None:
    # JSON mode and structured outputs went paid; Ollama's `format` holds a local answer to both.
    proxy = start_proxy(proxy_env)
    client = _openai(proxy)
    messages: list[Any] = [{"role": "user", "content": SIMPLE}]
    if stream:
        chunks = client.chat.completions.create(
            model="gpt-4o", messages=messages, response_format=cast(Any, response_format),
            stream=True,
        )  # fmt: skip
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        completion = client.chat.completions.create(
            model="gpt-4o", messages=messages, response_format=cast(Any, response_format)
        )
        assert completion.model == "llama3.2"
        text = completion.choices[0].message.content or ""
    assert isinstance(json.loads(text), dict)
    assert fake_openai.requests_to("/v1/chat/completions") == []
    (sent,) = fake_ollama.requests_to("/api/chat")
    assert sent.body["format"] == ollama_format


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_openai_compatible_server_that_needs_a_key_answers_with_ocp_local_api_key(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    stream: bool,
) -> None:
    # It got no key: a 401, and every simple request escalated to the paid tier.
    with FakeOpenAI(api_key="local-key-8a7f3c") as local:
        env = proxy_env | {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_BASE_URL": local.base_url,
            "OCP_LOCAL_API_KEY": "local-key-8a7f3c",
        }
        client = _anthropic(proxy := start_proxy(env))
        messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": SIMPLE}]
        message: anthropic.types.Message
        if stream:
            with client.messages.stream(
                model="claude-haiku-5-5", max_tokens=50, messages=messages
            ) as answer:
                message = answer.get_final_message()
        else:
            message = client.messages.create(
                model="claude-haiku-5-5", max_tokens=50, messages=messages
            )
        assert proxy.call(recorded_rows)[0]["escalations"] == 0
        assert message.model == "llama3.2" and fake_anthropic.requests == []
        assert local.requests[-1].headers["authorization"] == "Bearer local-key-8a7f3c"


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_a_stream_flag_that_is_not_a_boolean_is_a_400_naming_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], dialect: str
) -> None:
    # "stream": "yes" was answered as a whole JSON body, to a client that asked for events.
    proxy = start_proxy(proxy_env)
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": SIMPLE}],
        "stream": "yes",
    }
    path = "/v1/chat/completions" if dialect == "openai" else "/v1/messages"
    if dialect == "anthropic":
        body["max_tokens"] = 100
    answer = httpx.post(proxy.url + path, json=body, timeout=20)
    assert answer.status_code == 400, answer.text
    assert "stream: expected true or false" in answer.text, answer.text


TWO_CALLS = {
    "content": "",
    "tool_calls": [
        {"name": "read_file", "arguments": {"path": "a.py"}},
        {"name": "read_file", "arguments": {"path": "b.py"}},
    ],
}


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_tool_call_answer_in_the_openai_dialect_looks_like_openais(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    stream: bool,
) -> None:
    # OpenAI: ids `call_…`, one per call; content null when the assistant only calls tools
    fake_ollama.reply = TWO_CALLS
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = _openai(proxy)
    tools = cast(Any, OPENAI_TOOLS)
    messages: list[Any] = [{"role": "user", "content": SIMPLE}]
    completion: openai.types.chat.ChatCompletion
    if stream:  # as the SDK's helper puts the stream together, piece by piece
        pieces: dict[int, list[str]] = {0: [], 1: []}
        with client.chat.completions.stream(model="gpt-4o", tools=tools, messages=messages) as s:
            for event in s:
                if event.type == "tool_calls.function.arguments.delta":
                    pieces[event.index].append(event.arguments_delta)
            completion = s.get_final_completion()
        # OpenAI's order: the call (its name, arguments "") first, then its arguments
        assert [p[0] for p in pieces.values()] == ["", ""]
        assert ["".join(p) for p in pieces.values()] == ['{"path": "a.py"}', '{"path": "b.py"}']
    else:
        completion = client.chat.completions.create(model="gpt-4o", tools=tools, messages=messages)
    assert completion.model == "llama3.2"
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [json.loads(c.function.arguments) for c in calls if c.type == "function"] == [
        {"path": "a.py"},
        {"path": "b.py"},
    ]
    ids = [c.id for c in calls]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == 2
    assert fake_openai.requests == []


def _sse_deltas(proxy: RunningProxy, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `delta` of each chunk of a streamed chat completion, as sent."""
    deltas = []
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json=body, timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                deltas += [c["delta"] for c in json.loads(line[6:])["choices"]]
    return deltas


def test_a_streamed_local_answer_in_the_openai_dialect_opens_and_calls_tools_as_openai_does(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # The first delta lacked OpenAI's `"refusal": null`, and a call came whole in one delta:
    # OpenAI sends its index, id, type and name with arguments "", then the arguments in pieces.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}], "stream": True}
    assert _sse_deltas(proxy, body)[0] == {"role": "assistant", "content": "", "refusal": None}
    text = 'é\\n"' * 300  # escapes the pieces must not cut
    fake_ollama.reply = {
        "content": "",
        "tool_calls": [
            {"name": "read_file", "arguments": {"path": "a.py"}},
            {"name": "write_file", "arguments": {"path": "b.py", "text": text}},
        ],
    }
    deltas = _sse_deltas(proxy, body | {"tools": OPENAI_TOOLS})
    opening, *rest, finish = deltas
    (call,) = opening.pop("tool_calls")
    assert opening == {"role": "assistant", "content": None, "refusal": None}
    assert call["id"].startswith("call_")
    assert call | {"id": ""} == {
        "index": 0,
        "id": "",
        "type": "function",
        "function": {"name": "read_file", "arguments": ""},
    }
    assert finish == {}
    calls = [d["tool_calls"][0] for d in rest]
    second = next(i for i, c in enumerate(calls) if c.get("id"))
    assert calls[second]["function"] == {"name": "write_file", "arguments": ""}
    for index, pieces in ((0, calls[:second]), (1, calls[second + 1 :])):
        assert all(set(p) == {"index", "function"} and p["index"] == index for p in pieces)
        assert all(set(p["function"]) == {"arguments"} for p in pieces)
    arguments = [
        "".join(p["function"]["arguments"] for p in c)
        for c in (calls[:second], calls[second + 1 :])
    ]
    assert [json.loads(a) for a in arguments] == [{"path": "a.py"}, {"path": "b.py", "text": text}]
    assert len(calls) - second - 1 > 1  # a long one comes in several pieces


@pytest.mark.parametrize("calls_tools", [False, True])
def test_a_local_answer_in_the_openai_dialect_has_openais_null_refusal_annotations_and_logprobs(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    calls_tools: bool,
) -> None:
    # A whole answer's message lacked `"refusal": null` and `"annotations": []`, and no choice,
    # whole or streamed, had `"logprobs": null`: OpenAI sends all of them. The SDK's `to_dict`
    # leaves out what the wire did not send, so it tells a null sent from one missing.
    if calls_tools:
        fake_ollama.reply = TWO_CALLS
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = _openai(proxy)
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    if calls_tools:
        body["tools"] = OPENAI_TOOLS
    (choice,) = client.chat.completions.create(**body).choices
    sent = choice.to_dict()
    assert sent["logprobs"] is None and "logprobs" in sent
    message = cast(dict[str, Any], sent["message"])
    assert message["refusal"] is None and "refusal" in message
    assert message["annotations"] == []
    assert bool(message.get("tool_calls")) == calls_tools
    raw = httpx.post(proxy.url + "/v1/chat/completions", json=body, timeout=20).json()
    (raw_choice,) = raw["choices"]
    assert raw_choice["logprobs"] is None and "logprobs" in raw_choice
    raw_message = raw_choice["message"]
    assert raw_message["refusal"] is None and "refusal" in raw_message
    assert raw_message["annotations"] == []

    streamed = body | {"stream": True, "stream_options": {"include_usage": True}}
    choices = [c for chunk in client.chat.completions.create(**streamed) for c in chunk.choices]
    assert len(choices) > 2
    assert all("logprobs" in c.to_dict() and c.logprobs is None for c in choices)
    raw_choices = []
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json=streamed, timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                raw_choices += json.loads(line[6:])["choices"]
    assert len(raw_choices) == len(choices)
    assert all("logprobs" in c and c["logprobs"] is None for c in raw_choices)
    assert fake_openai.requests == []


def test_a_local_answer_in_the_openai_dialect_has_openais_fingerprint_tier_and_usage_details(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # No `system_fingerprint`, no `service_tier`, and a usage without the breakdowns that
    # Continue, Cline, the AI SDK and LiteLLM read (`prompt_tokens_details.cached_tokens`,
    # `completion_tokens_details.reasoning_tokens`): OpenAI sends all of them, and streamed,
    # `"usage": null` on every chunk but the last when the usage is asked for.
    proxy = start_proxy(proxy_env)
    client = _openai(proxy)
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    whole = client.chat.completions.create(**body)
    fingerprint = whole.system_fingerprint
    assert fingerprint is not None and re.fullmatch(r"fp_[0-9a-f]{10}", fingerprint)
    assert whole.service_tier == "default"
    assert whole.usage is not None and whole.usage.prompt_tokens > 0
    details = whole.usage.prompt_tokens_details
    assert details is not None and details.cached_tokens == 0
    completion = whole.usage.completion_tokens_details
    assert completion is not None and completion.reasoning_tokens == 0

    streamed = body | {"stream": True, "stream_options": {"include_usage": True}}
    chunks: list[dict[str, Any]] = []
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json=streamed, timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line[6:]))
    assert len(chunks) > 2
    assert {c["system_fingerprint"] for c in chunks} == {fingerprint}
    assert {c["service_tier"] for c in chunks} == {"default"}
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]["usage"]
    assert last["prompt_tokens_details"]["cached_tokens"] == 0
    assert last["completion_tokens_details"]["reasoning_tokens"] == 0
    assert fake_openai.requests == []


def test_a_local_openai_compatible_servers_cached_and_reasoning_tokens_reach_the_client(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # A local server that reports them (vLLM, llama.cpp): the client was told 0 of neither.
    figures = {
        "prompt_tokens_details": {"cached_tokens": 7},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    fake_openai.reply = {"content": "a local answer", "usage": figures}
    local = {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
    proxy = start_proxy(proxy_env | local)
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    usage = _openai(proxy).chat.completions.create(**body).usage
    assert usage is not None
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 7
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 3
    assert [r.path for r in fake_openai.requests_to("/v1/chat/completions")]  # answered locally


def test_a_local_tool_call_in_the_anthropic_dialect_has_a_toolu_id_even_if_ollama_named_one(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = {
        "content": "",
        "tool_calls": [{"id": "call_ollama1", "name": "read_file", "arguments": {"path": "a"}}],
    }
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = _anthropic(proxy)
    args: dict[str, Any] = {
        "model": "claude-haiku-5-5",
        "max_tokens": 100,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": SIMPLE}],
    }
    message = client.messages.create(**args)
    with client.messages.stream(**args) as stream:
        streamed = stream.get_final_message()
    blocks = [*message.content, *streamed.content]
    ids = [b.id for b in blocks if isinstance(b, anthropic.types.ToolUseBlock)]
    assert len(ids) == 2 and all(i.startswith("toolu_") for i in ids)


def test_an_openai_tool_result_sent_back_pairs_with_its_call_at_ollama(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # The id the client got from a local answer comes back on the tool message; Ollama pairs
    # a result with its call by the tool's name.
    fake_ollama.reply = TWO_CALLS
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = _openai(proxy)
    messages: list[Any] = [{"role": "user", "content": SIMPLE}]
    first = client.chat.completions.create(
        model="gpt-4o", tools=cast(Any, OPENAI_TOOLS), messages=messages
    )
    message = first.choices[0].message
    calls = message.tool_calls or []
    messages.append(message.model_dump(exclude_none=True))
    messages += [
        {"role": "tool", "tool_call_id": c.id, "content": f"text of {i}"}
        for i, c in enumerate(calls)
    ]
    fake_ollama.reply = {"content": "done"}
    second = client.chat.completions.create(
        model="gpt-4o", tools=cast(Any, OPENAI_TOOLS), messages=messages
    )
    assert second.choices[0].message.content == "done"
    sent = fake_ollama.requests_to("/api/chat")[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert [c["function"]["arguments"] for c in sent[1]["tool_calls"]] == [
        {"path": "a.py"},
        {"path": "b.py"},
    ]
    assert [(m["tool_name"], m["content"]) for m in sent[2:]] == [
        ("read_file", "text of 0"),
        ("read_file", "text of 1"),
    ]
