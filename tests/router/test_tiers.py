"""Tiers, escalation, forced choices, sticky sessions and budgets, over real HTTP to the fakes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import TypedDict, Unpack

import pytest

from ocp_router import (
    Budget,
    BudgetExceeded,
    ConfigError,
    MemoryLedger,
    OCPRouter,
    OllamaBackend,
    PaidFallback,
    PinState,
    RoutingFailed,
    SessionPins,
    SpendLedger,
    Tier,
)
from ocp_router.backends.anthropic import AnthropicBackend
from tests.fakes import FakeAnthropic, FakeOllama

MID, TOP = "claude-sonnet-4-6", "claude-opus-4-6"
SIMPLE = "explain what this regex does: ^a+$"
# Scores 1.0: above the top threshold.
HARD = (
    "redesign our multi-region payment architecture for exactly-once settlement and review "
    "its security"
)
PAID = "refactor auth across all files"  # a multi-file change, scored ~0.8: mid
TOP_THRESHOLD = 0.9


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RouterOptions(TypedDict, total=False):
    """The OCPRouter options these tests vary."""

    budget: Budget | None
    ledger: SpendLedger | None
    pins: SessionPins | None
    paid_fallback: PaidFallback
    total_timeout: float


def make(
    fake_ollama: FakeOllama | None,
    fake_anthropic: FakeAnthropic | None,
    top_threshold: float = TOP_THRESHOLD,
    **kw: Unpack[RouterOptions],
) -> OCPRouter:
    local = (
        OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5.0) if fake_ollama else None
    )
    paid = (
        AnthropicBackend(MID, api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0)
        if fake_anthropic
        else None
    )
    return OCPRouter(local=local, paid=paid, top_model=TOP, top_threshold=top_threshold, **kw)


@pytest.fixture
async def router(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> AsyncIterator[OCPRouter]:
    r = make(fake_ollama, fake_anthropic)
    yield r
    await r.aclose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def pinned(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic, clock: Clock
) -> AsyncIterator[OCPRouter]:
    """The tiered router keeping sessions on their paid model, on `clock`'s time."""
    r = make(fake_ollama, fake_anthropic, pins=SessionPins(clock=clock))
    yield r
    await r.aclose()


def models_sent(fake: FakeAnthropic) -> list[str]:
    return [r["model"] for r in fake.message_requests()]


