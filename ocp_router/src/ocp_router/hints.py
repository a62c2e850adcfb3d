"""What OCPRouter's messages tell the user to change, named where the user sets it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROUTER_ARGUMENTS", "ROUTER_SETTINGS", "RouterNames"]


@dataclass(frozen=True, slots=True)
class RouterNames:
    """By default OCPRouter's own arguments (a library user built it); make_router, which
    reads the settings, names those (`OCP_ROUTE_MODE`), as the server's messages always have.
    `paid` and `paid_fallback` are what to do, the rest what a value is called."""

    mode: str = "mode"  # decided_by reads "mode=paid"
    paid: str = "pass OCPRouter a `paid` backend"
    paid_fallback: str = "pass paid_fallback='local'"
    prices: str = "the `prices` argument"
    daily_usd: str = "Budget.daily_usd"
    max_request_usd: str = "Budget.max_request_usd"
    context_chars: str = "LocalProfile.context_chars"
    top_model: str = "the `top_model` argument"
    total_timeout: str = "the `total_timeout` argument"


ROUTER_ARGUMENTS = RouterNames()

ROUTER_SETTINGS = RouterNames(
    mode="OCP_ROUTE_MODE",
    paid=(
        "set ANTHROPIC_API_KEY, or OCP_PAID_BACKEND=openai with OPENAI_API_KEY and OCP_PAID_MODEL"
    ),
    paid_fallback="set OCP_PAID_FALLBACK=local",
    prices="OCP_PRICES",
    daily_usd="OCP_DAILY_BUDGET_USD",
    max_request_usd="OCP_MAX_REQUEST_USD",
    context_chars="OCP_LOCAL_CONTEXT_CHAR_LIMIT",
    top_model="OCP_PAID_TOP_MODEL",
    total_timeout="OCP_ROUTE_TIMEOUT",
)
