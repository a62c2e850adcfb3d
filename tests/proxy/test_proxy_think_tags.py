"""A local model's thinking inline in its answer's text, as a `<think>…</think>` block at its
start (a model whose template the server does not parse; llama.cpp with `--reasoning-format
none`), streamed in pieces that cut the tags anywhere: split out as thinking in the client's
dialect (Anthropic `thinking` blocks, OpenAI `reasoning`), dropped when not asked for, counted
either way, as the router's backends read a whole answer (`split_think_tag`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import SIMPLE, chat_body, messages_body, post, sse_events
from tests.proxy.recorded import last_row
from tests.proxy.thinking import (
    ADAPTIVE,
    THOUGHT,
    openai_local,
    openai_reasoning,
    sdk_message_with_thinking,
)

ANSWER = "No: 221 = 13 x 17."
INLINE = f"<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"


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
    message = sdk_message_with_thinking(proxy, SIMPLE, stream)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].type == "thinking" and message.content[0].thinking == THOUGHT
    assert message.content[1].type == "text" and message.content[1].text == ANSWER
    details = message.usage.output_tokens_details
    assert details is not None and 0 < details.thinking_tokens < message.usage.output_tokens
    assert proxy.call(last_row)["answered_tier"] == "local"


def test_a_think_block_cut_across_chunks_reaches_an_openai_client_as_reasoning(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = {"content": INLINE}
    fake_openai.piece_chars = 2
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    body = chat_body(text=SIMPLE) | {
        "reasoning_effort": "low",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    answered = post(proxy, "/v1/chat/completions", body)
    assert answered.status_code == 200, answered.text
    reasoning, text, usage = openai_reasoning(answered, stream=True)
    assert (reasoning, text) == (THOUGHT, ANSWER)
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]


def test_a_think_block_not_asked_for_is_taken_out_of_the_answer_and_counted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = INLINE
    fake_ollama.piece_chars = 4
    proxy = start_proxy(proxy_env)
    answered = post(proxy, "/v1/messages", messages_body(text=SIMPLE) | {"stream": True})
    assert answered.status_code == 200, answered.text
    events = [json.loads(data) for _, data in sse_events(answered.text)]
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
    body = chat_body(text=SIMPLE) | {"reasoning_effort": "low", "stream": True}
    reasoning, text, _ = openai_reasoning(post(proxy, "/v1/chat/completions", body), stream=True)
    assert text == content
    assert not reasoning


def test_an_answer_that_is_only_a_think_block_escalates(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = {"content": f"<think>{THOUGHT}</think>", "done_reason": "length"}
    fake_ollama.piece_chars = 3
    proxy = start_proxy(proxy_env)
    body = messages_body(text=SIMPLE) | {"thinking": ADAPTIVE, "stream": True}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    row = proxy.call(last_row)
    assert row["answered_tier"] != "local"
    assert [a["outcome"] for a in row["attempts"] if a["tier"] == "local"] == ["empty"]
