"""Probes from the route reliability review: a billed paid answer with no text still counts
against the budget, and a cancelled route releases what it reserved."""

from __future__ import annotations

import asyncio

import pytest

from ocp_router import Budget, OCPRouter, OllamaBackend, Tier
from ocp_router.backends.anthropic import AnthropicBackend
from tests.fakes import FakeAnthropic, FakeOllama

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
