"""A thinking model behind an OpenAI-compatible server (llama.cpp, vLLM: `reasoning_content`;
Ollama's /v1: `reasoning`): its answer and its thinking come apart, the thinking counted."""

from __future__ import annotations

import pytest

from ocp_router import (
    BackendResponseError,
    GenerateRequest,
    OpenAIBackend,
)
from tests.fakes import FakeOpenAI
from tests.router.thinking import routed_by

THOUGHT = "221 is 13 times 17, so it is not prime; check 13 first since 11 fails"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_the_answer_and_the_thinking_come_apart_and_the_thinking_is_counted(
    fake_openai: FakeOpenAI, field: str
) -> None:
    fake_openai.reply = {"content": "No: 221 = 13 x 17.", field: THOUGHT}
    async with OpenAIBackend("qwen3", base_url=fake_openai.base_url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.text == "No: 221 = 13 x 17."
    assert response.thinking == THOUGHT
    # the fake reports 0 reasoning tokens (as Ollama's /v1 does): OCP's estimate, within the
    # output tokens the thinking is part of
    assert 0 < response.reasoning_tokens <= response.completion_tokens


async def test_the_servers_own_count_of_reasoning_tokens_is_taken(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = {
        "content": "No.",
        "reasoning_content": THOUGHT,
        "usage": {"completion_tokens_details": {"reasoning_tokens": 9}},
    }
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.reasoning_tokens == 9 and response.thinking == THOUGHT


async def test_vllm_sending_both_fields_with_the_same_thinking_is_read_once(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = {"content": "No.", "reasoning": THOUGHT, "reasoning_content": THOUGHT}
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.thinking == THOUGHT


async def test_thinking_that_is_not_text_is_a_response_error_naming_the_field(
    fake_openai: FakeOpenAI,
) -> None:
    message = {"role": "assistant", "content": "No.", "reasoning_content": ["13", "17"]}
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1780000000,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    fake_openai.fail_next(200, body=body)  # sent as it is: the fake itself writes strings
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        with pytest.raises(BackendResponseError, match=r"`message\.reasoning_content`"):
            await backend.generate(GenerateRequest(prompt="is 221 prime?"))


async def test_a_route_answered_locally_carries_the_thinking_apart(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = {"content": "Use a set.", "reasoning": THOUGHT}
    local = OpenAIBackend("qwen3", base_url=fake_openai.base_url)
    result = await routed_by(local)
    assert result.text == "Use a set." and result.thinking == THOUGHT
    assert 0 < result.reasoning_tokens <= result.completion_tokens


async def test_a_local_answer_that_is_only_thinking_is_empty_and_says_so(
    fake_openai: FakeOpenAI,
) -> None:
    # max_tokens ran out while the model was still thinking: no answer text at all
    fake_openai.reply = {"content": "", "reasoning_content": THOUGHT, "finish_reason": "length"}
    local = OpenAIBackend("qwen3", base_url=fake_openai.base_url)
    result = await routed_by(local)
    first = result.attempts[0]
    assert first.outcome == "empty" and result.text == "paid"
    assert first.error is not None and "only thinking" in first.error
    assert "stop reason length" in first.error
