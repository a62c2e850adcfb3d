"""Sampling fields out of their API's range (`temperature`, `top_p`, the stop sequences, the
thinking asked for: Anthropic's `thinking`, OpenAI's `reasoning_effort`) are
a 400 in the client's dialect naming the field, as the provider answers them, before any
model is asked: not forwarded to be refused upstream (a paid round trip), not handed to a
local model that takes any value, and not a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, OPENAI_HEADERS, SIMPLE, whole_and_streamed

HUGE = 10**400  # a JSON integer no float holds

OPENAI_BAD = [
    ("temperature", 2.5, "Expected a value <= 2, but got 2.5 instead"),
    ("temperature", -0.1, "Expected a value >= 0, but got -0.1 instead"),
    ("temperature", "hot", "expected a decimal, but got a string instead"),
    ("temperature", True, "expected a decimal, but got a boolean instead"),
    ("temperature", HUGE, "Expected a value <= 2"),
    ("top_p", 1.5, "Expected a value <= 1, but got 1.5 instead"),
    ("top_p", -1, "Expected a value >= 0, but got -1 instead"),
    ("top_p", [1], "expected a decimal, but got an array instead"),
    ("stop", ["a", "b", "c", "d", "e"], "maximum length 4, but got an array with length 5"),
    ("stop", 5, "expected one of a string or array of strings, but got an integer instead"),
    ("stop", {"s": "x"}, "but got an object instead"),
    ("stop", ["END", 3], "Invalid type for 'stop[1]': expected a string"),
    ("reasoning_effort", "bogus", "expected one of 'none', 'minimal', 'low', 'medium', 'high'"),
    ("reasoning_effort", 3, "'xhigh' or 'max', but got an integer instead"),
]

ANTHROPIC_BAD = [
    ("temperature", 1.5, "temperature: range: 0..1"),
    ("temperature", -1, "temperature: range: 0..1"),
    ("temperature", "warm", "temperature: Input should be a valid number"),
    ("temperature", HUGE, "temperature: range: 0..1"),
    ("top_p", 1.2, "top_p: range: 0..1"),
    ("top_p", None, "top_p: Input should be a valid number"),
    ("stop_sequences", "END", "stop_sequences: Input should be a valid list"),
    ("stop_sequences", ["END", 3], "stop_sequences.1: Input should be a valid string"),
    ("stop_sequences", [""], "stop_sequences: each stop sequence must be non-empty"),
    ("stop_sequences", [" \n"], "stop_sequences: each stop sequence must contain non-whitespace"),
    ("thinking", "yes", "thinking: Input should be an object"),
    ("thinking", {"type": "on"}, "thinking.type: Input should be 'enabled', 'disabled'"),
    ("thinking", {"type": "enabled"}, "thinking.enabled.budget_tokens: Field required"),
    (
        "thinking",
        {"type": "enabled", "budget_tokens": 512},
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
    ),
    (
        "thinking",
        {"type": "enabled", "budget_tokens": "2k"},
        "thinking.enabled.budget_tokens: Input should be a valid integer",
    ),
    (
        "thinking",
        {"type": "adaptive", "display": "full"},
        "thinking.adaptive.display: Input should be 'summarized' or 'omitted'",
    ),
]


def _asked_nobody(ollama: FakeOllama, anthropic: FakeAnthropic, openai: FakeOpenAI) -> None:
    assert not ollama.requests_to("/api/chat")
    assert not anthropic.message_requests()
    assert not openai.requests_to("/v1/chat/completions")


def _body(model: str, text: str, field: str, value: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 50,
        "messages": [{"role": "user", "content": text}],
        field: value,
    }


@pytest.mark.parametrize("text", [SIMPLE, HARD], ids=["local", "paid"])
@pytest.mark.parametrize(("field", "value", "words"), OPENAI_BAD)
def test_an_openai_sampling_field_out_of_range_is_the_apis_400(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    text: str,
    field: str,
    value: Any,
    words: str,
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    body = _body("gpt-4o", text, field, value)
    for response in whole_and_streamed(proxy, "/v1/chat/completions", OPENAI_HEADERS, body):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] in (field, "stop[1]")
        assert words in error["message"], error["message"]
        assert f"'{field}" in error["message"]
    _asked_nobody(fake_ollama, fake_anthropic, fake_openai)


@pytest.mark.parametrize("text", [SIMPLE, HARD], ids=["local", "paid"])
@pytest.mark.parametrize(("field", "value", "words"), ANTHROPIC_BAD)
def test_an_anthropic_sampling_field_out_of_range_is_the_apis_400(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    text: str,
    field: str,
    value: Any,
    words: str,
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    body = _body("claude-opus-5-5", text, field, value)
    for response in whole_and_streamed(proxy, "/v1/messages", ANTHROPIC_HEADERS, body):
        assert response.status_code == 400, response.text
        assert response.json() == {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": response.json()["error"]["message"],
            },
        }
        assert words in response.json()["error"]["message"]
    _asked_nobody(fake_ollama, fake_anthropic, fake_openai)


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        (
            "/v1/chat/completions",
            OPENAI_HEADERS,
            _body("gpt-4o", SIMPLE, "stop", ["a", "b", "c", "d"]) | {"temperature": 2, "top_p": 0},
        ),
        ("/v1/chat/completions", OPENAI_HEADERS, _body("gpt-4o", SIMPLE, "stop", None)),
        (
            "/v1/chat/completions",
            OPENAI_HEADERS,
            _body("gpt-4o", SIMPLE, "reasoning_effort", "none"),
        ),
        (
            "/v1/messages",
            ANTHROPIC_HEADERS,
            _body(
                "claude-opus-5-5", SIMPLE, "thinking", {"type": "enabled", "budget_tokens": 1024}
            ),
        ),
        (
            "/v1/messages",
            ANTHROPIC_HEADERS,
            _body("claude-opus-5-5", SIMPLE, "thinking", {"type": "between_tools"}),
        ),
        (
            "/v1/messages",
            ANTHROPIC_HEADERS,
            _body("claude-opus-5-5", SIMPLE, "stop_sequences", [" END"])
            | {"temperature": 1, "top_p": 1.0},
        ),
    ],
    ids=[
        "openai-edges",
        "openai-null-stop",
        "openai-no-reasoning",
        "anthropic-least-thinking-budget",
        "anthropic-thinking-between-tools",
        "anthropic-edges",
    ],
)
def test_sampling_fields_at_their_limits_are_answered(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    headers: dict[str, str],
    body: dict[str, Any],
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["x-ocp-served-model"] == "llama3.2"  # the local model's
