"""A prompt longer than the local model's context: Ollama cuts it silently by default (the
model answers what it never fully saw, status 200). OCP sends `truncate: false`, so the
runner refuses it with a 400 (ollama-api.md §3; runner/ollamarunner/runner.go
`errorInputTooLong`), the backend raises `BackendContextExceeded` and the router escalates
to the paid tier, as for any local context error."""

from __future__ import annotations

import httpx
import pytest

from ocp_router import GenerateRequest, OCPRouter, OllamaBackend, Tier
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.errors import BackendContextExceeded
from tests.fakes import FakeAnthropic, FakeOllama

LONG = "explain this log line by line: " + "error at line 42 of parser.py " * 40  # ~240 tokens
CHAT = "/api/chat"


def _chat(url: str, **extra: object) -> httpx.Response:
    body = {"model": "llama3.2", "stream": False, "messages": [{"role": "user", "content": LONG}]}
    return httpx.post(url + CHAT, json={**body, **extra}, timeout=5)


def test_the_fake_cuts_an_over_long_prompt_silently_unless_truncate_is_false() -> None:
    with FakeOllama(default_num_ctx=64) as fake:
        silent = _chat(fake.url)
        refused = _chat(fake.url, truncate=False)
        generate = httpx.post(
            fake.url + "/api/generate",
            json={"model": "llama3.2", "prompt": LONG, "stream": False, "truncate": False},
            timeout=5,
        )
        fits = _chat(fake.url, truncate=False, options={"num_ctx": 4096})
    assert silent.status_code == 200 and silent.json()["prompt_eval_count"] == 64
    assert refused.status_code == 400
    assert refused.json() == {"error": "the input length exceeds the context length"}
    assert generate.status_code == 400
    assert fits.status_code == 200 and fits.json()["prompt_eval_count"] > 64


def test_a_fake_older_than_0_12_4_ignores_truncate_as_unknown_fields_are() -> None:
    with FakeOllama(default_num_ctx=64, version="0.12.3") as fake:
        old = _chat(fake.url, truncate=False)
    assert old.status_code == 200 and old.json()["prompt_eval_count"] == 64


async def test_an_over_long_prompt_is_a_context_error_not_a_cut_answer() -> None:
    with FakeOllama(default_num_ctx=64) as fake:
        backend = OllamaBackend("llama3.2", base_url=fake.url, timeout=5)
        try:
            with pytest.raises(BackendContextExceeded) as failed:
                await backend.generate(GenerateRequest(LONG))
        finally:
            await backend.aclose()
        assert fake.requests_to(CHAT)[0].body["truncate"] is False
    assert "exceeds the context length" in str(failed.value)


async def test_a_prompt_that_fits_is_answered_as_before() -> None:
    with FakeOllama(default_num_ctx=4096) as fake:
        backend = OllamaBackend("llama3.2", base_url=fake.url, timeout=5)
        try:
            response = await backend.generate(GenerateRequest(LONG))
        finally:
            await backend.aclose()
    assert response.text.startswith("local answer:") and response.prompt_tokens > 64


async def test_the_router_escalates_an_over_long_local_prompt_to_the_paid_tier(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.reply = "paid answer"
    with FakeOllama(default_num_ctx=64) as fake:
        router = OCPRouter(
            local=OllamaBackend("llama3.2", base_url=fake.url, timeout=5),
            paid=AnthropicBackend(
                "claude-sonnet-4-6", api_key="sk-ant-test", base_url=fake_anthropic.url,
                max_retries=0,
            ),
        )  # fmt: skip
        try:
            result = await router.route("what does this mean? " + LONG)
        finally:
            await router.aclose()
    assert result.text == "paid answer" and result.tier.paid
    local = result.attempts[0]
    assert (local.tier, local.outcome) == (Tier.LOCAL, "error")
    assert local.error_type == "BackendContextExceeded"


async def test_an_older_ollama_that_cut_the_prompt_is_told_by_prompt_eval_count() -> None:
    # Before v0.12.4 `truncate` is ignored and the prompt is cut silently; the final line's
    # prompt_eval_count (the tokens the model read) shows it was far short of the prompt.
    with FakeOllama(default_num_ctx=64, version="0.12.3") as fake:
        backend = OllamaBackend("llama3.2", base_url=fake.url, timeout=5)
        try:
            with pytest.raises(BackendContextExceeded) as failed:
                await backend.generate(GenerateRequest(LONG))
        finally:
            await backend.aclose()
    assert "read 64 of about" in str(failed.value) and "num_ctx" in str(failed.value)


async def test_a_prompt_counted_a_little_differently_by_the_model_is_not_taken_for_a_cut() -> None:
    # The model's tokenizer and chat template count differently from OCP's estimate: only a
    # prompt read at under half its estimate is taken for a cut one.
    with FakeOllama(reply="fine", version="0.12.3") as fake:
        fake.default_num_ctx = 4096
        backend = OllamaBackend("llama3.2", base_url=fake.url, timeout=5)
        try:
            response = await backend.generate(GenerateRequest(LONG, system="Be brief."))
        finally:
            await backend.aclose()
    assert response.text == "fine"
