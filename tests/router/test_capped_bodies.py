"""A backend whose answer body never ends, or is huge (something else on the port, a broken
proxy in front): the body is read up to a cap (the proxy's 8 MiB), then a BackendResponseError
naming the backend and the cap, which the route escalates; nothing waits for the timeout."""

from __future__ import annotations

import pytest

from ocp_router import BackendResponseError, GenerateRequest, OllamaBackend, OpenAIBackend
from tests.fakes import FakeOllama, FakeOpenAI

_PIECE = b"x" * 65536
_LONGER_THAN_THE_CAP = (_PIECE,) * (16 * 9)  # 9 MiB, then the fake stalls
# Far longer than the test takes with a cap: without one, the read waits this out.
_TIMEOUT = 10.0


async def test_an_endless_ollama_error_body_is_cut_at_the_cap(fake_ollama: FakeOllama) -> None:
    fake_ollama.hold_next(
        (b'{"error": "', *_LONGER_THAN_THE_CAP), "application/json", path="/api/chat", status=500
    )
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=_TIMEOUT) as backend:
        with pytest.raises(BackendResponseError) as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    assert "ollama sent a response body longer than 8,388,608 bytes" in str(caught.value)
    assert caught.value.status_code == 500


async def test_an_endless_openai_compatible_answer_is_cut_at_the_cap(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.hold_next(
        (b'{"choices": [{"message": {"content": "', *_LONGER_THAN_THE_CAP),
        "application/json",
        path="/v1/chat/completions",
    )
    async with OpenAIBackend("m", base_url=fake_openai.base_url, timeout=_TIMEOUT) as backend:
        with pytest.raises(BackendResponseError) as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    said = f"at {fake_openai.base_url} sent a response body longer than 8,388,608 bytes"
    assert said in str(caught.value)


async def test_an_error_body_under_the_cap_is_still_read(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(500, body={"error": {"message": "the model crashed"}})
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        with pytest.raises(BackendResponseError, match="answered 500: the model crashed"):
            await backend.generate(GenerateRequest(prompt="hi"))


async def test_an_endless_model_list_is_cut_at_the_cap(fake_ollama: FakeOllama) -> None:
    # The checks read whole bodies too (/api/tags here, /api/show, /api/ps, /models).
    fake_ollama.hold_next(
        (b'{"models": [', *_LONGER_THAN_THE_CAP), "application/json", path="/api/tags"
    )
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url) as backend:
        with pytest.raises(BackendResponseError, match="longer than 8,388,608 bytes"):
            await backend.check()


async def test_an_endless_ollama_answer_in_short_lines_is_cut_at_the_total_cap(
    fake_ollama: FakeOllama,
) -> None:
    # Each line is well under the line cap; the answer never says done. Read for a whole
    # answer, the stream is bounded in all (64 MiB), not only by the timeout.
    line = b'{"message": {"role": "assistant", "content": "' + b"y" * 4000 + b'"}, "done": false}\n'
    chunk = line * 16  # 64 kB
    fake_ollama.hold_next((chunk,) * 1100, "application/x-ndjson", path="/api/chat")  # 70 MB
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=_TIMEOUT) as backend:
        with pytest.raises(BackendResponseError) as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    assert "a streamed answer longer than 67,108,864 bytes in all" in str(caught.value)
