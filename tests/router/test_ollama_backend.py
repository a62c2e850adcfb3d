"""OllamaBackend against a protocol-faithful fake Ollama server."""

from __future__ import annotations

import pytest

from ocp_router import (
    BackendError,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    GenerateRequest,
    OllamaBackend,
)
from tests.fakes import FakeOllama


async def test_generate_streams_the_answer_and_reports_ollama_usage(
    fake_ollama: FakeOllama,
) -> None:
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    response = await backend.generate(
        GenerateRequest(prompt="what is a closure?", system="Be brief")
    )
    assert response.text == "local answer: what is a closure?"
    assert response.model == "llama3.2:latest"  # Ollama reports the normalised tag
    assert response.prompt_tokens > 0 and response.completion_tokens > 0
    assert response.stop_reason == "stop"
    body = fake_ollama.requests_to("/api/chat")[0].body
    assert body["stream"] is True
    assert body["messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "what is a closure?"},
    ]
    await backend.aclose()


async def test_max_tokens_becomes_num_predict_and_cuts_the_answer(fake_ollama: FakeOllama) -> None:
    fake_ollama.reply = "one two three four five six seven eight"
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    response = await backend.generate(GenerateRequest(prompt="count", max_tokens=3))
    assert fake_ollama.requests_to("/api/chat")[0].body["options"]["num_predict"] == 3
    assert response.stop_reason == "length"
    assert response.completion_tokens == 3
    await backend.aclose()


async def test_missing_model_error_says_to_pull_it(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend("qwen3:4b", base_url=fake_ollama.url)
    with pytest.raises(BackendUnavailable, match="ollama pull qwen3:4b"):
        await backend.generate(GenerateRequest(prompt="hi"))
    assert await backend.is_available() is False
    with pytest.raises(BackendUnavailable, match="ollama pull qwen3:4b"):
        await backend.check()
    await backend.aclose()


async def test_is_available_when_server_up_and_model_pulled(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    assert await backend.is_available() is True
    await backend.aclose()


async def test_the_model_named_in_another_case_is_the_one_pulled(fake_ollama: FakeOllama) -> None:
    # Ollama answers `Llama3.2` with the pulled `llama3.2:latest` (it ignores case, from
    # v0.5.2): neither the check nor the probe may call it missing.
    async with OllamaBackend("Llama3.2", base_url=fake_ollama.url) as backend:
        assert await backend.is_available() is True
        assert (await backend.probe()).present


@pytest.mark.usefixtures("ollama_installed")
async def test_refused_connection_says_to_start_ollama(refused_url: str) -> None:
    backend = OllamaBackend("llama3.2", base_url=refused_url)
    assert await backend.is_available() is False
    with pytest.raises(BackendUnavailable, match="ollama serve"):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_slow_server_times_out_within_the_configured_bound(fake_ollama: FakeOllama) -> None:
    fake_ollama.delay = 3.0
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=0.3)
    with pytest.raises(BackendTimeout, match="raise the `timeout` argument"):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_error_in_the_middle_of_the_stream_is_an_error_not_a_short_answer(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = "a long answer with many words in it"
    fake_ollama.fail_mid_stream("CUDA out of memory", after=2)
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    with pytest.raises(BackendError, match="CUDA out of memory"):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_malformed_body_is_a_response_error(fake_ollama: FakeOllama) -> None:
    fake_ollama.malformed_next(path="/api/chat")
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    with pytest.raises(BackendResponseError):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_server_error_status_carries_the_server_message(fake_ollama: FakeOllama) -> None:
    fake_ollama.fail_next(500, {"error": "llama runner process has terminated"})
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    with pytest.raises(BackendResponseError, match="llama runner process has terminated"):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_dated_tag_names_match_pulled_models() -> None:
    with FakeOllama(models=["qwen2.5-coder:7b"]) as fake:
        async with OllamaBackend("qwen2.5-coder:7b", base_url=fake.url) as tagged:
            assert await tagged.is_available()
        async with OllamaBackend("qwen2.5-coder", base_url=fake.url) as untagged:
            assert not await untagged.is_available()
