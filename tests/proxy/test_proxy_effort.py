"""The thinking a client asks of a local model apart from whether it sees it: an effort
without thinking turned on (Anthropic's `output_config.effort` alone) sent as the local
server's level, thinking asked off (OpenAI's `reasoning_effort: "none"`, Anthropic's
`thinking: disabled`) sent as its documented off (Ollama's `think: false`, an OpenAI-compatible
server's `reasoning_effort: "none"`), and an effort that cannot be sent said in the trace."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, SIMPLE, chat_body, messages_body, post
from tests.proxy.recorded import all_written, last_row
from tests.proxy.thinking import openai_local

DISABLED = {"type": "disabled"}


def _sent_think(fake: FakeOllama) -> Any:
    return fake.requests_to("/api/chat")[-1].body.get("think", "(absent)")


def test_an_anthropic_effort_without_thinking_is_sent_as_ollamas_level_and_not_shown(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": thinking_ollama.url})
    body = messages_body(text=SIMPLE) | {"output_config": {"effort": "low"}}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    assert _sent_think(thinking_ollama) == "low"
    # thinking not asked to be seen: dropped, still counted
    assert [b["type"] for b in answered.json()["content"]] == ["text"]
    assert answered.json()["usage"]["output_tokens_details"]["thinking_tokens"] > 0


def test_an_anthropic_effort_without_thinking_reaches_an_openai_compatible_server(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    body = messages_body(text=SIMPLE) | {"output_config": {"effort": "max"}}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    assert fake_openai.requests_to("/v1/chat/completions")[0].body["reasoning_effort"] == "max"


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"}}, True),
        ({"thinking": DISABLED}, False),
    ],
)
def test_anthropic_thinking_on_but_hidden_or_off_is_sent_to_ollama_as_asked(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
    asked: dict[str, Any],
    sent: bool,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": thinking_ollama.url})
    answered = post(proxy, "/v1/messages", messages_body(text=SIMPLE) | asked)
    assert answered.status_code == 200, answered.text
    assert _sent_think(thinking_ollama) is sent
    assert [b["type"] for b in answered.json()["content"]] == ["text"]


def test_an_openai_clients_none_effort_turns_ollamas_thinking_off(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
) -> None:
    # A thinking model thinks when `think` is absent (Ollama's default for it): "none" says off.
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": thinking_ollama.url})
    body = chat_body(text=SIMPLE) | {"reasoning_effort": "none"}
    answered = post(proxy, "/v1/chat/completions", body)
    assert answered.status_code == 200, answered.text
    assert _sent_think(thinking_ollama) is False
    assert "reasoning" not in answered.json()["choices"][0]["message"]


def test_an_openai_clients_none_effort_reaches_an_openai_compatible_server(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    body = chat_body(text=SIMPLE) | {"reasoning": {"effort": "none"}}
    answered = post(proxy, "/v1/chat/completions", body)
    assert answered.status_code == 200, answered.text
    assert fake_openai.requests_to("/v1/chat/completions")[0].body["reasoning_effort"] == "none"


def test_a_model_that_cannot_think_is_still_told_not_to(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # Ollama refuses `think` only when it asks for thinking (true or a level), not false.
    proxy = start_proxy(proxy_env)
    body = chat_body(text=SIMPLE) | {"reasoning_effort": "none"}
    answered = post(proxy, "/v1/chat/completions", body)
    assert answered.status_code == 200, answered.text
    assert [r.body.get("think") for r in fake_ollama.requests_to("/api/chat")] == [False]


def test_an_effort_with_thinking_disabled_is_not_sent_and_the_trace_says_why(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": thinking_ollama.url})
    body = messages_body(text=SIMPLE) | {"thinking": DISABLED, "output_config": {"effort": "high"}}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    assert _sent_think(thinking_ollama) is False
    notes = " ".join(proxy.call(last_row)["notes"])
    assert "output_config.effort 'high' not sent" in notes and "disabled" in notes, notes


def test_the_effort_a_proxied_request_asked_is_stored_in_its_traces_column(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], tmp_path: Path
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_CLASSIFIER_MODEL": "none"})
    anthropic_body = messages_body(text=SIMPLE) | {"output_config": {"effort": "low"}}
    openai_body = chat_body(text=SIMPLE) | {"reasoning_effort": "medium"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for path, body, headers in [
            ("/v1/messages", anthropic_body, ANTHROPIC_HEADERS),
            ("/v1/chat/completions", openai_body, {}),
            ("/v1/messages", messages_body(text=SIMPLE), ANTHROPIC_HEADERS),
        ]:
            answered = http.post(path, json=body, headers=headers)
            assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    with sqlite3.connect(tmp_path / "ocp.db") as db:
        stored = db.execute("SELECT effort FROM traces ORDER BY created_at").fetchall()
    assert [e for (e,) in stored] == ["low", "medium", None]  # m049's column
