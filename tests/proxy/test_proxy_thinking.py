"""A local model's thinking (Ollama's `message.thinking`, its /v1's `delta.reasoning`): relayed
in the client's dialect when the client asked for it (Anthropic `thinking` blocks, OpenAI
`reasoning`), dropped otherwise, counted in the usage either way."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import openai
import pytest

from ocp_server.proxy.anthropic import LOCAL_SIGNATURE
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    HARD,
    SIMPLE,
    chat_body,
    messages_body,
    post,
    sse_events,
)
from tests.proxy.recorded import last_row
from tests.proxy.thinking import ADAPTIVE, openai_reasoning, sdk_message_with_thinking

# A thinking block as the local model's answer carried it, and one the API signed.
LOCAL_BLOCK = {"type": "thinking", "thinking": "local", "signature": LOCAL_SIGNATURE}
OWN_BLOCK = {"type": "thinking", "thinking": "earlier", "signature": "EqQBCkYIBxgCKkB"}
TEXT_BLOCK = {"type": "text", "text": "an answer"}


def _local(proxy_env: dict[str, str], ollama: FakeOllama) -> dict[str, str]:
    return proxy_env | {"OCP_OLLAMA_URL": ollama.url}


@pytest.mark.parametrize("stream", [False, True])
def test_an_anthropic_client_that_asks_for_thinking_gets_the_local_models_thinking_block(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
    stream: bool,
) -> None:
    proxy = start_proxy(_local(proxy_env, thinking_ollama))
    message = sdk_message_with_thinking(proxy, SIMPLE, stream)
    assert [b.type for b in message.content] == ["thinking", "text"]
    thought = message.content[0]
    assert thought.type == "thinking" and thought.thinking == f"thinking about: {SIMPLE}"
    assert thought.signature == LOCAL_SIGNATURE
    assert message.content[1].type == "text" and message.content[1].text.startswith("local answer")
    details = message.usage.output_tokens_details
    assert details is not None and 0 < details.thinking_tokens < message.usage.output_tokens
    assert thinking_ollama.requests_to("/api/chat")[0].body["think"] is True
    assert proxy.call(last_row)["answered_tier"] == "local"


def test_a_streamed_thinking_block_is_signed_just_before_it_stops(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
) -> None:
    # As the API streams it: the block starts empty, thinking_delta pieces, a signature_delta,
    # content_block_stop, then the text block at the next index.
    proxy = start_proxy(_local(proxy_env, thinking_ollama))
    answered = post(
        proxy, "/v1/messages", messages_body(text=SIMPLE, stream=True, thinking=ADAPTIVE)
    )
    events = [(name, json.loads(data)) for name, data in sse_events(answered.text)]
    blocks = [
        (d["index"], d.get("content_block", d.get("delta", {})).get("type", name))
        for name, d in events
        if name and name.startswith("content_block")
    ]
    assert blocks[0] == (0, "thinking")
    thinking = [kind for index, kind in blocks if index == 0]
    assert set(thinking[1:-2]) == {"thinking_delta"}
    assert thinking[-2:] == ["signature_delta", "content_block_stop"]
    assert blocks[len(thinking)] == (1, "text")


def test_thinking_the_client_did_not_ask_for_is_dropped_but_counted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # A thinking model may think though not asked (`think` left out): the client, which did
    # not ask, gets the answer alone; the output tokens still count the thinking.
    def line(message: dict[str, str], **more: object) -> bytes:
        obj = {"model": "llama3.2", "created_at": "2026-05-01T10:00:00Z", "message": message}
        return (json.dumps(obj | {"done": False} | more) + "\n").encode()

    lines = (
        line({"role": "assistant", "content": "", "thinking": "221 = 13 * 17"}),
        line({"role": "assistant", "content": "No."}),
        line({"role": "assistant", "content": ""}, done=True, done_reason="stop",
             prompt_eval_count=9, eval_count=12),
    )  # fmt: skip
    fake_ollama.raw_stream_next(lines, "application/x-ndjson", path="/api/chat")
    proxy = start_proxy(proxy_env)
    message = post(proxy, "/v1/messages", messages_body(text=SIMPLE)).json()
    assert message["content"] == [{"type": "text", "text": "No."}]
    assert message["usage"]["output_tokens"] == 12
    assert "think" not in fake_ollama.requests_to("/api/chat")[0].body


def test_a_model_that_cannot_think_is_asked_again_without_think(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # Ollama answers `think` for a model without the capability with a 400: that is no
    # reason to pay for the answer. Asked again without it, and not asked with it again.
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for _ in range(2):
            body = messages_body(text=SIMPLE, thinking=ADAPTIVE)
            answered = http.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
            assert answered.json()["content"][0]["text"].startswith("local answer")
    thinks = [r.body.get("think") for r in fake_ollama.requests_to("/api/chat")]
    assert thinks == [True, None, None]
    assert proxy.call(last_row)["answered_tier"] == "local"


def test_an_answer_that_is_all_thinking_is_empty_and_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
) -> None:
    thinking_ollama.reply = {"content": "", "thinking": "hmm"}
    proxy = start_proxy(_local(proxy_env, thinking_ollama) | {"ANTHROPIC_API_KEY": "sk-ant-t"})
    answered = post(
        proxy, "/v1/messages", messages_body(text=SIMPLE, stream=True, thinking=ADAPTIVE)
    )
    assert answered.status_code == 200 and "hmm" not in answered.text
    row = proxy.call(last_row)
    assert [a["outcome"] for a in row["attempts"]] == ["empty", "ok"]
    assert row["answered_tier"] != "local"


@pytest.mark.parametrize("stream", [False, True])
def test_an_openai_client_that_asks_for_reasoning_gets_it_and_its_token_count(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
    stream: bool,
) -> None:
    proxy = start_proxy(_local(proxy_env, thinking_ollama))
    body = chat_body(SIMPLE, stream=stream, reasoning_effort="low")
    if stream:
        body["stream_options"] = {"include_usage": True}
    reasoning, text, usage = openai_reasoning(post(proxy, "/v1/chat/completions", body), stream)
    assert reasoning == f"thinking about: {SIMPLE}" and text.startswith("local answer")
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-openai", max_retries=0)
    with client:  # the SDK reads the answer (the field is one it does not know)
        done = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": SIMPLE}], reasoning_effort="low"
        )
    assert done.choices[0].message.content and done.choices[0].message.content.startswith("local")


def test_a_local_thinking_block_is_taken_out_before_the_conversation_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # The API verifies a thinking block's signature and refuses one it did not make (400
    # "Invalid `signature` in `thinking` block"): a conversation that had a local answer with
    # thinking would fail every paid turn after. The provider's own blocks pass as they are.
    messages = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": [OWN_BLOCK, TEXT_BLOCK]},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": [LOCAL_BLOCK, TEXT_BLOCK]},
        {"role": "user", "content": HARD},
    ]
    proxy = start_proxy(proxy_env)
    answered = post(
        proxy, "/v1/messages", messages_body(thinking=ADAPTIVE) | {"messages": messages}
    )
    assert answered.status_code == 200, answered.text
    sent = fake_anthropic.requests_to("/v1/messages")[0].body["messages"]
    assert sent[1]["content"] == [OWN_BLOCK, TEXT_BLOCK]
    assert sent[3]["content"] == [TEXT_BLOCK]


def test_a_local_thinking_block_is_taken_out_before_its_tokens_are_counted_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    messages = [
        {"role": "user", "content": "a question"},
        {"role": "assistant", "content": [LOCAL_BLOCK, TEXT_BLOCK]},
        {"role": "user", "content": "another"},
    ]
    proxy = start_proxy(proxy_env)
    body = {"model": "claude-opus-5-5", "messages": messages}
    counted = post(proxy, "/v1/messages/count_tokens", body)
    assert counted.status_code == 200, counted.text
    sent = fake_anthropic.requests_to("/v1/messages/count_tokens")[0].body["messages"]
    assert sent[1]["content"] == [TEXT_BLOCK]


def test_a_local_answer_that_was_only_thinking_leaves_no_empty_message_to_go_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # A local answer whose text began with the client's stop sequence is its thinking alone;
    # taken out, the assistant turn would be empty, which the API refuses (400 "all messages
    # must have non-empty content except for the optional final assistant message").
    messages = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": [LOCAL_BLOCK]},
        {"role": "user", "content": HARD},
    ]
    proxy = start_proxy(proxy_env)
    answered = post(
        proxy, "/v1/messages", messages_body(thinking=ADAPTIVE) | {"messages": messages}
    )
    assert answered.status_code == 200, answered.text
    sent = fake_anthropic.requests_to("/v1/messages")[0].body["messages"]
    assert sent == [messages[0], messages[2]]


def _local_tool_step(model: str, thinking: dict[str, str] | None = None) -> dict[str, object]:
    """A conversation whose last step the local model took (its thinking, taken out before a
    paid call, and a tool call), closed by the tool's result."""
    call = {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.py"}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "print('a')"}
    tool = {"name": "read_file", "input_schema": {"type": "object"}}
    extra = {"thinking": thinking} if thinking else {}
    return (
        messages_body(model)
        | extra
        | {
            "tools": [tool],
            "messages": [
                {"role": "user", "content": HARD},
                {"role": "assistant", "content": [LOCAL_BLOCK, call]},
                {"role": "user", "content": [result]},
            ],
        }
    )


@pytest.mark.parametrize("thinking", [ADAPTIVE, None])
def test_a_paid_step_after_a_local_tool_call_goes_with_thinking_off_and_says_why(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    thinking: dict[str, str] | None,
) -> None:
    # With thinking on (asked for, or Sonnet 5's default) the API requires the assistant
    # message before the tool results to start with a thinking block, and refuses the call
    # otherwise (400 "a final `assistant` message must start with a thinking block"); the
    # local step has none the API would take. Turning thinking off is its documented way out.
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": "http://127.0.0.1:9"})
    answered = post(proxy, "/v1/messages", _local_tool_step("claude-sonnet-5-5", thinking))
    assert answered.status_code == 200, answered.text
    sent = fake_anthropic.requests_to("/v1/messages")[0].body
    assert sent["thinking"] == {"type": "disabled"}
    assert [b["type"] for b in sent["messages"][1]["content"]] == ["tool_use"]
    row = proxy.call(last_row)
    assert "thinking turned off" in json.dumps(row["notes"])


def test_a_paid_step_after_a_signed_tool_call_keeps_thinking_on(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    body = _local_tool_step("claude-sonnet-5-5", thinking=ADAPTIVE)
    body["messages"][1]["content"][0] = OWN_BLOCK  # type: ignore[index]
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": "http://127.0.0.1:9"})
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    assert fake_anthropic.requests_to("/v1/messages")[0].body["thinking"] == ADAPTIVE


def test_a_tool_loop_stays_local_when_the_paid_model_cannot_turn_thinking_off(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # Opus 5.5 cannot turn thinking off (reference A8): its paid step would be refused either
    # way, so the local model, which took the loop's last step, takes this one too.
    proxy = start_proxy(proxy_env | {"OCP_PAID_MODEL": "claude-opus-5-5"})
    answered = post(proxy, "/v1/messages", _local_tool_step("claude-opus-5-5", thinking=ADAPTIVE))
    assert answered.status_code == 200, answered.text
    assert not fake_anthropic.requests_to("/v1/messages")
    assert "tool loop kept local" in json.dumps(proxy.call(last_row)["notes"])


def test_a_local_answers_reasoning_resent_by_an_openai_client_is_taken_out_before_going_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # A local answer's thinking comes in the message's `reasoning` (Ollama's field); a client
    # that resends the message whole sends it along, and OpenAI refuses unknown fields.
    env = proxy_env | {"OCP_PAID_BACKEND": "openai", "OCP_PAID_MODEL": "gpt-4o"}
    env |= {"OCP_OLLAMA_URL": "http://127.0.0.1:9"}
    proxy = start_proxy(env)
    said = {"role": "assistant", "content": "an answer", "reasoning": "local thoughts"}
    body = chat_body() | {
        "messages": [
            {"role": "user", "content": "first question"},
            said,
            {"role": "user", "content": HARD},
        ]
    }
    answered = post(proxy, "/v1/chat/completions", body)
    assert answered.status_code == 200, answered.text
    sent = fake_openai.requests_to("/v1/chat/completions")[0].body["messages"]
    assert sent[1] == {"role": "assistant", "content": "an answer"}
