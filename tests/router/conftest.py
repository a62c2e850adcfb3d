"""The router most tests here drive: a local Ollama model and a paid Anthropic one, both the
fake servers over real HTTP (test_tiers.py has its own, with tiers)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ocp_router import OCPRouter, OllamaBackend, TaskClassifier
from ocp_router.backends.anthropic import AnthropicBackend
from tests.fakes import FakeAnthropic, FakeOllama


@pytest.fixture
async def router(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> AsyncIterator[OCPRouter]:
    """Answers "paid answer" from the paid model; closed after the test. (The local model's
    30 s timeout is one no test wants to fire.)"""
    fake_anthropic.reply = "paid answer"
    r = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=30),
        paid=AnthropicBackend(
            "claude-sonnet-4-6", api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0
        ),
        classifier=TaskClassifier(),
    )
    yield r
    await r.aclose()
