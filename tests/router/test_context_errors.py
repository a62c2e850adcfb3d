"""A prompt over the model's context window is told by the provider's structured signal
(OpenAI `error.code`, llama.cpp's and Ollama's runner `error.type`, Anthropic's error type),
the wording only where the body carries none: each provider's real error body, through the
real client, ends as `BackendContextExceeded` with the fix, and a structured code that says
something else is not mistaken for it whatever its wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocp_router import GenerateRequest, OllamaBackend
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.errors import BackendContextExceeded, BackendError, BackendResponseError
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI
from tests.router.context_errors import LLAMA_CPP_CONTEXT

FIX = "OCP_CONTEXT_TOKENS"

OPENAI_CONTEXT = {
    "error": {
        "message": "This model's maximum context length is 128000 tokens. However, your "
        "messages resulted in 130532 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}
# One message of the request is over OpenAI's per-string limit: not the context window,
# though its wording says "too long".
OPENAI_STRING_TOO_LONG = {
    "error": {
        "message": "Invalid 'messages[1].content': string too long. Expected a string with "
        "maximum length 10485760, but got a string with length 10485761 instead.",
        "type": "invalid_request_error",
        "param": "messages[1].content",
        "code": "string_above_max_length",
    }
}
# vLLM: no string code (an int status), the wording is all there is.
VLLM_CONTEXT = {
    "object": "error",
    "message": "This model's maximum context length is 4096 tokens. However, you requested "
    "5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of "
    "the messages or completion.",
    "type": "BadRequestError",
    "param": None,
    "code": 400,
}
ANTHROPIC_CONTEXT = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "prompt is too long: 208310 tokens > 200000 maximum",
    },
    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
}
ANTHROPIC_TOO_LARGE = {
    "type": "error",
    "error": {
        "type": "request_too_large",
        "message": "Request exceeds the maximum allowed number of bytes.",
    },
    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fz",
}


async def _error_of(backend: OpenAIBackend | AnthropicBackend) -> BackendError:
    """The error `backend` raises for a request of one word; closed after."""
    try:
        with pytest.raises(BackendError) as failed:
            await backend.generate(GenerateRequest("hi"))
    finally:
        await backend.aclose()
    return failed.value


async def _openai_error(fake: FakeOpenAI, status: int, body: dict[str, Any]) -> BackendError:
    fake.fail_next(status, body)
    return await _error_of(OpenAIBackend("gpt-x", api_key="sk-test", base_url=fake.url + "/v1"))


async def _anthropic_error(fake: FakeAnthropic, status: int, body: dict[str, Any]) -> BackendError:
    fake.fail_next(status, body)
    return await _error_of(AnthropicBackend(api_key="sk-ant-test", base_url=fake.url))


async def test_openai_context_length_exceeded_is_told_by_its_code(fake_openai: FakeOpenAI) -> None:
    error = await _openai_error(fake_openai, 400, OPENAI_CONTEXT)
    assert isinstance(error, BackendContextExceeded) and FIX in str(error)
    assert "130532 tokens" in str(error)  # the provider's own words stay in the message


async def test_the_fix_says_which_settings_are_ocp_servers(fake_openai: FakeOpenAI) -> None:
    # The library has no max_context_tokens nor OCP_CONTEXT_TOKENS: a caller of ocp_router
    # alone was told to change settings it does not have.
    error = str(await _openai_error(fake_openai, 400, OPENAI_CONTEXT))
    assert "fewer earlier turns" in error
    assert "ocp-server: a smaller max_context_tokens or OCP_CONTEXT_TOKENS" in error


async def test_an_openai_code_that_is_not_the_context_is_not_taken_for_it_by_its_words(
    fake_openai: FakeOpenAI,
) -> None:
    error = await _openai_error(fake_openai, 400, OPENAI_STRING_TOO_LONG)
    assert type(error) is BackendResponseError
    assert "context window" not in str(error) and "string too long" in str(error)


async def test_llama_cpp_exceed_context_size_error_is_told_by_its_type(
    fake_openai: FakeOpenAI,
) -> None:
    # A local llama.cpp server behind the OpenAI-compatible backend.
    error = await _openai_error(fake_openai, 400, LLAMA_CPP_CONTEXT)
    assert isinstance(error, BackendContextExceeded) and FIX in str(error)


async def test_a_body_without_a_code_falls_back_to_the_wording(fake_openai: FakeOpenAI) -> None:
    error = await _openai_error(fake_openai, 400, VLLM_CONTEXT)
    assert isinstance(error, BackendContextExceeded) and "maximum context length" in str(error)


async def test_anthropic_prompt_too_long_is_an_invalid_request_told_by_its_words(
    fake_anthropic: FakeAnthropic,
) -> None:
    error = await _anthropic_error(fake_anthropic, 400, ANTHROPIC_CONTEXT)
    assert isinstance(error, BackendContextExceeded) and FIX in str(error)
    assert "prompt is too long: 208310 tokens > 200000 maximum" in str(error)


@pytest.mark.parametrize(
    "message",
    [
        "prompt is too long: 208310 tokens > 200000 maximum",
        "Prompt is too long: 1000412 tokens > 1000000 maximum",  # as some clients show it
        # the input fits, but not with the answer's room (`max_tokens`) added
        "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, "
        "decrease input length or `max_tokens` and try again",
    ],
)
async def test_anthropics_wordings_of_a_request_over_the_context_are_all_told(
    fake_anthropic: FakeAnthropic, message: str
) -> None:
    # Anthropic gives these no type or code of their own (`invalid_request_error`, 400): the
    # wording is all there is (issue threads quoting the API: docker/docker-agent#569,
    # anthropics/claude-code#12186).
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    error = await _anthropic_error(fake_anthropic, 400, body)
    assert isinstance(error, BackendContextExceeded) and FIX in str(error)
    assert message.rstrip(".") in str(error)


async def test_anthropic_request_too_large_is_told_by_its_type(
    fake_anthropic: FakeAnthropic,
) -> None:
    # 413 `request_too_large`: the body is over the API's size limit, whatever its words.
    error = await _anthropic_error(fake_anthropic, 413, ANTHROPIC_TOO_LARGE)
    assert isinstance(error, BackendContextExceeded) and FIX in str(error)


async def test_anthropic_words_under_another_error_type_are_not_the_context(
    fake_anthropic: FakeAnthropic,
) -> None:
    body = {"type": "error", "error": {"type": "api_error", "message": "context too long"}}
    error = await _anthropic_error(fake_anthropic, 400, body)
    assert not isinstance(error, BackendContextExceeded) and FIX not in str(error)


async def test_ollama_runner_context_error_is_told_by_its_nested_type(
    fake_ollama: FakeOllama,
) -> None:
    # Ollama (`truncate: false`) passes the runner's error on as a JSON string in `error`.
    fake_ollama.fail_next(400, {"error": json.dumps(LLAMA_CPP_CONTEXT)})
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5)
    try:
        with pytest.raises(BackendContextExceeded) as failed:
            await backend.generate(GenerateRequest("hi"))
    finally:
        await backend.aclose()
    message = str(failed.value)
    assert FIX in message and "exceeds the available context size (4096 tokens)" in message
    assert '{"error"' not in message  # the runner's words, not its JSON


async def test_ollama_plain_context_words_fall_back_to_the_wording(
    fake_ollama: FakeOllama,
) -> None:
    # Ollama with `shift: false`: a plain string, no type.
    fake_ollama.fail_next(
        400,
        {"error": "the prompt is longer than the context length currently available to the model"},
    )
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5)
    try:
        with pytest.raises(BackendContextExceeded) as failed:
            await backend.generate(GenerateRequest("hi"))
    finally:
        await backend.aclose()
    assert FIX in str(failed.value)
