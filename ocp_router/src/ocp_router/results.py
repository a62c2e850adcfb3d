"""What routing decides and returns: the decision, each backend attempt, the answer with its
trace facts, and the failure when nothing could answer."""

from __future__ import annotations

from dataclasses import dataclass

from ocp_router.boundary import PaidPrompt
from ocp_router.classifier import ClassifyResult
from ocp_router.errors import RouterError
from ocp_router.phase1 import Assessment
from ocp_router.phase2 import Verdict
from ocp_router.pins import PinState
from ocp_router.tiers import Phase, Route, Tier

__all__ = ["Attempt", "BudgetExceeded", "Decision", "RouteResult", "RoutingFailed"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One backend tried: `outcome` is ok, error, empty (a blank answer), skipped or cancelled
    (the caller gave up while it was answering).

    `cost_usd` is what the provider bills for it: from the usage it reported, or, for a paid
    call cut short (cancelled, timed out), an estimate (`cost_estimated`) of the input it had
    read plus the output received before the cut. 0 when nothing is billed; None when the
    model has no known price."""

    tier: Tier
    backend: str
    model: str
    outcome: str
    duration_ms: float
    error: str | None = None
    error_type: str | None = None
    cost_usd: float | None = 0.0
    cost_estimated: bool = False


def _failed_cost(attempts: tuple[Attempt, ...] | list[Attempt]) -> float:
    """What the attempts that produced no answer were billed (empty answers, calls cut
    short): spend the route paid for without getting its answer from it."""
    return sum(a.cost_usd or 0.0 for a in attempts if a.outcome != "ok")


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a request goes first, and why."""

    tier: Tier
    model: str
    phase: Phase
    reason: str
    forced: bool
    assessment: Assessment
    verdict: Verdict | None = None
    pin_state: PinState = PinState.NONE
    session: str | None = None

    @property
    def route(self) -> Route:
        return Route.PAID if self.tier.paid else Route.LOCAL


@dataclass(frozen=True, slots=True)
class RouteResult:
    """The answer and the full trace of how it was reached.

    `tier` answered; `decision.tier` was tried first. They differ exactly when the request
    escalated (a higher tier answered) or fell back (a lower or sideways one did).
    """

    text: str
    tier: Tier
    decision: Decision
    model: str
    backend: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    trace_id: str
    cost_usd: float | None  # all it was billed, failed attempts too; None: no known price
    estimated_usd: float | None  # the upper bound computed before the first paid call
    counterfactual_usd: float | None  # the same tokens on the top model
    attempts: tuple[Attempt, ...]
    stop_reason: str | None = None
    cache_read_tokens: int = 0
    notes: tuple[str, ...] = ()
    paid: PaidPrompt | None = None  # what a paid tier was sent (built only if one was tried)
    thinking: str = ""  # a thinking model's reasoning, apart from `text`
    reasoning_tokens: int = 0  # of completion_tokens, the thinking's

    @property
    def route_to(self) -> Route:
        return Route.PAID if self.tier.paid else Route.LOCAL

    @property
    def failed_cost_usd(self) -> float:
        """Of `cost_usd`, what attempts that did not answer were billed."""
        return _failed_cost(self.attempts)

    @property
    def answer_cost_usd(self) -> float | None:
        """Of `cost_usd`, what the answer itself cost (0 for a local one; None: no known price)."""
        return next((a.cost_usd for a in reversed(self.attempts) if a.outcome == "ok"), 0.0)

    @property
    def cost_estimated(self) -> bool:
        """Part of `cost_usd` is an estimate: a paid call was cut short before its usage came."""
        return any(a.cost_estimated for a in self.attempts)

    @property
    def classify(self) -> ClassifyResult:
        return self.decision.assessment.classify

    @property
    def decided_by(self) -> str:
        return self.decision.reason

    @property
    def answered_model(self) -> str:
        """The model that answered, by the name it was asked for (`model` is the name the
        provider answered with: often a dated version of the alias configured)."""
        return next((a.model for a in reversed(self.attempts) if a.outcome == "ok"), self.model)

    @property
    def fell_back(self) -> bool:
        return self.answered_model != self.decision.model or self.tier is not self.decision.tier

    @property
    def escalated(self) -> bool:
        return self.tier.rank > self.decision.tier.rank


class RoutingFailed(RouterError):
    """No tier could answer. `attempts` lists what was tried and why each failed."""

    def __init__(
        self,
        message: str,
        attempts: tuple[Attempt, ...],
        trace_id: str,
        notes: tuple[str, ...] = (),
        paid: PaidPrompt | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.trace_id = trace_id
        self.notes = notes
        self.paid = paid

    @property
    def spent_usd(self) -> float:
        """What the attempts were billed though none answered (estimated where cut short)."""
        return _failed_cost(self.attempts)

    @property
    def cost_estimated(self) -> bool:
        return any(a.cost_estimated for a in self.attempts)


class BudgetExceeded(RoutingFailed):
    """A paid call would break OCP_DAILY_BUDGET_USD or OCP_MAX_REQUEST_USD and nothing else
    could answer."""
