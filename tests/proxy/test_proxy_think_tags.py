"""A local model's thinking inline in its answer's text, as a `<think>…</think>` block at its
start (a model whose template the server does not parse; llama.cpp with `--reasoning-format
none`), streamed in pieces that cut the tags anywhere: split out as thinking in the client's
dialect (Anthropic `thinking` blocks, OpenAI `reasoning`), dropped when not asked for, counted
either way, as the router's backends read a whole answer (`split_think_tag`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import anthropic
import httpx
import pytest

from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.test_proxy_faults import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    _chat,
    _last_row,
    _messages,
    _sse_events,
)
from tests.proxy.test_proxy_sdks import SIMPLE

ADAPTIVE = {"type": "adaptive"}
THOUGHT = "221 = 13 * 17, so it is not prime"
ANSWER = "No: 221 = 13 x 17."
INLINE = f"<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"


def _openai_local(proxy_env: dict[str, str], fake: FakeOpenAI) -> dict[str, str]:
    """A local llama.cpp: an OpenAI-compatible server."""
    return proxy_env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake.base_url}


@pytest.mark.parametrize("piece_chars", [1, 3, 5])
@pytest.mark.parametrize("stream", [False, True])
def test_a_think_block_cut_across_pieces_reaches_an_anthropic_client_as_a_thinking_block(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    stream: bool,
    piece_chars: int,
) -> None:
    # A model Ollama knows no thinking for (`think` refused, asked again without it) whose
    # text opens with the block, in pieces that cut `<think>` and `</think>` anywhere.
    fake_ollama.reply = INLINE
    fake_ollama.piece_chars = piece_chars
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    asked = {"model": "claude-opus-5-5", "max_tokens": 100, "thinking": ADAPTIVE}
    messages = [{"role": "user", "content": SIMPLE}]
    with client:
        if stream:
            with client.messages.stream(**asked, messages=messages) as events:  # type: ignore[arg-type]
                message = events.get_final_message()
        else:
            message = client.messages.create(**asked, messages=messages)  # type: ignore[call-overload]
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].type == "thinking" and message.content[0].thinking == THOUGHT
    assert message.content[1].type == "text" and message.content[1].text == ANSWER
    details = message.usage.output_tokens_details
    assert details is not None and 0 < details.thinking_tokens < message.usage.output_tokens
    assert proxy.call(_last_row)["answered_tier"] == "local"


def test_a_think_block_cut_across_chunks_reaches_an_openai_client_as_reasoning(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = {"content": INLINE}
    fake_openai.piece_chars = 2
    proxy = start_proxy(_openai_local(proxy_env, fake_openai))
    body = _chat(text=SIMPLE) | {
        "reasoning_effort": "low",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    assert answered.status_code == 200, answered.text
    chunks = [json.loads(data) for _, data in _sse_events(answered.text) if data != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    reasoning = "".join(d.get("reasoning") or "" for d in deltas)
    text = "".join(d.get("content") or "" for d in deltas)
    assert (reasoning, text) == (THOUGHT, ANSWER)
    usage = chunks[-1]["usage"]
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]


def test_a_think_block_not_asked_for_is_taken_out_of_the_answer_and_counted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = INLINE
    fake_ollama.piece_chars = 4
    proxy = start_proxy(proxy_env)
    body = _messages(text=SIMPLE) | {"stream": True}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
    assert answered.status_code == 200, answered.text
    events = [json.loads(data) for _, data in _sse_events(answered.text)]
    blocks = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert blocks == ["text"] and text == ANSWER
    usage = next(e["usage"] for e in events if e["type"] == "message_delta")
    assert usage["output_tokens_details"]["thinking_tokens"] > 0


@pytest.mark.parametrize(
    "content",
    [
        f"<think>{THOUGHT}",  # never closed (cut off by num_predict, or the answer itself)
        "Write <think>x</think> in the template.",  # not at the start: the answer's own
    ],
)
def test_text_without_a_leading_closed_think_block_streams_as_the_answer(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    content: str,
) -> None:
    fake_ollama.reply = content
    fake_ollama.piece_chars = 3
    proxy = start_proxy(proxy_env)
    body = _chat(text=SIMPLE) | {"reasoning_effort": "low", "stream": True}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    chunks = [json.loads(data) for _, data in _sse_events(answered.text) if data != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == content
    assert not any(d.get("reasoning") for d in deltas)


def test_an_answer_that_is_only_a_think_block_escalates(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = {"content": f"<think>{THOUGHT}</think>", "done_reason": "length"}
    fake_ollama.piece_chars = 3
    proxy = start_proxy(proxy_env)
    body = _messages(text=SIMPLE) | {"thinking": ADAPTIVE, "stream": True}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
    assert answered.status_code == 200, answered.text
    row = proxy.call(_last_row)
    assert row["answered_tier"] != "local"
    assert [a["outcome"] for a in row["attempts"] if a["tier"] == "local"] == ["empty"]
