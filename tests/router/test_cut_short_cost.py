"""A paid call cut short (cancelled, out of time, timed out) sends no usage, yet the provider
bills the input it read: the attempt carries an estimate of it, marked as one, and the ledger
counts it. Spend on attempts that did not answer is kept apart from the answer's cost."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ocp_router import OCPRouter, OllamaBackend, RoutingFailed, Tier, parse_payload
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.base import ModelBackend
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.prices import price_for
from ocp_router.results import Attempt, RouteResult
from ocp_router.tokens import estimate_tokens
from tests.fakes import FakeAnthropic, FakeOllama, closed_port, unaccepting_port

HARD = "design the architecture of our payment service: sharding, consistency, failover"
MODEL = "claude-sonnet-4-6"


def _anthropic(fake: FakeAnthropic, timeout: float = 300) -> AnthropicBackend:
    return AnthropicBackend(MODEL, api_key="sk-ant-test", base_url=fake.url, timeout=timeout)


def _input_estimate(fake: FakeAnthropic) -> float:
    """What the provider read, counted as the router counts a prompt, at MODEL's price."""
    [body] = fake.message_requests()
    text = "".join(m["content"] for m in body["messages"]) + (body.get("system") or "")
    price = price_for(MODEL)
    assert price is not None
    return price.cost(estimate_tokens(text), 0)


async def test_a_cancelled_paid_call_is_billed_an_estimate_of_the_input_it_read(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.delay = 120.0
    router = OCPRouter(local=None, paid=_anthropic(fake_anthropic), top_model=None)
    payload = parse_payload(HARD)
    attempts: list[Attempt] = []
    try:
        decision = await router.plan(payload)
        task = asyncio.create_task(router.execute(decision, payload, attempts=attempts))
        while not fake_anthropic.message_requests():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await router.aclose()
    [cut] = attempts
    expected = _input_estimate(fake_anthropic)
    assert cut.outcome == "cancelled" and cut.cost_estimated
    assert cut.cost_usd == pytest.approx(expected) and expected > 0
    assert await router.ledger.spent_today() == pytest.approx(expected)


async def test_a_route_out_of_time_is_billed_for_the_paid_call_it_cut(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.delay = 120.0
    router = OCPRouter(
        local=None, paid=_anthropic(fake_anthropic), top_model=None, total_timeout=0.5
    )
    try:
        with pytest.raises(RoutingFailed) as failed:
            await router.route(HARD)
    finally:
        await router.aclose()
    expected = _input_estimate(fake_anthropic)
    assert failed.value.spent_usd == pytest.approx(expected) and expected > 0
    assert failed.value.cost_estimated
    assert await router.ledger.spent_today() == pytest.approx(expected)


async def test_a_timed_out_paid_call_is_failed_spend_not_the_local_answers_cost(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.delay = 120.0
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10),
        paid=_anthropic(fake_anthropic, timeout=0.3),
        top_model=None,
    )
    try:
        result = await router.route(HARD)
    finally:
        await router.aclose()
    expected = _input_estimate(fake_anthropic)
    paid, local = result.attempts
    assert (paid.error_type, paid.cost_estimated) == ("BackendTimeout", True)
    assert paid.cost_usd == pytest.approx(expected) and expected > 0
    assert result.tier is Tier.LOCAL and local.outcome == "ok" and local.cost_usd == 0
    assert result.answer_cost_usd == 0
    assert result.failed_cost_usd == pytest.approx(expected)
    assert result.cost_usd == pytest.approx(expected) and result.cost_estimated


async def test_a_paid_call_refused_before_reading_is_not_billed(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    # A rate limit is answered before any work: nothing to bill, nothing estimated.
    fake_anthropic.fail_next(429)
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10),
        paid=_anthropic(fake_anthropic),
        top_model=None,
    )
    try:
        result = await router.route(HARD)
    finally:
        await router.aclose()
    assert result.attempts[0].error_type == "BackendRateLimited"
    assert (result.cost_usd, result.failed_cost_usd, result.cost_estimated) == (0, 0, False)
    assert await router.ledger.spent_today() == 0


async def _route_past(paid: ModelBackend, fake_ollama: FakeOllama) -> RouteResult:
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10),
        paid=paid,
        top_model=None,
    )
    try:
        return await router.route(HARD)
    finally:
        await router.aclose()


def _unsent(result: RouteResult, error_type: str) -> None:
    """The paid attempt failed before its request left: nothing billed, nothing estimated."""
    paid, local = result.attempts
    assert (paid.error_type, paid.cost_usd, paid.cost_estimated) == (error_type, 0, False)
    assert result.tier is Tier.LOCAL and local.outcome == "ok"
    assert (result.cost_usd, result.failed_cost_usd, result.cost_estimated) == (0, 0, False)


async def test_a_paid_call_whose_connection_timed_out_is_not_billed(
    fake_ollama: FakeOllama,
) -> None:
    # The provider never had the request: a connect timeout is a timeout, not a cut call.
    with unaccepting_port() as port:
        paid = AnthropicBackend(
            MODEL, api_key="sk-ant-test", base_url=f"http://127.0.0.1:{port}", timeout=0.3
        )
        result = await _route_past(paid, fake_ollama)
    _unsent(result, "BackendTimeout")


async def test_an_openai_compatible_paid_call_whose_connection_timed_out_is_not_billed(
    fake_ollama: FakeOllama,
) -> None:
    with unaccepting_port() as port:
        paid = OpenAIBackend(
            "gpt-4o",
            base_url=f"http://127.0.0.1:{port}/v1",
            timeout=10,
            client=httpx.AsyncClient(timeout=httpx.Timeout(10, connect=0.3)),
        )
        result = await _route_past(paid, fake_ollama)
    _unsent(result, "BackendTimeout")


async def test_a_paid_call_refused_at_connect_is_not_billed(fake_ollama: FakeOllama) -> None:
    paid = AnthropicBackend(
        MODEL, api_key="sk-ant-test", base_url=f"http://127.0.0.1:{closed_port()}"
    )
    _unsent(await _route_past(paid, fake_ollama), "BackendUnavailable")
