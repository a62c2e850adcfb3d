"""One route's facts, as one frozen value: built once where the route happens
(`AppState.route`), then read by every view of it.

    RouteRecord.of_route(...)  the router's Decision, RouteResult / RoutingFailed and the paid
                               prompt, folded into one record (meaning such as `fell_back` is
                               derived here and nowhere else)
    record.trace()             the wire view: `wire.RouteTrace`, field by field by name
    TraceRow.of(record, ...)   the trace store's view: one row of `traces` (trace_store.py)

Adding a trace field: add it here (and to `of_route`), then to the views that show it: a
field of `wire.RouteTrace` of the same name is filled in by itself; a column of `traces` of
the same name needs a `TraceRow` field and a migration; the savings report reads columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

import ocp_wire as wire
from ocp_router import (
    Attempt,
    Band,
    Decision,
    Effort,
    GenerateRequest,
    OCPRouter,
    PaidPrompt,
    Phase,
    PinState,
    Route,
    RouteResult,
    RoutingFailed,
    Tier,
)

__all__ = ["Answerer", "Phase2Record", "RouteRecord"]

# An attempt's error_type when its backend could not be reached (ocp_router.errors).
UNAVAILABLE = "BackendUnavailable"
# Who answered: a tier's side, the calling agent (no paid backend), or nobody.
Answerer = Literal["local", "paid", "agent", "none"]
# What the store keeps of a trace's request (it is redacted first).
REQUEST_CHARS = 2000

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Phase2Record:
    """Phase 2's verdict, when it ran: a tier, why, how long, and whether it fell back."""

    tier: Tier
    reason: str
    duration_ms: float
    fallback: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRecord:
    """Everything one route decided and did. `route_to` is who answered; `request` is the
    user's turn as the router read it (unredacted: the store redacts what it keeps)."""

    trace_id: str
    request: str
    decision: Route
    tier: Tier
    answered_tier: Tier | None
    decided_by: str
    phase: Phase
    forced: bool
    band: Band
    band_confidence: float
    reasons: tuple[str, ...]
    phase2: Phase2Record | None
    pin_state: PinState
    route_to: Answerer
    escalated: bool  # climbed after a tier was reached and failed
    local_unavailable: bool  # climbed only because the local model could not be reached
    fell_back: bool
    complexity_score: float
    raw_score: float | None  # phase 1's score before the workspace's calibration shifted it
    # The local model (and endpoint) the route was decided against: what its outcome teaches.
    local_model: str | None = None
    session: str | None  # the conversation the route belongs to (pins, floors)
    threshold: float
    confidence: float
    task_type: str
    signals: tuple[str, ...]
    turns: int
    context_chars: int
    model: str | None
    backend: str | None
    effort: Effort | None = None  # the thinking the caller asked; the notes say what was sent
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0  # of completion_tokens, a thinking model's reasoning
    duration_ms: float
    estimated_cost_usd: float | None
    cost_usd: float | None  # all the route was billed: answer_cost_usd + failed_cost_usd
    answer_cost_usd: float | None  # what the answer cost (0: local, or nothing answered)
    failed_cost_usd: float  # paid attempts that produced no answer (empty, cut short)
    cost_estimated: bool  # part of cost_usd is an estimate: a paid call was cut short
    counterfactual_usd: float | None
    counterfactual_model: str | None
    attempts: tuple[Attempt, ...]
    notes: tuple[str, ...]
    context_citations: tuple[str, ...]
    context_tokens: int
    redactions: Mapping[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @classmethod
    def of_route(
        cls,
        router: OCPRouter,
        decision: Decision,
        *,
        result: RouteResult | None,
        failure: RoutingFailed | None,
        sent: PaidPrompt | None,
        route_to: Answerer,
        request: str,
        dry_run: bool,
        effort: Effort | None = None,
    ) -> RouteRecord:
        """The record of a route that answered (`result`), failed (`failure`), or was handed
        back or only planned (neither); `sent` is the paid prompt sent or shown."""
        a = decision.assessment
        c = a.classify
        verdict = decision.verdict
        attempts = result.attempts if result else failure.attempts if failure else ()
        estimate = result.estimated_usd if result else None
        # What a paid tier is (or was to be) sent: the system prompt and earlier turns too.
        planned = (
            router.paid_request(sent)
            if sent is not None
            else GenerateRequest(request, max_tokens=router.paid_max_tokens)
        )
        if result is None and decision.tier.paid:
            estimate = router.estimate(decision.model, planned)
        context = sent.context if sent is not None else None
        # Billed without an answer to show for it: empty answers, calls cut short.
        failed = result.failed_cost_usd if result else failure.spent_usd if failure else 0.0
        climbed = bool(result and result.escalated) or bool(failure and route_to == "agent")
        unreachable = local_unreachable(decision.tier, attempts, route_to)
        return cls(
            trace_id=result.trace_id if result else failure.trace_id if failure else _new_id(),
            request=request,
            decision=decision.route,
            tier=decision.tier,
            answered_tier=result.tier if result else None,
            decided_by=decision.reason,
            phase=decision.phase,
            forced=decision.forced,
            band=a.band,
            band_confidence=a.confidence,
            reasons=(*a.forced, *(str(s) for s in a.signals)),
            phase2=(
                Phase2Record(verdict.tier, verdict.reason, verdict.duration_ms, verdict.fallback)
                if verdict
                else None
            ),
            pin_state=decision.pin_state,
            route_to=route_to,
            # A failed local tier handed back to the agent (no paid key) climbed too; one that
            # could not be reached did not fail an answer (local_unavailable).
            escalated=climbed and not unreachable,
            local_unavailable=unreachable,
            fell_back=bool(result and result.fell_back and not result.escalated),
            complexity_score=c.complexity_score,
            raw_score=a.raw_score,
            local_model=router.calibration_key if router.local is not None else None,
            session=decision.session,
            threshold=c.threshold,
            confidence=c.confidence,
            task_type=c.task_type.value,
            signals=tuple(str(s) for s in c.signals if s.weight),
            turns=a.turns,
            context_chars=a.total_chars,
            # Handed back: the agent answers and no model of OCP's did (a failed local model
            # is in the attempts), labelled as route_to and answered_by label it.
            model=result.model if result else "agent" if route_to == "agent" else decision.model,
            backend=result.backend if result else None,
            effort=effort,
            prompt_tokens=result.prompt_tokens if result else router.input_tokens(planned),
            completion_tokens=result.completion_tokens if result else 0,
            reasoning_tokens=result.reasoning_tokens if result else 0,
            duration_ms=result.duration_ms if result else 0.0,
            estimated_cost_usd=estimate,
            cost_usd=result.cost_usd if result else failed,
            answer_cost_usd=result.answer_cost_usd if result else 0.0,
            failed_cost_usd=failed,
            cost_estimated=any(a.cost_estimated for a in attempts),
            counterfactual_usd=result.counterfactual_usd if result else None,
            counterfactual_model=router.counterfactual_model,
            attempts=tuple(attempts),
            notes=tuple(result.notes if result else failure.notes if failure else ()),
            context_citations=tuple(context.citations if context else ()),
            context_tokens=context.context_tokens if context else 0,
            redactions=dict(sent.redactions if sent else {}),
            dry_run=dry_run,
        )

    # ---- derived facts, for the views --------------------------------------------------
    @property
    def answered_by(self) -> str | None:
        """Who produced the answer; None when nothing could (an error trace) or on a dry
        run of a local route."""
        return self.route_to if self.route_to != "none" else None

    @property
    def budget_note(self) -> str | None:
        return next((n for n in self.notes if n.startswith("budget")), None)

    @property
    def phase2_kind(self) -> str | None:
        """How phase 2 decided: cache, llm, fallback (phase 1's guess stood), or None."""
        if self.phase is Phase.CACHE:
            return "cache"
        if self.phase2 is None:
            return None
        return "fallback" if self.phase2.fallback else "llm"

    # ---- the wire view -----------------------------------------------------------------
    def trace(self) -> wire.RouteTrace:
        """The trace as the tool returns it: every `wire.RouteTrace` field, by name."""
        return _view(
            wire.RouteTrace,
            self,
            attempts=lambda attempts: [_view(wire.AttemptOut, t) for t in attempts],
            phase2=lambda p: _view(wire.Phase2Out, p) if p is not None else None,
        )


def local_unreachable(
    decided: Tier, attempts: tuple[Attempt, ...] | list[Attempt], route_to: str
) -> bool:
    """Whether a route decided local went to a paid tier or the agent only because the local
    model could not be reached: every local attempt failed as unavailable (no server
    listening, the model not pulled). Not an escalation: no local answer was judged."""
    tried = [a for a in attempts if a.tier is Tier.LOCAL and a.outcome != "skipped"]
    return (
        decided is Tier.LOCAL
        and route_to in ("paid", "agent")
        and bool(tried)
        and all(a.outcome == "error" and a.error_type == UNAVAILABLE for a in tried)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _view(model: type[_M], source: object, **nested: Callable[[Any], Any]) -> _M:
    """`model` filled from `source`'s attributes of the same names (validated: a view that
    asks for a fact the record lacks fails loudly, in every test)."""
    values = {
        name: nested[name](getattr(source, name))
        if name in nested
        else _plain(getattr(source, name))
        for name in model.model_fields
    }
    return model.model_validate(values)


def _new_id() -> str:
    return uuid.uuid4().hex
