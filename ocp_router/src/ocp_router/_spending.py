"""The money side of a route: what a paid call may cost, whether the budgets let it go
out (reserving its estimate against the daily budget until it settles), and charging
what it cost to the ledger."""

from __future__ import annotations

import asyncio

from ocp_router._router_base import RouterBase, _Run
from ocp_router._tokens import estimate_tokens
from ocp_router.backends.base import GenerateRequest, GenerateResponse
from ocp_router.budget import usd, usd_limit
from ocp_router.results import Attempt, BudgetExceeded
from ocp_router.tiers import Tier


def _input_tokens(request: GenerateRequest) -> int:
    """A paid request's input tokens, counted as the router counts prompts."""
    return estimate_tokens(
        "".join(t.text for t in request.history) + (request.system or "") + request.prompt
    )


class Spending(RouterBase):
    """Estimates, budget checks and reservations, and charges of paid calls."""

    def estimate(self, model: str, request: GenerateRequest) -> float | None:
        """Upper bound of a paid call's cost: its input plus a full `max_tokens` answer."""
        price = self.price(model)
        if price is None:
            return None
        return price.cost(_input_tokens(request), request.max_tokens or 4096)

    @staticmethod
    def input_tokens(request: GenerateRequest) -> int:
        """A request's input tokens (system prompt, earlier turns and prompt), as the router
        counts them for its estimates."""
        return _input_tokens(request)

    def _skip(self, run: _Run, tier: Tier, model: str, why: str, kind: str | None) -> None:
        run.attempts.append(
            Attempt(tier, self._backend_label(tier), model, "skipped", 0.0, why, kind)
        )

    async def _paid_allowed(self, tier: Tier, request: GenerateRequest, run: _Run) -> float | None:
        """Whether this paid call may go out: the credentials have not failed already and
        the budgets allow its estimated cost. Returns the amount reserved against the daily
        budget (release it with `_release` once the call settles), or None with a skipped
        attempt recorded when the call may not go out."""
        model = request.model or self.mid_model or ""
        if run.paid_dead:
            self._skip(
                run, tier, model, "the paid credentials already failed on another model", None
            )
            return None
        estimate = self.estimate(model, request)
        if run.estimated_usd is None:
            run.estimated_usd = estimate
        budget = self.budget
        if not budget.active:
            return 0.0
        why = None
        if estimate is None:
            why = (
                f"no price is known for {model}, so the budget cannot be checked "
                f"({self.names.prices})."
            )
        elif budget.max_request_usd is not None and estimate > budget.max_request_usd:
            why = (
                f"{model} could cost up to {usd(estimate)} here, over "
                f"{self.names.max_request_usd}={usd_limit(budget.max_request_usd)}."
            )
        elif budget.daily_usd is not None:
            # Check and reserve in one step: routes running at once must not all see the room
            # that only one of them fits in.
            async with self._budget_lock:
                spent = await self.ledger.spent_today()
                if spent + self._reserved + estimate > budget.daily_usd:
                    in_flight = (
                        f" and {usd(self._reserved)} held by calls in flight"
                        if self._reserved
                        else ""
                    )
                    why = (
                        f"{usd(spent)} spent today{in_flight}; {model} could add up to "
                        f"{usd(estimate)}, over "
                        f"{self.names.daily_usd}={usd_limit(budget.daily_usd)}."
                    )
                else:
                    self._reserved += estimate
                    return estimate
        if why is None:
            return 0.0
        run.budget_blocked = True
        run.notes.append("budget: " + why)
        self._skip(run, tier, model, "budget: " + why, BudgetExceeded.__name__)
        return None

    async def _release(self, reserved: float) -> None:
        if reserved:
            # In a task of its own, which the caller's cancellation does not stop: a route
            # cancelled as anyio cancels (at every await until its scope ends) while another
            # route held the lock kept its reservation, and the budget shrank until a restart.
            release = asyncio.ensure_future(self._give_back(reserved))
            self._releasing.add(release)
            release.add_done_callback(self._releasing.discard)
            await asyncio.shield(release)

    async def _give_back(self, reserved: float) -> None:
        async with self._budget_lock:
            self._reserved = max(0.0, self._reserved - reserved)

    async def _charge(self, response: GenerateResponse, asked: str) -> float | None:
        """The cost of a paid answer, added to the ledger; None when no price is known."""
        price = self.price(response.model) or self.price(asked)
        cost = (
            price.cost(
                response.prompt_tokens,
                response.completion_tokens,
                response.cache_read_tokens,
                response.cache_write_tokens,
            )
            if price
            else None
        )
        if cost:
            await self.ledger.add(cost)
        return cost

    def _bill_cut(self, run: _Run, model: str) -> tuple[float | None, bool]:
        """A paid call cut short sends no usage, yet the provider bills the input it read and
        the output it sent: estimated as the router counts a prompt, plus the output tokens
        received (none: the paid backends do not stream, so this is a lower bound).
        (0, False) when no paid request was on the wire."""
        request, run.in_flight = run.in_flight, None
        if request is None:
            return 0.0, False
        price = self.price(request.model or model)
        return (price.cost(_input_tokens(request), 0) if price else None), True