# ---- tiers ---------------------------------------------------------------------------------
async def test_hard_requests_go_to_the_top_model_and_others_to_mid(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    top = await router.route(HARD)
    mid = await router.route(PAID, session="another")
    assert (top.tier, top.model) == (Tier.TOP, TOP)
    assert (mid.tier, mid.model) == (Tier.MID, MID)
    assert models_sent(fake_anthropic) == [TOP, MID]


async def test_without_a_top_model_the_top_tier_folds_into_mid(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    router = make(fake_ollama, fake_anthropic)
    router.top_model = None
    result = await router.route(HARD)
    assert (result.tier, result.model) == (Tier.MID, MID)
    await router.aclose()


async def test_top_threshold_moves_requests_between_mid_and_top(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    review = "review the security of our password reset flow"  # scored ~0.68, a top kind
    low = make(fake_ollama, fake_anthropic, top_threshold=0.6)
    high = make(fake_ollama, fake_anthropic, top_threshold=0.9)
    assert (await low.route(review)).tier is Tier.TOP
    assert (await high.route(review)).tier is Tier.MID
    # a multi-file refactor is paid work, but not the kind the top model earns its price on
    assert (await low.route(PAID)).tier is Tier.MID
    await low.aclose()
    await high.aclose()


# ---- forced choices ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("force", "tier", "model"),
    [("local", Tier.LOCAL, "llama3.2"), ("mid", Tier.MID, MID), ("top", Tier.TOP, TOP)],
)
async def test_a_forced_tier_is_honoured_and_marked(
    router: OCPRouter, force: str, tier: Tier, model: str
) -> None:
    result = await router.route(HARD if force == "local" else SIMPLE, force=force)
    assert result.tier is tier and result.decision.forced
    assert result.decision.phase == "explicit" and "forced by caller" in result.decided_by
    assert result.model.startswith(model)


async def test_a_forced_model_is_used_by_name(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    result = await router.route(SIMPLE, model="claude-haiku-4-5")
    assert result.model == "claude-haiku-4-5" and result.decision.forced
    assert models_sent(fake_anthropic) == ["claude-haiku-4-5"]


async def test_a_forced_local_request_never_leaks_to_paid_when_local_fails(
    refused_url: str, fake_anthropic: FakeAnthropic
) -> None:
    router = OCPRouter(
        local=OllamaBackend(base_url=refused_url),
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0),
    )
    with pytest.raises(RoutingFailed) as info:
        await router.route(SIMPLE, force="local")
    assert [a.tier for a in info.value.attempts] == [Tier.LOCAL]
    assert fake_anthropic.message_requests() == []
    await router.aclose()


async def test_forcing_a_model_with_no_paid_backend_is_a_clear_error(
    fake_ollama: FakeOllama,
) -> None:
    router = make(fake_ollama, None)
    with pytest.raises(ConfigError) as refused:
        await router.route(SIMPLE, model="gpt-9")
    await router.aclose()
    assert router.local is not None
    # Was: "model 'gpt-9' is not the local model and no paid backend is configured", not
    # saying which the local model is nor what to do; said as a bad argument is said.
    assert str(refused.value) == (
        f"`model`: expected the local model ({router.local.model}), as no paid backend is "
        "configured (got 'gpt-9'); name the local model, leave `model` out, or pass OCPRouter "
        "a `paid` backend"
    )


# ---- escalation ----------------------------------------------------------------------------
async def test_an_empty_local_answer_escalates_to_mid(
    router: OCPRouter, fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_ollama.reply = "   "
    result = await router.route(SIMPLE)
    assert result.decision.tier is Tier.LOCAL and result.tier is Tier.MID
    assert result.escalated
    assert [(a.tier, a.outcome) for a in result.attempts] == [
        (Tier.LOCAL, "empty"),
        (Tier.MID, "ok"),
    ]


async def test_local_then_mid_failing_climbs_to_top(
    refused_url: str, fake_anthropic: FakeAnthropic
) -> None:
    router = OCPRouter(
        local=OllamaBackend(base_url=refused_url),
        paid=AnthropicBackend(
            MID, api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0
        ),
        top_model=TOP,
        top_threshold=TOP_THRESHOLD,
    )
    fake_anthropic.fail_next(529)
    result = await router.route(SIMPLE)
    assert [(a.tier, a.outcome, a.error_type) for a in result.attempts] == [
        (Tier.LOCAL, "error", "BackendUnavailable"),
        (Tier.MID, "error", "BackendRateLimited"),
        (Tier.TOP, "ok", None),
    ]
    assert result.tier is Tier.TOP and result.escalated
    await router.aclose()


async def test_a_rate_limited_mid_model_falls_back_to_the_other_paid_model(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.fail_next(429)
    result = await router.route(PAID)
    assert models_sent(fake_anthropic) == [MID, TOP]
    assert result.model == TOP and result.fell_back and result.escalated


async def test_an_overloaded_top_model_falls_back_to_mid(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.fail_next(529)
    result = await router.route(HARD)
    assert models_sent(fake_anthropic) == [TOP, MID]
    assert result.tier is Tier.MID and result.fell_back and not result.escalated


async def test_a_rejected_key_skips_the_other_paid_model_and_falls_back_local(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.fail_next(401)
    result = await router.route(HARD)
    assert [(a.tier, a.outcome) for a in result.attempts] == [
        (Tier.TOP, "error"),
        (Tier.MID, "skipped"),
        (Tier.LOCAL, "ok"),
    ]
    assert models_sent(fake_anthropic) == [TOP]


async def test_paid_failures_with_fallback_error_never_reach_local(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    router = make(fake_ollama, fake_anthropic, paid_fallback=PaidFallback.ERROR)
    fake_anthropic.fail_next(529, times=2)
    with pytest.raises(RoutingFailed) as info:
        await router.route(HARD)
    assert [a.tier for a in info.value.attempts] == [Tier.TOP, Tier.MID]
    assert fake_ollama.requests_to("/api/chat") == []
    await router.aclose()


async def test_the_total_time_limit_bounds_a_whole_escalation(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_ollama.delay = 5.0
    router = make(fake_ollama, fake_anthropic, total_timeout=0.3)
    with pytest.raises(RoutingFailed, match="total time limit"):
        await router.route(SIMPLE)
    await router.aclose()


async def test_a_conversation_reaches_the_model_as_a_conversation(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    messages = [
        {"role": "user", "content": "we are migrating the billing service to postgres"},
        {"role": "assistant", "content": "ok, what is the plan?"},
        {"role": "user", "content": PAID},
    ]
    await router.route(messages)
    sent = fake_anthropic.message_requests()[0]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"].startswith("we are migrating") and sent[-1]["content"] == PAID


# ---- sticky sessions -----------------------------------------------------------------------
async def test_a_session_stays_on_its_paid_model_in_the_hard_window(
    pinned: OCPRouter, clock: Clock
) -> None:
    first = await pinned.route(HARD, session="s1")
    clock.now += 120
    second = await pinned.route(PAID, session="s1")  # would be mid on its own
    assert first.model == second.model == TOP
    assert second.decision.pin_state is PinState.HARD
    other = await pinned.route(PAID, session="s2")
    assert other.model == MID and other.decision.pin_state is PinState.FRESH


async def test_the_soft_window_climbs_for_a_harder_request_and_stays_otherwise(
    pinned: OCPRouter, clock: Clock
) -> None:
    await pinned.route(PAID, session="s")
    clock.now += 600  # soft window
    stay = await pinned.route(PAID, session="s")
    assert stay.model == MID and stay.decision.pin_state is PinState.SOFT
    clock.now += 600
    climb = await pinned.route(HARD, session="s")
    assert climb.model == TOP and climb.decision.pin_state is PinState.RELEASED


async def test_a_pin_expires_after_the_soft_window(pinned: OCPRouter, clock: Clock) -> None:
    await pinned.route(HARD, session="s")
    clock.now += 1801
    result = await pinned.route(PAID, session="s")
    assert result.model == MID and result.decision.pin_state is PinState.FRESH


async def test_a_forced_choice_and_an_error_both_break_the_pin(
    pinned: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    await pinned.route(HARD, session="s")
    forced = await pinned.route(PAID, session="s", force="mid")
    assert forced.model == MID and forced.decision.pin_state is PinState.FORCED
    # the forced mid answer re-pinned the session to mid; an error there drops the pin
    fake_anthropic.fail_next(529)
    failed_over = await pinned.route(PAID, session="s")
    assert failed_over.decision.model == MID and failed_over.model == TOP


async def test_local_answers_do_not_touch_the_paid_pin(pinned: OCPRouter) -> None:
    await pinned.route(HARD, session="s")
    local = await pinned.route(SIMPLE, session="s")
    assert local.tier is Tier.LOCAL
    again = await pinned.route(PAID, session="s")
    assert again.model == TOP and again.decision.pin_state is PinState.HARD


# ---- budgets -------------------------------------------------------------------------------
async def test_a_request_over_the_per_request_limit_goes_local_with_a_note(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    router = make(fake_ollama, fake_anthropic, budget=Budget(max_request_usd=0.0001))
    result = await router.route(HARD)
    assert result.tier is Tier.LOCAL and result.decision.tier is Tier.TOP
    assert any("Budget.max_request_usd" in n for n in result.notes)
    assert result.estimated_usd is not None and result.estimated_usd > 0.0001
    assert fake_anthropic.message_requests() == []
    await router.aclose()


async def test_the_daily_budget_counts_what_was_spent_today(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    ledger = MemoryLedger()
    router = make(fake_ollama, fake_anthropic, budget=Budget(daily_usd=0.2), ledger=ledger)
    first = await router.route(PAID)  # estimate: ~0.06 (4096 output tokens at $15/M)
    assert first.tier is Tier.MID and first.cost_usd
    assert await ledger.spent_today() == pytest.approx(first.cost_usd)
    await ledger.add(0.19)
    second = await router.route(PAID, session="other")
    assert second.tier is Tier.LOCAL
    assert any("Budget.daily_usd" in n for n in second.notes)
    await router.aclose()


async def test_the_memory_ledger_starts_over_each_day() -> None:
    days = iter([dt.date(2026, 11, 23)] * 3 + [dt.date(2026, 11, 24)] * 2)
    ledger = MemoryLedger(today=lambda: next(days))
    await ledger.add(1.5)
    assert await ledger.spent_today() == 1.5
    assert await ledger.spent_today() == 0.0


async def test_a_forced_paid_request_over_budget_fails_clearly_and_sends_nothing(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    router = make(fake_ollama, fake_anthropic, budget=Budget(max_request_usd=0.0001))
    with pytest.raises(BudgetExceeded, match="Budget.max_request_usd") as info:
        await router.route(SIMPLE, force="top")
    # A local model is configured and up: forced paid, it was not asked, and the message
    # says so (it said "No local model could answer instead (none is configured)").
    message = str(info.value)
    assert "none is configured" not in message and "No local model" not in message
    assert "forced to the top tier (top forced by caller): no other model was asked" in message
    assert fake_anthropic.message_requests() == []
    assert fake_ollama.requests_to("/api/chat") == []
    await router.aclose()


async def test_over_budget_with_local_down_is_a_clear_error(
    refused_url: str, fake_anthropic: FakeAnthropic
) -> None:
    router = OCPRouter(
        local=OllamaBackend(base_url=refused_url),
        paid=AnthropicBackend(MID, api_key="sk-ant-test", base_url=fake_anthropic.url),
        budget=Budget(daily_usd=0.0),
    )
    with pytest.raises(BudgetExceeded, match="Budget.daily_usd") as info:
        await router.route(HARD)
    assert "No local model could answer" in str(info.value)
    # Each budget reason once, and the local model's own failure: the message repeated every
    # budget reason in the list of failures after it.
    message = str(info.value)
    assert message.count(f"{MID} could add up to") == 1
    assert "(ollama llama3.2: cannot reach ollama" in message
    assert fake_anthropic.message_requests() == []
    await router.aclose()


async def test_a_model_without_a_price_is_kept_out_when_a_budget_is_set(
    fake_ollama: FakeOllama,
) -> None:
    from ocp_router import MockBackend

    router = OCPRouter(
        local=OllamaBackend(base_url=fake_ollama.url),
        paid=MockBackend(lambda r: "paid", model="private-model"),
        budget=Budget(daily_usd=5.0),
    )
    result = await router.route(HARD)
    assert result.tier is Tier.LOCAL
    assert any("no price is known for private-model" in n for n in result.notes)
    await router.aclose()


async def test_cost_and_counterfactual_come_from_real_usage(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    result = await router.route(PAID)
    assert result.cost_usd is not None and result.counterfactual_usd is not None
    # the same tokens on Opus ($5/$25) cost 5/3 of Sonnet ($3/$15)
    assert result.counterfactual_usd == pytest.approx(result.cost_usd * 5 / 3, rel=0.01)
    local = await router.route(SIMPLE)
    assert local.cost_usd == 0.0 and local.counterfactual_usd and local.counterfactual_usd > 0


async def test_tool_traffic_after_the_request_reaches_the_model_as_text(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    messages = [
        {"role": "user", "content": "why does the build fail?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": "t1", "name": "bash", "input": {"cmd": "make"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "exit 2"}],
        },
    ]
    await router.route(messages)
    sent = fake_anthropic.message_requests()[0]["messages"][-1]["content"]
    assert sent.startswith("why does the build fail?")
    assert "## Since this request" in sent and "assistant: Running it." in sent
    assert "1 tool calls" in sent and "1 tool results" in sent
