"""OCPRouter, Budget and MockBackend used directly from Python: a value they cannot use is a
ConfigError naming the argument when it is given, not a puzzle at the first route."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ocp_router import (
    Budget,
    ConfigError,
    GenerateRequest,
    MockBackend,
    OCPRouter,
    OllamaBackend,
    OpenAIBackend,
    RoutingFailed,
    Tier,
)


def _router(**kw: Any) -> OCPRouter:
    return OCPRouter(local=MockBackend(lambda req: "ok"), paid=None, **kw)


@pytest.mark.parametrize(
    ("argument", "value", "accepted"),
    [
        ("mode", "bogus", "auto, local, paid"),
        ("paid_fallback", "agent", "local, error"),
        ("sticky", "up", "off, upward"),
    ],
)
def test_a_choice_it_does_not_have_names_the_argument_and_its_choices(
    argument: str, value: str, accepted: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _router(**{argument: value})
    assert str(caught.value) == f"{argument} must be one of {accepted}; got {value!r}"


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf])
def test_a_total_timeout_no_route_could_meet_is_refused(value: float) -> None:
    # Accepted, every route failed with "the router's total time limit ... ran out while
    # deciding" (0, negative, nan) or waited for ever on a stuck model (inf).
    with pytest.raises(ConfigError, match="total_timeout must be a number of seconds > 0"):
        _router(total_timeout=value)


@pytest.mark.parametrize(
    ("argument", "value"),
    [("top_threshold", 1.5), ("top_threshold", math.nan), ("ambiguous_margin", -0.1)],
)
def test_thresholds_outside_their_range_are_refused(argument: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"^{argument} must be"):
        _router(**{argument: value})


@pytest.mark.parametrize("argument", ["local_max_tokens", "paid_max_tokens"])
def test_max_tokens_must_be_positive(argument: str) -> None:
    with pytest.raises(ConfigError, match=f"^{argument} must be"):
        _router(**{argument: 0})


@pytest.mark.parametrize(
    ("argument", "value"), [("daily_usd", -1.0), ("max_request_usd", math.nan)]
)
def test_a_budget_below_zero_or_not_a_number_is_refused(argument: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"^{argument} must be"):
        Budget(**{argument: value})


def test_a_zero_budget_is_a_budget_and_none_is_no_limit() -> None:
    assert Budget(0.0, None).active and not Budget().active


async def test_a_mock_handler_that_returns_no_text_is_named_as_the_fault() -> None:
    router = OCPRouter(local=MockBackend(lambda req: None), paid=None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RoutingFailed) as caught:
        await router.route("hi")
    assert "the handler returned NoneType" in str(caught.value)
    assert "returned GenerateResponse" not in str(caught.value)


def test_a_mock_given_its_answer_instead_of_a_function_is_refused_with_the_fix() -> None:
    # MockBackend("a fixed answer") was taken; every route then failed with "'str' object is
    # not callable", as an attempt's error.
    with pytest.raises(TypeError) as caught:
        MockBackend("a fixed answer")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "handler must be a function of the request, got str; for a fixed answer: "
        "MockBackend(lambda request: 'a fixed answer')"
    )


async def test_a_mock_handler_may_return_text_or_a_response() -> None:
    backend = MockBackend(lambda req: "plain", model="m")
    assert (await backend.generate(GenerateRequest("hi"))).text == "plain"


@pytest.mark.parametrize("backend", [OllamaBackend, OpenAIBackend])
def test_a_base_url_without_its_scheme_is_refused_where_it_is_given(
    backend: type[OllamaBackend | OpenAIBackend],
) -> None:
    # Taken, the first route said the server "broke the connection ... it may have crashed
    # or run out of memory": the URL was the fault.
    with pytest.raises(ConfigError, match=r"^base_url must start with http:// or https://"):
        backend("m", base_url="localhost:11434")


@pytest.mark.parametrize("backend", [OllamaBackend, OpenAIBackend])
@pytest.mark.parametrize("value", [0, -5.0, math.nan])
def test_a_backend_timeout_must_be_positive(
    backend: type[OllamaBackend | OpenAIBackend], value: float
) -> None:
    with pytest.raises(ConfigError, match="^timeout must be a number of seconds > 0"):
        backend("m", timeout=value)


def test_a_refused_base_url_does_not_show_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        OllamaBackend("m", base_url="admin:hunter2@gpu-box:11434")
    assert "hunter2" not in str(caught.value) and "gpu-box:11434" in str(caught.value)


async def test_a_request_that_needed_the_paid_tier_and_had_none_says_so() -> None:
    # With no paid backend (no key), a hard request is answered by the local model (the
    # default paid_fallback); the result said nothing of it but a decided model "none".
    router = _router()
    result = await router.route("refactor the auth module across all files")
    assert result.decision.tier.paid and result.tier is Tier.LOCAL
    assert any("no paid backend is configured" in note for note in result.notes)
    simple = await router.route("explain this function")
    assert simple.notes == ()
