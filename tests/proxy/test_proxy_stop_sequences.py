"""A local answer that reaches one of the client's stop sequences is, in the Anthropic
dialect, `stop_reason: "stop_sequence"` with `stop_sequence` naming the one that matched, as
the API says (anthropic-openai.md A4), streamed and not; the text ends before it. A local
server strips the sequence and says only "stop" (Ollama's done_reason, an OpenAI-compatible
server's finish_reason), so the proxy matches the sequences itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, OPENAI_HEADERS, SIMPLE

ANSWER = "The sum is four. The end of the answer, and then more words the client never sees."


def _env(backend: str, proxy_env: dict[str, str], fake_openai: FakeOpenAI) -> dict[str, str]:
    if backend == "ollama":
        return proxy_env
    return proxy_env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}


def _ask(stops: list[str]) -> dict[str, Any]:
    return {
        "model": "claude-opus-5-5",
        "max_tokens": 200,
        "stop_sequences": stops,
        "messages": [{"role": "user", "content": SIMPLE}],
    }


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def _streamed(events: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    (delta,) = [e for e in events if e["type"] == "message_delta"]
    return text, delta


@pytest.mark.parametrize("backend", ["ollama", "openai"])
@pytest.mark.parametrize(
    ("stops", "text", "matched"),
    [
        (["The end"], "The sum is four. ", "The end"),  # spans two streamed pieces
        (["never", "four."], "The sum is ", "four."),  # the first reached wins
        (["answer,", "The end of"], "The sum is four. ", "The end of"),
        (["The sum"], "", "The sum"),  # at once: an empty answer, not a failed one
    ],
    ids=["across-pieces", "first-reached", "ends-first", "at-once"],
)
def test_a_local_answer_stopped_by_a_stop_sequence_says_which(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    backend: str,
    stops: list[str],
    text: str,
    matched: str,
) -> None:
    fake_ollama.reply = fake_openai.reply = ANSWER
    proxy = start_proxy(_env(backend, proxy_env, fake_openai), store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post("/v1/messages", json=_ask(stops), headers=ANTHROPIC_HEADERS)
        assert response.status_code == 200, response.text
        message = response.json()
        assert message["model"] == "claude-opus-5-5"  # the model asked for
        assert response.headers["x-ocp-served-model"] == "llama3.2"
        assert message["content"] == [{"type": "text", "text": text}]
        assert not fake_anthropic.message_requests()  # not escalated
        assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", matched)
        assert message["usage"]["output_tokens"] > 0

        response = http.post(
            "/v1/messages", json=_ask(stops) | {"stream": True}, headers=ANTHROPIC_HEADERS
        )
        assert response.status_code == 200, response.text
        streamed, delta = _streamed(_events(response.text))
        assert streamed == text
        assert delta["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": matched}
        assert _events(response.text)[-1] == {"type": "message_stop"}


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_a_local_answer_that_reaches_no_stop_sequence_ends_its_turn(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    backend: str,
) -> None:
    fake_ollama.reply = fake_openai.reply = ANSWER
    proxy = start_proxy(_env(backend, proxy_env, fake_openai), store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        message = http.post("/v1/messages", json=_ask(["STOP"]), headers=ANTHROPIC_HEADERS).json()
        assert message["content"] == [{"type": "text", "text": ANSWER}]
        assert (message["stop_reason"], message["stop_sequence"]) == ("end_turn", None)
        response = http.post(
            "/v1/messages", json=_ask(["STOP"]) | {"stream": True}, headers=ANTHROPIC_HEADERS
        )
        streamed, delta = _streamed(_events(response.text))
        assert streamed == ANSWER
        assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_an_openai_client_stopped_by_its_stop_sequence_gets_stop(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # OpenAI's wire has no matched sequence: `finish_reason: "stop"`, the text before it.
    fake_ollama.reply = ANSWER
    proxy = start_proxy(proxy_env, store=False)
    body = {"model": "gpt-4o", "stop": "The end", "messages": [{"role": "user", "content": SIMPLE}]}
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        choice = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS).json()[
            "choices"
        ][0]
    assert choice["message"]["content"] == "The sum is four. "
    assert choice["finish_reason"] == "stop"
