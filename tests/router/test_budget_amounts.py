"""Budget limits and amounts in notes read as a person writes money: never an exponent."""

from __future__ import annotations

import re

import pytest

from ocp_router import Budget, MemoryLedger, OCPRouter, OllamaBackend, Tier
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.budget import usd, usd_limit
from tests.fakes import FakeAnthropic, FakeOllama

MID = "claude-sonnet-4-5"
HARD = (
    "Refactor the authentication middleware across the service, redesign the session "
    "architecture and migrate every caller; explain the trade-offs of each step."
)


@pytest.mark.parametrize(
    ("limit", "written"),
    [(1e-07, "$0.0000001"), (1.5e-07, "$0.00000015"), (5.0, "$5"), (0.25, "$0.25"), (0.0, "$0")],
)
def test_a_limit_is_written_in_fixed_point_without_trailing_zeros(
    limit: float, written: str
) -> None:
    assert usd_limit(limit) == written


@pytest.mark.parametrize(
    ("amount", "written"),
    [(0.0, "$0.0000"), (0.06, "$0.0600"), (1.2e-07, "$0.00000012"), (4e-05, "$0.000040")],
)
def test_an_amount_shows_four_decimals_or_two_significant_digits_when_tiny(
    amount: float, written: str
) -> None:
    assert usd(amount) == written


def _router(fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic, budget: Budget) -> OCPRouter:
    return OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5.0),
        paid=AnthropicBackend(MID, api_key="sk-ant-test", base_url=fake_anthropic.url),
        budget=budget,
        ledger=MemoryLedger(),
    )


async def test_a_tiny_per_request_limit_is_named_in_fixed_point(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    router = _router(fake_ollama, fake_anthropic, Budget(max_request_usd=1e-07))
    result = await router.route(HARD)
    note = next(n for n in result.notes if "Budget.max_request_usd" in n)
    assert "over Budget.max_request_usd=$0.0000001." in note
    assert re.search(r"\de[-+]\d", note) is None  # no exponent
    await router.aclose()


async def test_a_tiny_daily_limit_is_named_in_fixed_point(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    router = _router(fake_ollama, fake_anthropic, Budget(daily_usd=1e-07))
    result = await router.route(HARD)
    assert result.tier is Tier.LOCAL
    note = next(n for n in result.notes if "Budget.daily_usd" in n)
    assert "$0.0000 spent today" in note and "over Budget.daily_usd=$0.0000001." in note
    assert re.search(r"\de[-+]\d", note) is None  # no exponent
    await router.aclose()
