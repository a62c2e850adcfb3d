"""The HTTP backends make their httpx client at their first request (backends/_http.py,
ClientOnFirstUse), not when built: closing one never used is quick and quiet, and one closed
refuses a request as a closed httpx client does, instead of making a new client to leak."""

from __future__ import annotations

import pytest

from ocp_router import GenerateRequest, OllamaBackend
from ocp_router.backends.openai import OpenAIBackend
from tests.fakes import FakeOllama


async def test_a_backend_closed_unused_refuses_a_request(refused_url: str) -> None:
    for backend in (
        OllamaBackend("llama3.2", base_url=refused_url),
        OpenAIBackend("qwen", base_url=refused_url + "/v1"),
    ):
        await backend.aclose()
        await backend.aclose()  # twice: as httpx's own
        with pytest.raises(RuntimeError, match="client has been closed"):
            await backend.generate(GenerateRequest("hi"))


async def test_a_backend_used_then_closed_refuses_a_request(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5)
    assert (await backend.generate(GenerateRequest("hi"))).text
    await backend.aclose()
    with pytest.raises(RuntimeError, match="client has been closed"):
        await backend.generate(GenerateRequest("hi"))
