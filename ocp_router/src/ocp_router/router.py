"""OCPRouter: decide a tier for a whole agent payload, dispatch it, escalate when a tier fails,
respect budgets, and trace it all.

    plan()     phase 1 on the payload; phase 2 for the ambiguous band; forced choices; pins
    execute()  try the plan's chain: local -> mid -> top on failure, across paid models on a
               rate limit, within budgets and one total time limit
    route()    both

Nothing bound for a paid provider leaves unredacted (`boundary.py`): the paid request is built,
with the caller's context and secrets redacted, at the first paid attempt of a route.

Over 600 lines on purpose: this is one class whose plan and dispatch steps share the backends,
budgets, pins and one route's running state; its values live in results.py and budget.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ocp_router import _arguments as arguments
from ocp_router._tokens import CHARS_PER_TOKEN, estimate_tokens
from ocp_router.backends.base import GenerateRequest, GenerateResponse, ModelBackend
from ocp_router.boundary import ContextProvider, PaidPrompt, build_paid_prompt, with_since
from ocp_router.budget import Budget, MemoryLedger, SpendLedger, usd, usd_limit
from ocp_router.calibration import Calibration
from ocp_router.classifier import TaskClassifier
from ocp_router.closing import ClosesOnExit
from ocp_router.errors import (
    BackendAuthError,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
)
from ocp_router.hints import ROUTER_ARGUMENTS, RouterNames
from ocp_router.payload import AgentPayload, parse_payload, require_request
from ocp_router.phase1 import Assessment, LocalProfile, assess
from ocp_router.phase2 import LLMClassifier, Verdict
from ocp_router.pins import PinState, SessionPins
from ocp_router.prices import Price, price_for
from ocp_router.redact_names import name_holds_secret, redact_name_head
from ocp_router.results import Attempt, BudgetExceeded, Decision, RouteResult, RoutingFailed
from ocp_router.sticky import Sticky, TierFloors
from ocp_router.tiers import Phase, Route, Tier

logger = logging.getLogger(__name__)

# The values routing returns live in results.py and budget.py; they are importable from here
# too (the dispatch loop's public names).
__all__ = [
    "Attempt",
    "Budget",
    "BudgetExceeded",
    "Decision",
    "MemoryLedger",
    "OCPRouter",
    "PaidFallback",
    "RouteMode",
    "RouteResult",
    "RoutingFailed",
    "SpendLedger",
]


class RouteMode(StrEnum):
    """`auto` decides per request; `local` and `paid` force every request to one tier."""

    AUTO = "auto"
    LOCAL = "local"
    PAID = "paid"


class PaidFallback(StrEnum):
    """What to do when a request needs the paid tier and it is missing or failing."""

    LOCAL = "local"
    ERROR = "error"


def _backend_name(backend: ModelBackend) -> str:
    return str(getattr(backend, "name", type(backend).__name__))


def images_note(count: int) -> str:
    """What a route says of the images and files in its conversation: the backends are sent
    text only, so no model saw them."""
    some = (
        "1 image or file in the conversation was"
        if count == 1
        else f"{count} images or files in the conversation were"
    )
    return f"{some} not sent: models are sent the conversation's text only"


def session_key(payload: AgentPayload) -> str:
    """A session id for callers that give none: the hash of the first user message."""
    first = next((m.text for m in payload.messages if m.role == "user"), "")
    return hashlib.sha1(first.encode(), usedforsecurity=False).hexdigest()


# Paid errors the other paid model may not share: worth one more try across models.
_RETRY_ACROSS: tuple[type[BackendError], ...] = (
    BackendRateLimited,
    BackendTimeout,
    BackendUnavailable,
)
# A payload this large is parsed and judged in a worker thread, so that a huge request does
# not hold up other calls on the event loop (the server's tools use the same bound).
OFF_LOOP_CHARS = 50_000


@dataclass(slots=True)
class _Run:
    """The mutable state of one execution."""

    attempts: list[Attempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    estimated_usd: float | None = None
    budget_blocked: bool = False
    paid_dead: bool = False  # the paid credentials themselves failed: skip the other model
    paid: PaidPrompt | None = None  # built at the first paid attempt
    # The paid request on the wire right now: what a cut (cancel, time limit) is billed for.
    in_flight: GenerateRequest | None = None


class OCPRouter(ClosesOnExit):
    """Routes payloads between a local model and two paid models. Either backend may be None.

    `redact_paid` (on by default) redacts secrets in everything sent to a paid model.
    `async with router:` (or `await router.aclose()`) closes the backends' connections."""

    def __init__(
        self,
        *,
        local: ModelBackend | None,
        paid: ModelBackend | None,
        classifier: TaskClassifier | None = None,
        mode: RouteMode = RouteMode.AUTO,
        paid_fallback: PaidFallback = PaidFallback.LOCAL,
        local_max_tokens: int | None = None,
        paid_max_tokens: int | None = None,
        total_timeout: float = 300.0,
        prices: dict[str, Price] | None = None,
        top_model: str | None = None,
        top_threshold: float = 0.8,
        ambiguous_margin: float = 0.25,
        local_profile: LocalProfile | None = None,
        phase2: LLMClassifier | None = None,
        budget: Budget | None = None,
        ledger: SpendLedger | None = None,
        pins: SessionPins | None = None,
        counterfactual_model: str | None = None,
        redact_paid: bool = True,
        sticky: Sticky = Sticky.OFF,
        names: RouterNames = ROUTER_ARGUMENTS,
    ) -> None:
        """`names`: what messages and traces tell the user to change (by default these
        arguments; make_router names the settings)."""
        if local is None and paid is None:
            raise ConfigError("OCPRouter needs at least one backend (local or paid)")
        self.local = local
        self.paid = paid
        self.classifier = classifier or TaskClassifier()
        self.mode = arguments.choice("mode", mode, RouteMode)
        self.paid_fallback = arguments.choice("paid_fallback", paid_fallback, PaidFallback)
        arguments.at_least("local_max_tokens", local_max_tokens, 1)
        arguments.at_least("paid_max_tokens", paid_max_tokens, 1)
        self.local_max_tokens = local_max_tokens
        self.paid_max_tokens = paid_max_tokens
        self.total_timeout = arguments.seconds("total_timeout", total_timeout)
        self.prices = prices
        self.mid_model = paid.model if paid is not None else None
        self.top_model = top_model if paid is not None else None
        self.top_threshold = arguments.within("top_threshold", top_threshold, 0.0, 1.0)
        self.ambiguous_margin = arguments.within("ambiguous_margin", ambiguous_margin, 0.0, 0.5)
        self.local_profile = local_profile or LocalProfile()
        self.phase2 = phase2
        self.budget = budget or Budget()
        self.ledger: SpendLedger = ledger or MemoryLedger()
        self.pins = pins if pins is not None else SessionPins()
        self._counterfactual = counterfactual_model
        self.redact_paid = redact_paid
        self.sticky = arguments.choice("sticky", sticky, Sticky)
        self.names = names
        # Per conversation, the lowest tier it may be routed to (see sticky.py).
        self.floors = TierFloors()
        # Estimates of paid calls in flight, held against the daily budget until they settle,
        # so concurrent routes cannot each see the same room under it.
        self._reserved = 0.0
        self._budget_lock = asyncio.Lock()
        self._releasing: set[asyncio.Future[None]] = set()  # reservations given back

    async def aclose(self) -> None:
        """Close the backends' HTTP clients (`async with router:` does it on the way out)."""
        closed: set[int] = set()
        backends = (self.local, self.paid, self.phase2.backend if self.phase2 else None)
        for backend in backends:
            close = getattr(backend, "aclose", None)
            if close is not None and id(backend) not in closed:
                closed.add(id(backend))
                await close()

    # ---- models -------------------------------------------------------------------------------
    def model_for(self, tier: Tier) -> str:
        if tier is Tier.LOCAL:
            return self.local.model if self.local is not None else "none"
        if tier is Tier.TOP and self.top_model:
            return self.top_model
        return self.mid_model or "none"

    def _is_local_model(self, model: str) -> bool:
        """Whether `model` names the local model, also as its server spells it (Ollama's
        `llama3.2:latest` for `llama3.2`): taken for a paid model's name, the request would
        leave the machine."""
        local = self.local
        if local is None:
            return False
        same = getattr(local, "same_model", None)
        return model == local.model or (callable(same) and bool(same(model)))

    def price(self, model: str) -> Price | None:
        return price_for(model, self.prices)

    @property
    def counterfactual_model(self) -> str | None:
        """The model savings are measured against: the top model, else the mid one (also
        when no paid backend is configured: what staying local saved)."""
        return self._counterfactual or self.top_model or self.mid_model

    # ---- phase 1 -----------------------------------------------------------------------------
    def assess(self, payload: AgentPayload, calibration: Calibration | None = None) -> Assessment:
        return assess(
            payload,
            self.classifier,
            local=self.local_profile,
            margin=self.ambiguous_margin,
            top_threshold=self.top_threshold,
            calibration=calibration,
            names=self.names,
        )

    # ---- plan --------------------------------------------------------------------------------
    def _forced(
        self, force: Tier | Route | str | None, model: str | None
    ) -> tuple[Tier, str, str] | None:
        if model is not None:
            if self._is_local_model(model):
                return Tier.LOCAL, model, f"model {model} forced by caller"
            if name_holds_secret(model):  # it would go out as it is, in the paid request
                raise ConfigError(
                    "model: it looks like it holds a secret (a key or token); pass a model name"
                )
            if self.paid is None:
                raise ConfigError(
                    f"model {model!r} is not the local model and no paid backend is configured"
                )
            tier = Tier.TOP if model == self.top_model else Tier.MID
            return tier, model, f"model {model} forced by caller"
        if force is not None:
            value = str(force.value if isinstance(force, StrEnum) else force).lower()
            forced_tier = {"paid": Tier.MID}.get(value) or _tier_or_none(value)
            if forced_tier is None:
                raise ConfigError(f"force must be one of local, mid, top, paid; got {force!r}")
            if forced_tier is Tier.TOP and not self.top_model:
                forced_tier = Tier.MID
            return forced_tier, self.model_for(forced_tier), f"{value} forced by caller"
        if self.mode is not RouteMode.AUTO:
            tier = Tier.LOCAL if self.mode is RouteMode.LOCAL else Tier.MID
            return tier, self.model_for(tier), f"{self.names.mode}={self.mode.value}"
        return None

    async def plan(
        self,
        payload: AgentPayload,
        *,
        force: Tier | Route | str | None = None,
        model: str | None = None,
        session: str | None = None,
        calibration: Calibration | None = None,
        assessment: Assessment | None = None,
    ) -> Decision:
        """Decide the first tier and model. Phase 2 runs only for the ambiguous band.
        `calibration`: the workspace's learned threshold shifts (ocp_router.calibration).
        `assessment`: `assess(payload, calibration)` made already (the proxy bounds its time)."""
        if assessment is None and payload.total_chars > OFF_LOOP_CHARS:
            assessment = await asyncio.to_thread(self.assess, payload, calibration)
        elif assessment is None:
            assessment = self.assess(payload, calibration)
        forced = self._forced(force, model)
        session = session or session_key(payload)
        if forced is not None:
            tier, chosen, reason = forced
            pin_state = PinState.FORCED if self.pins.lookup(session)[0] else PinState.NONE
            return Decision(
                tier, chosen, Phase.EXPLICIT, reason, True, assessment, None, pin_state, session
            )
        verdict: Verdict | None = None
        if assessment.band.value == "AMBIGUOUS" and self.phase2 is not None:
            verdict = await self.phase2.classify(payload, assessment)
            tier, phase = verdict.tier, verdict.phase
            reason = f"phase 2 ({verdict.phase}): {verdict.reason}"
        else:
            tier, phase = assessment.tier, Phase.HEURISTIC
            reason = f"phase 1: {assessment.explain()}"
        if tier is Tier.TOP and not self.top_model:
            tier = Tier.MID
            if self.paid is not None:  # else no paid tier at all: the route's notes say so
                reason += f"; mid: no top model is set ({self.names.top_model})"
        floor = self.floors.floor(session)
        if floor is not None and tier.rank < floor.rank:
            tier = Tier.MID if floor is Tier.TOP and not self.top_model else floor
            reason += f"; raised to {tier}: this conversation already needed it"
        if self.sticky is Sticky.UPWARD:
            self.floors.lift(session, tier)
        chosen = self.model_for(tier)
        pin_state = PinState.NONE
        if tier.paid and self.paid is not None:
            tier, chosen, pin_state = self._apply_pin(session, tier, chosen, assessment)
        return Decision(tier, chosen, phase, reason, False, assessment, verdict, pin_state, session)

    def _apply_pin(
        self, session: str, tier: Tier, chosen: str, assessment: Assessment
    ) -> tuple[Tier, str, PinState]:
        pin, state = self.pins.lookup(session)
        if pin is None:
            return tier, chosen, state
        if state is PinState.HARD or pin.model == chosen:
            return pin.tier, pin.model, state
        # Soft window: climb when the request needs a higher tier; otherwise keep the warm
        # cache unless the decided model is cheaper even against cached reads.
        if tier.rank > pin.tier.rank:
            return tier, chosen, PinState.RELEASED
        tokens = max(assessment.total_chars // CHARS_PER_TOKEN, pin.prompt_tokens)
        cached = min(pin.prompt_tokens, tokens)
        pinned_price, chosen_price = self.price(pin.model), self.price(chosen)
        if pinned_price is None or chosen_price is None:
            return pin.tier, pin.model, state
        warm = pinned_price.cost(tokens, 0, cache_read=cached)
        cold = chosen_price.cost(tokens, 0)
        if cold < warm:
            return tier, chosen, PinState.RELEASED
        return pin.tier, pin.model, state

    # ---- execute -----------------------------------------------------------------------------
    def _chain(self, decision: Decision) -> list[tuple[Tier, str]]:
        """(tier, model) in the order they will be tried."""
        mid = [(Tier.MID, self.mid_model)] if self.mid_model else []
        top = [(Tier.TOP, self.top_model)] if self.top_model else []
        local = [(Tier.LOCAL, self.local.model)] if self.local is not None else []
        if decision.forced:
            if decision.tier is Tier.LOCAL:
                return local
            return [(decision.tier, decision.model)] if self.paid is not None else []
        first = [(decision.tier, decision.model)]
        if decision.tier is Tier.LOCAL:
            rest = mid + top
        else:
            rest = top + mid if decision.tier is Tier.MID else mid + top
            if self.paid_fallback is PaidFallback.LOCAL:
                rest += local
        chain: list[tuple[Tier, str]] = []
        for tier, model in first + rest:
            if model and (tier, model) not in chain and all(m != model for _, m in chain):
                if tier.paid and self.paid is None:
                    continue
                chain.append((tier, model))
        return chain

    async def paid_prompt(
        self,
        payload: AgentPayload,
        *,
        context: ContextProvider | None = None,
        prompt: str | None = None,
    ) -> PaidPrompt:
        """What a paid tier would receive for `payload`: `context`'s prompt (else `prompt`,
        else the latest user turn), the system prompt and earlier turns, redacted unless the
        router was built with `redact_paid=False`. `execute` builds it the same way."""
        return await build_paid_prompt(
            payload, context=context, prompt=prompt, redacting=self.redact_paid
        )

    async def execute(
        self,
        decision: Decision,
        payload: AgentPayload,
        *,
        system: str | None = None,
        paid_prompt: str | None = None,
        context: ContextProvider | None = None,
        timeout: float | None = None,
        attempts: list[Attempt] | None = None,
    ) -> RouteResult:
        """Answer along the decision's chain. The local tier gets the raw conversation (with
        `system` in place of its own, when given). A paid tier gets `self.paid_prompt(...)`:
        built at the first paid attempt, `context` called then and only then, secrets
        redacted. `timeout` (default: the router's total) bounds the whole chain.
        `attempts`, when given, receives each attempt as it ends: a caller that is cancelled
        mid-route can still trace what was tried (the one in flight ends as "cancelled")."""
        limit = self.total_timeout if timeout is None else timeout
        trace_id = uuid.uuid4().hex
        started = time.perf_counter()
        run = _Run(attempts=attempts if attempts is not None else [])
        chain = self._chain(decision)
        if not chain:
            raise RoutingFailed(self._nothing_configured(decision), (), trace_id)
        if decision.tier.paid and self.paid is None:
            # Answered lower than decided (paid_fallback=local): the trace says why.
            run.notes.append(
                f"this request needed the {decision.tier} tier and no paid backend is "
                f"configured ({self.names.paid}): sent to the local model instead"
            )
        if payload.images:
            run.notes.append(images_note(payload.images))
        system = system if system is not None else (payload.system or None)
        history = payload.history()
        local_prompt = with_since(payload.user_turn, payload.since_request())
        current = chain[0]
        try:
            async with asyncio.timeout(limit):
                i = 0
                while i < len(chain):
                    current = chain[i]
                    i += 1
                    tier, model = current
                    if tier.paid:
                        if run.paid is None:
                            run.paid = await self._build_paid(payload, context, paid_prompt, run)
                        request = self.paid_request(run.paid, model)
                        reserved = await self._paid_allowed(tier, request, run)
                        if reserved is None:
                            if not decision.forced and self.local is not None:
                                if all(t is not Tier.LOCAL for t, _ in chain):
                                    chain.append((Tier.LOCAL, self.local.model))
                            continue
                        assert self.paid is not None
                        backend = self.paid
                    else:
                        assert self.local is not None
                        backend = self.local
                        reserved = 0.0
                        request = GenerateRequest(
                            local_prompt, system, self.local_max_tokens, history=history
                        )
                    try:
                        response = await self._try(tier, backend, request, run, decision)
                        if response is not None:
                            return await self._result(
                                response, tier, decision, backend, started, trace_id, run
                            )
                    finally:
                        # Settled: the real cost is in the ledger now (or there was none).
                        await self._release(reserved)
        except asyncio.CancelledError:
            await self._cut_short(
                current,
                started,
                run,
                "cancelled",
                "the caller cancelled the route while this model was answering",
                "CancelledError",
            )
            raise
        except TimeoutError:
            await self._cut_short(
                current,
                started,
                run,
                "error",
                f"the router's total time limit of {self.total_timeout:g}s ran out "
                f"({self.names.total_timeout})",
                BackendTimeout.__name__,
            )
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
            raise BudgetExceeded(
                f"{' '.join(run.notes)} {instead}",
                tuple(run.attempts),
                trace_id,
                tuple(run.notes),
                run.paid,
            )
        raise RoutingFailed(
            f"no model could answer ({summary})",
            tuple(run.attempts),
            trace_id,
            tuple(run.notes),
            run.paid,
        )

    async def _build_paid(
        self,
        payload: AgentPayload,
        context: ContextProvider | None,
        prompt: str | None,
        run: _Run,
    ) -> PaidPrompt:
        """The paid request; a context provider that fails costs the context, not the route."""
        try:
            return await self.paid_prompt(payload, context=context, prompt=prompt)
        except Exception as exc:  # noqa: BLE001 - the caller's code: any failure
            if context is None:
                raise
            logger.warning("route: the context provider failed: %s", exc, exc_info=True)
            run.notes.append(f"context: the provider failed ({type(exc).__name__}); sent without")
            return await self.paid_prompt(payload, prompt=prompt)

    async def _cut_short(
        self,
        current: tuple[Tier, str],
        started: float,
        run: _Run,
        outcome: str,
        why: str,
        error: str,
    ) -> None:
        """Record the attempt in flight when the route stopped (cancelled, out of time), with
        what a paid call on the wire is billed for already, then charge that to the ledger
        (after recording: a second cancel while charging loses the charge, not the trace)."""
        tier, model = current
        took = round((time.perf_counter() - started) * 1000, 3)
        cost, estimated = self._bill_cut(run, model)
        run.attempts.append(
            Attempt(
                tier, self._backend_label(tier), model, outcome, took, why, error, cost, estimated
            )
        )
        if cost:
            await self.ledger.add(cost)

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

    def _backend_label(self, tier: Tier) -> str:
        backend = self.paid if tier.paid else self.local
        return _backend_name(backend) if backend is not None else "none"

    def _nothing_configured(self, decision: Decision) -> str:
        if decision.tier.paid:
            paid, fallback = self.names.paid, self.names.paid_fallback
            return f"this request needs the paid tier and none is configured ({paid})" + (
                "." if decision.forced else f"; or {fallback}."
            )
        return "this request was forced local and no local model is configured."

    def estimate(self, model: str, request: GenerateRequest) -> float | None:
        """Upper bound of a paid call's cost: its input plus a full `max_tokens` answer."""
        price = self.price(model)
        if price is None:
            return None
        return price.cost(_input_tokens(request), request.max_tokens or 4096)

    def paid_request(self, paid: PaidPrompt, model: str | None = None) -> GenerateRequest:
        """The request a paid tier is sent for `paid`, as `execute` sends it."""
        return GenerateRequest(
            paid.prompt, paid.system, self.paid_max_tokens, history=paid.history, model=model
        )

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

    async def _try(
        self,
        tier: Tier,
        backend: ModelBackend,
        request: GenerateRequest,
        run: _Run,
        decision: Decision,
    ) -> GenerateResponse | None:
        name = _backend_name(backend)
        model = request.model or backend.model
        t0 = time.perf_counter()
        run.in_flight = request if tier.paid else None
        try:
            try:
                response = await backend.generate(request)
                if not isinstance(getattr(response, "text", None), str):
                    raise TypeError(f"generate() returned {type(response).__name__}")
            except BackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - any other failure is the backend's too
                logger.exception("route: %s (%s) raised unexpectedly", name, model)
                said = redact_name_head(str(exc), 200)  # redacted whole, then cut
                raise BackendResponseError(
                    f"{name} failed unexpectedly ({type(exc).__name__}: {said})",
                    backend=name,
                ) from exc
        except BackendError as exc:
            ms = round((time.perf_counter() - t0) * 1000, 3)
            # A paid call that timed out was read and worked on: billed, as one cut short;
            # unless it timed out before it left (connecting, writing): nothing was read.
            billed = isinstance(exc, BackendTimeout) and exc.sent
            cost, estimated = self._bill_cut(run, model) if billed else (0.0, False)
            run.in_flight = None
            run.attempts.append(
                Attempt(
                    tier, name, model, "error", ms, str(exc), type(exc).__name__, cost, estimated
                )
            )
            if cost:
                await self.ledger.add(cost)
            # `attempt_error`: a command that prints the result's note can tell it is there.
            logger.warning(
                "route: %s (%s) failed: %s", name, model, exc, extra={"attempt_error": str(exc)}
            )
            if tier.paid:
                if not isinstance(exc, _RETRY_ACROSS):
                    run.paid_dead = isinstance(exc, BackendAuthError) or run.paid_dead
                if decision.session and model == decision.model:
                    self.pins.drop(decision.session)
            return None
        run.in_flight = None
        if not response.text.strip():
            # The provider bills an empty answer (thinking, or max_tokens hit) like any other:
            # the budget and the trace must count it.
            wasted = await self._charge(response, model) if tier.paid else 0.0
            run.attempts.append(
                Attempt(
                    tier, name, model, "empty", response.duration_ms, "empty answer", None, wasted
                )
            )
            if wasted:
                run.notes.append(f"{model} was billed ${wasted:.4f} for an empty answer")
            return None
        run.attempts.append(Attempt(tier, name, model, "ok", response.duration_ms))
        return response

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
        )

    # ---- both --------------------------------------------------------------------------------
    async def route(
        self,
        request: str | Sequence[Any] | Mapping[str, Any] | AgentPayload,
        *,
        force: Tier | Route | str | None = None,
        model: str | None = None,
        system: str | None = None,
        tools: Sequence[Any] | None = None,
        paid_prompt: str | None = None,
        session: str | None = None,
        context: ContextProvider | None = None,
    ) -> RouteResult:
        """Decide and answer. `request` is a prompt, a message list or a request body.
        `context` (or a fixed `paid_prompt`) enriches what a paid tier receives; whatever is
        sent to a paid tier is redacted (see `execute`)."""
        payload = (
            request
            if isinstance(request, AgentPayload)
            else parse_payload(request, system=system, tools=tools)
        )
        require_request(payload, "request" if isinstance(request, str) else "messages")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_timeout
        decision = await self.plan(payload, force=force, model=model, session=session)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise RoutingFailed(
                f"the router's total time limit of {self.total_timeout:g}s ran out while deciding "
                f"({self.names.total_timeout})",
                (),
                uuid.uuid4().hex,
            )
        return await self.execute(
            decision, payload, paid_prompt=paid_prompt, context=context, timeout=remaining
        )


def _input_tokens(request: GenerateRequest) -> int:
    """A paid request's input tokens, counted as the router counts prompts."""
    return estimate_tokens(
        "".join(t.text for t in request.history) + (request.system or "") + request.prompt
    )


def _tier_or_none(value: str) -> Tier | None:
    try:
        return Tier(value)
    except ValueError:
        return None
