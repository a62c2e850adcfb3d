"""What a route ends with: the result (its cost with the failed attempts', the
counterfactual cost, the trace) or the failure that names what was tried."""

from __future__ import annotations

import time
from dataclasses import replace

from ocp_router._router_base import _backend_name, _Run, logger
from ocp_router._spending import Spending
from ocp_router.backends.base import GenerateResponse, ModelBackend
from ocp_router.redact_names import redact_name_head
from ocp_router.results import BudgetExceeded, Decision, RouteResult, RoutingFailed
from ocp_router.tiers import Tier


def images_note(count: int) -> str:
    """What a route says of the images and files in its conversation: the backends are sent
    text only, so no model saw them."""
    some = (
        "1 image or file in the conversation was"
        if count == 1
        else f"{count} images or files in the conversation were"
    )
    return f"{some} not sent: models are sent the conversation's text only"


class Outcomes(Spending):
    """The result of a route that was answered, and the error of one that was not."""

    def _nothing_configured(self, decision: Decision) -> str:
        if decision.tier.paid:
            paid, fallback = self.names.paid, self.names.paid_fallback
            return f"this request needs the paid tier and none is configured ({paid})" + (
                "." if decision.forced else f"; or {fallback}."
            )
        return "this request was forced local and no local model is configured."

    async def _result(
        self,
        response: GenerateResponse,
        tier: Tier,
        decision: Decision,
        backend: ModelBackend,
        started: float,
        trace_id: str,
        run: _Run,
    ) -> RouteResult:
        cost: float | None = 0.0
        model = response.model
        asked = run.attempts[-1].model if run.attempts else model  # the name as configured
        if tier.paid:
            cost = await self._charge(response, asked)
            run.attempts[-1] = replace(run.attempts[-1], cost_usd=cost)
            if decision.session:
                self.pins.pin(decision.session, asked, tier, response.prompt_tokens)
        failed = sum(a.cost_usd or 0.0 for a in run.attempts if a.outcome != "ok")
        if cost is not None:
            cost += failed  # what the route cost, paid attempts that did not answer included
        counter_model = self.counterfactual_model
        counter_price = self.price(counter_model) if counter_model else None
        counterfactual = (
            counter_price.cost(response.prompt_tokens, response.completion_tokens)
            if counter_price
            else None
        )
        duration = round((time.perf_counter() - started) * 1000, 3)
        logger.info(
            "route %s: %s -> %s/%s (%s, %s) %d+%d tokens in %.0f ms",
            trace_id[:8],
            decision.tier,
            tier,
            model,
            decision.phase,
            redact_name_head(decision.reason, 80),
            response.prompt_tokens,
            response.completion_tokens,
            duration,
        )
        return RouteResult(
            text=response.text,
            tier=tier,
            decision=decision,
            model=model,
            backend=_backend_name(backend),
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            duration_ms=duration,
            trace_id=trace_id,
            cost_usd=cost,
            estimated_usd=run.estimated_usd,
            counterfactual_usd=counterfactual,
            attempts=tuple(run.attempts),
            stop_reason=response.stop_reason,
            cache_read_tokens=response.cache_read_tokens,
            notes=tuple(run.notes),
            paid=run.paid,
            thinking=response.thinking,
            reasoning_tokens=response.reasoning_tokens,
        )

    def _failure(self, decision: Decision, run: _Run, trace_id: str) -> RoutingFailed:
        """The error of a route no model answered: what each attempt said, or the budget's
        reasons when a budget stopped it."""
        summary = (
            "; ".join(f"{a.backend} {a.model}: {a.error}" for a in run.attempts if a.error)
            or "nothing was tried"
        )
        if run.budget_blocked:
            # The budget's reasons are in the notes: the list after them is what else failed.
            others = "; ".join(
                f"{a.backend} {a.model}: {a.error}"
                for a in run.attempts
                if a.error and a.error_type != BudgetExceeded.__name__
            )
            instead = (
                f"The route was forced to the {decision.tier} tier ({decision.reason}): no "
                "other model was asked."
                if decision.forced
                else f"No local model could answer instead ({others or 'none is configured'})."
            )
            return BudgetExceeded(
                f"{' '.join(run.notes)} {instead}",
                tuple(run.attempts),
                trace_id,
                tuple(run.notes),
                run.paid,
            )
        return RoutingFailed(
            f"no model could answer ({summary})",
            tuple(run.attempts),
            trace_id,
            tuple(run.notes),
            run.paid,
        )
