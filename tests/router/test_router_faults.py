"""The router under concurrency and misbehaving providers: the daily budget holds when routes
run at once, a body of the wrong shape is a backend error like any other, OCP (not the
Anthropic SDK) owns retries, and a provider's dated model name is not a fallback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ocp_router import (
    Budget,
    GenerateRequest,
    MockBackend,
    OCPRouter,
    OllamaBackend,
    Tier,
)
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.config import make_router
from ocp_router.errors import BackendRateLimited, BackendResponseError, BackendUnavailable
from tests.fakes import FakeAnthropic, FakeOllama


def _anthropic(fake: FakeAnthropic) -> AnthropicBackend:
    return AnthropicBackend("claude-sonnet-4-6", api_key="sk-ant-test", base_url=fake.url)


HARD = "design the architecture of our payment service: sharding, consistency, failover"


async def test_concurrent_routes_cannot_overspend_the_daily_budget(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.delay = 0.5  # the four calls overlap
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10),
        paid=_anthropic(fake_anthropic),
        top_model=None,
        paid_max_tokens=4096,  # an estimate of about $0.062 a call: one fits under $0.10
        budget=Budget(daily_usd=0.10),
    )
    try:
        results = await asyncio.gather(*(router.route(HARD) for _ in range(4)))
    finally:
        await router.aclose()
    paid = [r for r in results if r.tier.paid]
    assert len(fake_anthropic.message_requests()) == len(paid) == 1
    assert sum(r.estimated_usd or 0 for r in paid) <= 0.10
    assert await router.ledger.spent_today() == pytest.approx(paid[0].cost_usd)
    for r in results:
        if not r.tier.paid:
            assert r.tier is Tier.LOCAL and any("held by calls in flight" in n for n in r.notes)
    assert router._reserved == 0  # every reservation settled


async def test_a_reservation_is_released_when_the_paid_call_fails(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.fail_next(500, times=1)
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10),
        paid=_anthropic(fake_anthropic),
        top_model=None,
        budget=Budget(daily_usd=0.10),
    )
    try:
        first = await router.route(HARD)
        second = await router.route(HARD)
    finally:
        await router.aclose()
    assert router._reserved == 0
    assert second.tier is Tier.MID and not second.notes, second.notes
    assert first.attempts[0].outcome == "error"


async def test_an_event_stream_for_a_json_call_is_a_backend_error(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.stream_always = True  # a 200 with an event stream instead of a message
    backend = AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url)
    try:
        with pytest.raises(BackendResponseError, match="could not read"):
            await backend.generate(GenerateRequest("hi"))
    finally:
        await backend.aclose()


async def test_a_misshapen_paid_answer_falls_back_to_local(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.stream_always = True
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10),
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url),
    )
    try:
        result = await router.route(HARD)
    finally:
        await router.aclose()
    assert result.tier is Tier.LOCAL and result.fell_back
    assert [a.outcome for a in result.attempts] == ["error", "ok"]
    assert result.attempts[0].error_type == "BackendResponseError"


async def test_any_unexpected_exception_of_a_backend_is_a_traced_backend_error() -> None:
    def broken(request: GenerateRequest) -> str:
        raise AttributeError("'str' object has no attribute 'content'")

    router = OCPRouter(
        local=MockBackend(lambda r: "local answer"), paid=MockBackend(broken, model="x")
    )
    result = await router.route(HARD)
    assert result.text == "local answer"
    assert result.attempts[0].error_type == "BackendResponseError"
    assert "AttributeError" in (result.attempts[0].error or "")


async def test_a_failed_attempt_is_logged_with_its_error_on_the_routers_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # `ocp route` (cli_server.run_route) holds back, by this logger's name and the record's
    # `attempt_error`, the attempt errors its printed note already says.
    def unavailable(request: GenerateRequest) -> str:
        raise BackendUnavailable("the paid model is down", backend="mock")

    caplog.set_level(logging.WARNING, logger="ocp_router.router")
    router = OCPRouter(
        local=MockBackend(lambda r: "local answer"), paid=MockBackend(unavailable, model="x")
    )
    result = await router.route(HARD)
    assert result.text == "local answer"
    [record] = [r for r in caplog.records if r.name == "ocp_router.router"]
    assert getattr(record, "attempt_error", None) == "the paid model is down"


async def test_the_anthropic_sdk_does_not_retry_behind_the_routers_back(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.fail_next(529, times=5)
    router = await make_router(
        {
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": fake_anthropic.url,
            "OCP_OLLAMA_URL": "http://127.0.0.1:9",
            "OCP_CLASSIFIER_MODEL": "none",
        }
    )
    assert router.paid is not None
    try:
        with pytest.raises(BackendRateLimited):
            await router.paid.generate(GenerateRequest("hi"))
        assert len(fake_anthropic.message_requests()) == 1
        # The router itself moves on: mid, then top, each tried once.
        failed: object = await router.route(HARD, force="paid")
    except Exception as exc:  # noqa: BLE001 - RoutingFailed when local is down too
        failed = exc
    finally:
        await router.aclose()
    attempts = getattr(failed, "attempts", ())
    paid_tries = [a for a in attempts if a.tier.paid]
    assert len(fake_anthropic.message_requests()) == 1 + len(paid_tries) <= 3


async def test_a_dated_model_name_in_the_answer_is_not_a_fallback(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.reply = lambda messages, body: {
        "text": "ok",
        "model": body["model"] + "-20250929",
    }
    router = OCPRouter(
        local=None,
        paid=_anthropic(fake_anthropic),
        top_model=None,
    )
    try:
        first = await router.route(HARD, session="s1")
        second = await router.route(HARD, session="s1")
    finally:
        await router.aclose()
    assert first.model == "claude-sonnet-4-6-20250929"
    assert first.answered_model == "claude-sonnet-4-6"
    assert not first.fell_back and not first.escalated
    assert second.decision.pin_state.value == "hard" and not second.fell_back
    assert first.cost_usd and first.cost_usd > 0
