"""Probes from the route reliability review: a billed paid answer with no text still counts
against the budget, a cancelled route releases what it reserved, and a provider's rate limit
or context-length error and a dropped connection say what to do, and a password in a backend
URL stays out of messages."""

from __future__ import annotations

import asyncio
import base64
import logging

import anyio
import pytest

from ocp_router import Budget, GenerateRequest, OCPRouter, OllamaBackend, Tier
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.budget import MemoryLedger
from ocp_router.errors import BackendError, BackendRateLimited, BackendResponseError
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI

HARD = "design the architecture of our payment service: sharding, consistency, failover"


def _router(ollama: FakeOllama, anthropic: FakeAnthropic, **kw: object) -> OCPRouter:
    return OCPRouter(
        local=OllamaBackend("llama3.2", base_url=ollama.url, timeout=10),
        paid=AnthropicBackend("claude-sonnet-4-6", api_key="sk-ant-test", base_url=anthropic.url),
        top_model=None,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_paid_answer_with_only_thinking_is_billed_to_the_ledger(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    # The model spent its output on thinking and returned no text: the provider bills it.
    fake_anthropic.add_steps({"thinking": "long deliberation " * 50, "text": ""})
    router = _router(fake_ollama, fake_anthropic, budget=Budget(daily_usd=5.0))
    try:
        result = await router.route(HARD)
    finally:
        await router.aclose()
    assert result.tier is Tier.LOCAL and result.attempts[0].outcome == "empty"
    billed = fake_anthropic.responses[0]["usage"]
    assert billed["output_tokens"] > 1
    spent = await router.ledger.spent_today()
    assert spent > 0 and result.cost_usd == pytest.approx(spent)
    assert any("empty answer" in note for note in result.notes)


async def test_a_cancelled_paid_route_releases_its_budget_reservation(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.delay = 5.0
    router = _router(fake_ollama, fake_anthropic, budget=Budget(daily_usd=5.0))
    try:
        task = asyncio.create_task(router.route(HARD))
        while not fake_anthropic.message_requests():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await router.aclose()
    assert router._reserved == 0


class HeldLedger(MemoryLedger):
    """A ledger whose reads wait, once `hold` is set, until `go` is: a route checking the
    budget holds the router's budget lock meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.reading = asyncio.Event()
        self.go = asyncio.Event()

    async def spent_today(self) -> float:
        if self.hold:
            self.reading.set()
            await self.go.wait()
        return await super().spent_today()


async def test_a_paid_route_cancelled_while_another_checks_the_budget_releases_its_reservation(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    # Cancelled as the MCP SDK cancels a call (at every await until its scope ends) while
    # another route holds the budget lock: its reservation stayed held until a restart.
    fake_anthropic.delay = 5.0
    ledger = HeldLedger()
    router = _router(fake_ollama, fake_anthropic, budget=Budget(daily_usd=5.0), ledger=ledger)
    scope = anyio.CancelScope()

    async def cancellable() -> None:
        with scope:
            await router.route(HARD)

    try:
        first = asyncio.create_task(cancellable())
        while not fake_anthropic.message_requests():
            await asyncio.sleep(0.01)
        ledger.hold = True
        second = asyncio.create_task(router.route(HARD, session="other"))
        await ledger.reading.wait()  # the second route holds the budget lock
        scope.cancel()
        await asyncio.wait([first], timeout=0)  # the first one's cancellation is delivered
        ledger.go.set()
        await first
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
    finally:
        await router.aclose()
    assert router._reserved == 0


async def test_a_rate_limit_says_when_to_retry(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.retry_after = "37"
    fake_anthropic.fail_next(429)
    backend = AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url)
    try:
        with pytest.raises(BackendRateLimited, match="retry after 37 s"):
            await backend.generate(GenerateRequest("hi"))
    finally:
        await backend.aclose()


async def test_a_prompt_over_the_context_window_names_the_fix(
    fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI
) -> None:
    too_long = "prompt is too long: 250000 tokens > 200000 maximum"
    fake_anthropic.fail_next(
        400, {"type": "error", "error": {"type": "invalid_request_error", "message": too_long}}
    )
    anthropic_backend = AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url)
    openai_backend = OpenAIBackend("gpt-x", api_key="sk-test", base_url=fake_openai.url + "/v1")
    fake_openai.fail_next(
        400,
        {
            "error": {
                "message": "This model's maximum context length is 128000 tokens.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            }
        },
    )
    try:
        with pytest.raises(BackendResponseError) as anthropic_error:
            await anthropic_backend.generate(GenerateRequest("hi"))
        with pytest.raises(BackendResponseError) as openai_error:
            await openai_backend.generate(GenerateRequest("hi"))
    finally:
        await anthropic_backend.aclose()
        await openai_backend.aclose()
    for error in (anthropic_error.value, openai_error.value):
        assert "OCP_CONTEXT_TOKENS" in str(error), error
    # The provider's own words, not the SDK's repr of the whole body.
    assert too_long in str(anthropic_error.value)
    assert "{'type'" not in str(anthropic_error.value)


async def test_a_password_in_a_backend_url_stays_out_of_its_errors(refused_url: str) -> None:
    # Ollama or a local OpenAI-compatible server behind a proxy with basic auth in the URL.
    url = refused_url.replace("http://", "http://admin:Hunter2SuperSecretPw@")
    ollama = OllamaBackend("llama3.2", base_url=url, timeout=5)
    local_openai = OpenAIBackend("qwen", base_url=url + "/v1")
    errors: list[str] = [repr(local_openai)]
    try:
        for call in (ollama.generate, local_openai.generate):
            with pytest.raises(BackendError) as failed:
                await call(GenerateRequest("hi"))
            errors.append(str(failed.value))
        with pytest.raises(BackendError) as failed:
            await ollama.check()
        errors.append(str(failed.value))
    finally:
        await ollama.aclose()
        await local_openai.aclose()
    for error in errors:
        assert "Hunter2" not in error and "127.0.0.1" in error, error


async def test_a_password_in_a_backend_url_is_sent_as_basic_auth_and_never_logged(
    fake_ollama: FakeOllama, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx logs every request's URL at INFO, credentials and all: a script that turned
    # logging on (basicConfig(level=INFO)) wrote the proxy's password to its log.
    caplog.set_level(logging.DEBUG)
    ollama = OllamaBackend(
        "llama3.2", base_url=fake_ollama.url.replace("http://", "http://admin:Hunter2Pw@")
    )
    local_openai = OpenAIBackend(
        "qwen", base_url=fake_openai.base_url.replace("http://", "http://admin:Hunter2Pw@")
    )
    try:
        assert (await ollama.generate(GenerateRequest("hi"))).text
        assert (await local_openai.generate(GenerateRequest("hi"))).text
    finally:
        await ollama.aclose()
        await local_openai.aclose()
    basic = "Basic " + base64.b64encode(b"admin:Hunter2Pw").decode()
    assert fake_ollama.requests_to("/api/chat")[0].headers["authorization"] == basic
    assert fake_openai.requests[-1].headers["authorization"] == basic
    assert "Hunter2" not in caplog.text and "HTTP Request" in caplog.text
    assert "Hunter2" not in ollama.base_url + local_openai.base_url


async def test_a_password_in_the_anthropic_base_url_is_sent_as_basic_auth_and_never_logged(
    fake_anthropic: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    # The SDK logs its requests' URLs (httpx2 at INFO, the SDK at DEBUG) as they are.
    caplog.set_level(logging.DEBUG)
    fake_anthropic.api_key = None
    url = fake_anthropic.url.replace("http://", "http://admin:Hunter2Pw@")
    backend = AnthropicBackend("claude-sonnet-4-6", api_key="sk-ant-test", base_url=url)
    try:
        assert (await backend.generate(GenerateRequest("hi"))).text
    finally:
        await backend.aclose()
    sent = fake_anthropic.requests[-1].headers
    # As before: the gateway's basic auth is the Authorization header.
    assert sent["authorization"] == "Basic " + base64.b64encode(b"admin:Hunter2Pw").decode()
    assert "Hunter2" not in caplog.text and "HTTP Request" in caplog.text


async def test_a_connection_dropped_mid_answer_is_not_told_to_start_the_server(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.drop_mid_stream(after=1)
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5)
    try:
        with pytest.raises(BackendError) as failed:
            await backend.generate(GenerateRequest("explain this"))
    finally:
        await backend.aclose()
    message = str(failed.value)
    assert "crashed or run out of memory" in message, message


async def test_a_password_in_the_anthropic_base_url_stays_out_of_its_probe(
    fake_anthropic: FakeAnthropic,
) -> None:
    # ANTHROPIC_BASE_URL pointing at a gateway with basic auth: `doctor` prints the probe.
    fake_anthropic.api_key = None  # the gateway takes the basic auth instead of a key
    url = fake_anthropic.url.replace("http://", "http://admin:Hunter2SuperSecretPw@")
    backend = AnthropicBackend("claude-sonnet-4-6", api_key="sk-ant-test", base_url=url)
    try:
        probe = await backend.probe()
    finally:
        await backend.aclose()
    assert "Hunter2" not in probe.url and "127.0.0.1" in probe.url, probe
