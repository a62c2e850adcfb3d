"""A local OpenAI-compatible server's thinking (llama.cpp's and vLLM's `reasoning_content`),
the thinking effort a client asks of a local model (OpenAI's `reasoning_effort`, Ollama's
`reasoning.effort`, Anthropic's `output_config.effort`) sent as the local server's level, and
whose tool step a paid call without a thinking block continues."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ocp_server.proxy.chat import wire_id
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    HARD,
    OPENAI_HEADERS,
    SIMPLE,
    chat_body,
    messages_body,
    post,
)
from tests.proxy.recorded import last_row, recorded_rows
from tests.proxy.thinking import (
    ADAPTIVE,
    THOUGHT,
    openai_local,
    openai_reasoning,
    sdk_message_with_thinking,
)


# ---- reasoning_content ----------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_a_local_servers_reasoning_content_reaches_an_anthropic_client_as_a_thinking_block(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    stream: bool,
) -> None:
    fake_openai.reply = {"reasoning_content": THOUGHT, "content": "No."}
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    message = sdk_message_with_thinking(proxy, SIMPLE, stream)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].type == "thinking" and message.content[0].thinking == THOUGHT
    assert message.content[1].type == "text" and message.content[1].text == "No."
    details = message.usage.output_tokens_details
    assert details is not None and 0 < details.thinking_tokens <= message.usage.output_tokens
    assert proxy.call(last_row)["answered_tier"] == "local"


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_servers_reasoning_content_reaches_an_openai_client_as_reasoning(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    stream: bool,
) -> None:
    fake_openai.reply = {"reasoning_content": THOUGHT, "content": "No."}
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    body = chat_body(text=SIMPLE) | {"reasoning_effort": "low", "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    answered = post(proxy, "/v1/chat/completions", body)
    assert answered.status_code == 200, answered.text
    reasoning, text, usage = openai_reasoning(answered, stream)
    assert (reasoning, text) == (THOUGHT, "No.")
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] <= usage["completion_tokens"]


def test_reasoning_content_not_asked_for_is_dropped_but_counted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # llama.cpp with --reasoning-format sends a thinking model's thinking whether or not asked
    fake_openai.reply = {"reasoning_content": THOUGHT, "content": "No."}
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    message = post(proxy, "/v1/messages", messages_body(text=SIMPLE)).json()
    assert message["content"] == [{"type": "text", "text": "No."}]
    assert message["usage"]["output_tokens_details"]["thinking_tokens"] > 0
    assert "reasoning_effort" not in fake_openai.requests_to("/v1/chat/completions")[0].body


def test_an_answer_that_is_all_reasoning_content_escalates(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # A model that spent its tokens thinking gave no answer: the paid tier gives one.
    fake_openai.reply = {"reasoning_content": THOUGHT, "content": ""}
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    answered = post(proxy, "/v1/messages", messages_body(text=SIMPLE) | {"thinking": ADAPTIVE})
    assert answered.status_code == 200, answered.text
    row = proxy.call(last_row)
    assert row["answered_tier"] != "local" and row["attempts"][0]["tier"] == "local"


# ---- the effort asked for ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("asked", "level"),
    [
        ({"reasoning_effort": "high"}, "high"),
        ({"reasoning_effort": "minimal"}, "low"),
        ({"reasoning_effort": "xhigh"}, "high"),
        ({"reasoning": {"effort": "max"}}, "max"),
    ],
)
def test_an_openai_clients_effort_is_sent_to_ollama_as_its_think_level(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
    asked: dict[str, Any],
    level: str,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": thinking_ollama.url})
    answered = post(proxy, "/v1/chat/completions", chat_body(text=SIMPLE) | asked)
    assert answered.status_code == 200, answered.text
    assert answered.json()["choices"][0]["message"]["reasoning"].startswith("thinking about")
    assert thinking_ollama.requests_to("/api/chat")[0].body["think"] == level


def test_an_anthropic_clients_effort_is_sent_to_ollama_as_its_think_level(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    thinking_ollama: FakeOllama,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": thinking_ollama.url})
    body = messages_body(text=SIMPLE) | {"thinking": ADAPTIVE, "output_config": {"effort": "low"}}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    assert [b["type"] for b in answered.json()["content"]] == ["thinking", "text"]
    assert thinking_ollama.requests_to("/api/chat")[0].body["think"] == "low"


def test_an_effort_is_sent_to_an_openai_compatible_local_server_as_reasoning_effort(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    body = messages_body(text=SIMPLE) | {"thinking": ADAPTIVE, "output_config": {"effort": "xhigh"}}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 200, answered.text
    assert fake_openai.requests_to("/v1/chat/completions")[0].body["reasoning_effort"] == "high"


def test_a_local_server_that_refuses_reasoning_effort_is_asked_again_without_it(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    refused = {
        "error": {
            "message": "Unrecognized request argument supplied: reasoning_effort",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    fake_openai.fail_next(400, refused, path="/v1/chat/completions")
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    body = chat_body(text=SIMPLE) | {"reasoning_effort": "medium"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for _ in range(2):
            answered = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
            assert answered.status_code == 200, answered.text
    sent = [r.body.get("reasoning_effort") for r in fake_openai.requests_to("/v1/chat/completions")]
    assert sent == ["medium", None, None]
    assert proxy.call(last_row)["answered_tier"] == "local"
    later, first = (row["notes"] for row in proxy.call(recorded_rows))
    assert any("refused reasoning_effort 'medium'" in note for note in first), first
    assert any("reasoning_effort 'medium' not sent" in note for note in later), later


def test_a_local_server_that_refuses_one_effort_is_still_sent_the_others(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # An older vLLM takes "low", "medium" and "high" alone: its "none" refused says nothing
    # of the levels it takes.
    fake_openai.efforts = ("low", "medium", "high")
    proxy = start_proxy(openai_local(proxy_env, fake_openai))
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for effort in ("none", "high"):
            body = chat_body(text=SIMPLE) | {"reasoning_effort": effort}
            answered = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
            assert answered.status_code == 200, answered.text
    sent = [r.body.get("reasoning_effort") for r in fake_openai.requests_to("/v1/chat/completions")]
    assert sent == ["none", None, "high"]


def test_an_ollama_too_old_for_think_levels_is_asked_again_with_think_true(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
) -> None:
    # Levels came with Ollama v0.11.1: an older server cannot decode one (a 400).
    with FakeOllama(capabilities=["completion", "thinking"], version="0.10.1") as old:
        proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": old.url})
        body = chat_body(text=SIMPLE) | {"reasoning_effort": "high"}
        with httpx.Client(base_url=proxy.url, timeout=20) as http:
            first = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
            second = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
        sent = [r.body["think"] for r in old.requests_to("/api/chat")]
    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["choices"][0]["message"]["reasoning"].startswith("thinking about")
    assert sent == ["high", True, True]  # asked once with the level, then no more
    assert proxy.call(last_row)["answered_tier"] == "local"


def test_an_ollama_that_refuses_max_is_still_sent_the_levels_it_knows(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
) -> None:
    # "max" came with Ollama v0.22.0, the other levels with v0.11.1.
    with FakeOllama(capabilities=["completion", "thinking"], version="0.21.0") as ollama:
        proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": ollama.url})
        with httpx.Client(base_url=proxy.url, timeout=20) as http:
            for effort in ("max", "high"):
                body = chat_body(text=SIMPLE) | {"reasoning": {"effort": effort}}
                answered = http.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
                assert answered.status_code == 200, answered.text
        sent = [r.body["think"] for r in ollama.requests_to("/api/chat")]
    assert sent == ["max", True, "high"]
    assert "refused think 'max'" in " ".join(proxy.call(recorded_rows)[1]["notes"])


@pytest.mark.parametrize(
    ("asked", "param"),
    [
        ({"reasoning": {"effort": "extreme"}}, "reasoning.effort"),
        ({"reasoning": {"effort": 3}}, "reasoning.effort"),
        ({"reasoning": "high"}, "reasoning"),
    ],
)
def test_an_openai_clients_bad_effort_is_a_400_naming_the_field(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    asked: dict[str, Any],
    param: str,
) -> None:
    proxy = start_proxy(proxy_env)
    answered = post(proxy, "/v1/chat/completions", chat_body(text=SIMPLE) | asked)
    assert answered.status_code == 400, answered.text
    error = answered.json()["error"]
    assert error["param"] == param and f"'{param}'" in error["message"]
    assert not fake_ollama.requests_to("/api/chat")


def test_an_anthropic_clients_bad_effort_is_a_400_naming_the_field(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    proxy = start_proxy(proxy_env)
    body = messages_body(text=SIMPLE) | {"thinking": ADAPTIVE, "output_config": {"effort": "huge"}}
    answered = post(proxy, "/v1/messages", body)
    assert answered.status_code == 400, answered.text
    message = answered.json()["error"]["message"]
    assert message.startswith("output_config.effort: Input should be 'low'"), message
    assert not fake_ollama.requests_to("/api/chat")


# ---- whose tool step --------------------------------------------------------------------------
def _tool_step(call_id: str) -> dict[str, object]:
    """A conversation whose last assistant step is a tool call without a thinking block,
    closed by the tool's result, with thinking on."""
    call = {"type": "tool_use", "id": call_id, "name": "read_file", "input": {"path": "a.py"}}
    result = {"type": "tool_result", "tool_use_id": call_id, "content": "print('a')"}
    return messages_body("claude-sonnet-5-5") | {
        "thinking": ADAPTIVE,
        "tools": [{"name": "read_file", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": HARD},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ],
    }


def test_a_paid_step_after_the_local_models_tool_call_says_the_step_was_the_local_models(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # The tool call as the local model made it, through the proxy; the loop then goes paid
    fake_ollama.reply = {"content": "", "tool_calls": [{"name": "read_file", "arguments": {}}]}
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    asked = messages_body(text=SIMPLE) | {
        "tools": [{"name": "read_file", "input_schema": {"type": "object"}}]
    }
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        made = http.post("/v1/messages", json=asked, headers=ANTHROPIC_HEADERS).json()
        call = next(b for b in made["content"] if b["type"] == "tool_use")
        fake_ollama.fail_next(500, times=5, path="/api/chat")  # should the step be tried local
        answered = http.post("/v1/messages", json=_tool_step(call["id"]), headers=ANTHROPIC_HEADERS)
    assert answered.status_code == 200, answered.text
    notes = json.dumps(proxy.call(last_row)["notes"])
    assert "thinking turned off" in notes and "the local model's" in notes, notes
    assert "the client resent" not in notes


def test_a_paid_step_whose_signed_thinking_block_the_client_left_out_says_the_client_did(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
) -> None:
    # A paid model's tool call (its id the API's), resent without the thinking block it came
    # with: the client dropped it; the local model had no part in the step.
    proxy = start_proxy(proxy_env | {"OCP_OLLAMA_URL": "http://127.0.0.1:9"})
    answered = post(proxy, "/v1/messages", _tool_step(wire_id("toolu_01", 22)))
    assert answered.status_code == 200, answered.text
    notes = json.dumps(proxy.call(last_row)["notes"])
    assert "the client resent the tool step" in notes, notes
    assert "local model" not in notes
