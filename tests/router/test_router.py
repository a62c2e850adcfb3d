"""OCPRouter: dispatch, forcing, fallback and the trace, over real HTTP to fake servers.

Tiers, escalation, pins and budgets have their own file (test_tiers.py)."""

from __future__ import annotations

import pytest

from ocp_router import (
    GenerateRequest,
    MockBackend,
    OCPRouter,
    OllamaBackend,
    PaidFallback,
    Route,
    RouteMode,
    RoutingFailed,
    Tier,
    parse_payload,
)
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.errors import ConfigError
from tests.fakes import FakeAnthropic, FakeOllama


async def test_simple_request_goes_raw_to_the_local_model(
    router: OCPRouter, fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    result = await router.route("explain the auth middleware")
    assert result.route_to is Route.LOCAL and result.decision.tier is Tier.LOCAL
    assert result.text == "local answer: explain the auth middleware"
    assert result.model == "llama3.2:latest"
    assert result.cost_usd == 0.0
    assert [(a.tier, a.outcome) for a in result.attempts] == [(Tier.LOCAL, "ok")]
    assert fake_ollama.requests_to("/api/chat")[0].body["messages"][-1]["content"] == (
        "explain the auth middleware"
    )
    assert fake_anthropic.message_requests() == []


async def test_complex_request_goes_to_paid_with_cost_and_trace(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    result = await router.route("refactor auth across all files")
    assert result.route_to is Route.PAID and result.text == "paid answer"
    assert result.classify.complexity_score == pytest.approx(0.8, abs=0.05)
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert result.cost_usd is not None and result.cost_usd > 0
    assert result.estimated_usd is not None and result.estimated_usd >= result.cost_usd
    assert len(result.trace_id) == 32
    assert result.duration_ms > 0


async def test_paid_tier_receives_the_paid_prompt_and_local_the_raw_one(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    await router.route("refactor auth across all files", paid_prompt="CONTEXT...\nrefactor auth")
    sent = fake_anthropic.message_requests()[0]["messages"][0]["content"]
    assert sent == "CONTEXT...\nrefactor auth"


async def test_force_overrides_the_classifier_and_is_marked(router: OCPRouter) -> None:
    result = await router.route("refactor auth across all files", force="local")
    assert result.route_to is Route.LOCAL and result.decided_by == "local forced by caller"
    assert result.decision.forced and result.decision.phase == "explicit"


async def test_a_forced_model_holding_a_token_is_refused_before_any_call() -> None:
    sent: list[GenerateRequest] = []

    def answer(request: GenerateRequest) -> str:
        sent.append(request)
        return "paid"

    paid = MockBackend(answer, model="claude-sonnet-4-6")
    router = OCPRouter(local=MockBackend(lambda r: "local", model="llama3.2"), paid=paid)
    for model in ("claude-ghp_" + "Xk29dLq7" * 4 + "Ab3Z", "llamaAKIA" + "QW7B3PDKHX4PY8GP"):
        with pytest.raises(ConfigError, match="`model`: .*secret") as refused:
            await router.route("explain this function", model=model)
        assert model not in str(refused.value)
    assert sent == []
    await router.aclose()


@pytest.mark.parametrize("named", ["Llama3.2", "LLAMA3.2:Latest"])
async def test_the_local_model_named_in_another_case_stays_local(named: str) -> None:
    # Ollama looks a name up ignoring its case (ollama-api.md §1: getExistingName): the
    # local model under another case is no paid model's name, and the request stays here.
    paid = MockBackend(lambda r: "paid", model="claude-sonnet-4-6")
    router = OCPRouter(local=OllamaBackend("llama3.2"), paid=paid)
    decision = await router.plan(parse_payload("explain this function"), model=named)
    assert decision.tier is Tier.LOCAL and decision.forced
    await router.aclose()


async def test_route_mode_forces_every_request(fake_ollama: FakeOllama) -> None:
    paid = MockBackend(lambda r: "paid", model="claude-sonnet-4-6")
    router = OCPRouter(
        local=OllamaBackend(base_url=fake_ollama.url), paid=paid, mode=RouteMode.PAID
    )
    result = await router.route("explain this function")
    assert result.route_to is Route.PAID and result.decided_by == "mode=paid"
    await router.aclose()


@pytest.mark.usefixtures("ollama_installed")
async def test_local_down_falls_back_to_paid_and_the_trace_shows_it(
    refused_url: str, fake_anthropic: FakeAnthropic
) -> None:
    router = OCPRouter(
        local=OllamaBackend(base_url=refused_url),
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0),
    )
    result = await router.route("explain this function")
    assert result.decision.tier is Tier.LOCAL and result.route_to is Route.PAID
    assert result.fell_back and result.escalated
    first, second = result.attempts
    assert (first.tier, first.outcome, first.error_type) == (
        Tier.LOCAL,
        "error",
        "BackendUnavailable",
    )
    assert "ollama serve" in (first.error or "")
    assert (second.tier, second.outcome) == (Tier.MID, "ok")
    await router.aclose()


async def test_paid_failing_falls_back_to_local_when_policy_allows(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.fail_next(529)
    router = OCPRouter(
        local=OllamaBackend(base_url=fake_ollama.url),
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0),
    )
    result = await router.route("design the payment architecture")
    assert result.route_to is Route.LOCAL
    assert [a.error_type for a in result.attempts] == ["BackendRateLimited", None]
    await router.aclose()


async def test_paid_failing_is_an_error_with_every_attempt_when_policy_says_so(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.fail_next(401)
    router = OCPRouter(
        local=OllamaBackend(base_url=fake_ollama.url),
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0),
        paid_fallback=PaidFallback.ERROR,
    )
    with pytest.raises(
        RoutingFailed, match=r"rejected the key \(401\)\. Set the `api_key` argument"
    ) as info:
        await router.route("design the payment architecture")
    assert [a.error_type for a in info.value.attempts] == ["BackendAuthError"]
    await router.aclose()


async def test_no_paid_backend_and_no_fallback_says_how_to_configure_one(
    fake_ollama: FakeOllama,
) -> None:
    router = OCPRouter(
        local=OllamaBackend(base_url=fake_ollama.url), paid=None, paid_fallback=PaidFallback.ERROR
    )
    with pytest.raises(RoutingFailed, match="pass OCPRouter a `paid` backend"):
        await router.route("design the payment architecture")
    await router.aclose()


async def test_nothing_hangs_past_the_total_timeout(fake_ollama: FakeOllama) -> None:
    fake_ollama.delay = 5.0
    router = OCPRouter(
        local=OllamaBackend(base_url=fake_ollama.url, timeout=30), paid=None, total_timeout=0.3
    )
    with pytest.raises(RoutingFailed, match="total time limit") as info:
        await router.route("explain this")
    assert info.value.attempts[-1].error_type == "BackendTimeout"
    await router.aclose()


async def test_mock_backend_accepts_sync_and_async_handlers() -> None:
    async def shout(req: GenerateRequest) -> str:
        return req.prompt.upper()

    router = OCPRouter(local=MockBackend(shout), paid=MockBackend(lambda r: "deep", model="x"))
    assert (await router.route("explain this function")).text == "EXPLAIN THIS FUNCTION"
    assert (await router.route("refactor auth across all files")).text == "deep"


async def test_unknown_paid_model_has_no_invented_price() -> None:
    router = OCPRouter(local=None, paid=MockBackend(lambda r: "ok", model="my-private-model"))
    result = await router.route("design the payment architecture")
    assert result.cost_usd is None and result.estimated_usd is None


async def test_invalid_force_value_names_the_accepted_values() -> None:
    router = OCPRouter(local=MockBackend(lambda r: "x"), paid=None)
    with pytest.raises(ValueError, match="local, mid, top, paid"):
        await router.route("hi", force="cloud")
