"""OCPRouter: decide a tier for a whole agent payload, dispatch it, escalate when a tier fails,
respect budgets, and trace it all.

    plan()     phase 1 on the payload; phase 2 for the ambiguous band; forced choices; pins
    execute()  try the plan's chain: local -> mid -> top on failure, across paid models on a
               rate limit, within budgets and one total time limit
    route()    both

Nothing bound for a paid provider leaves unredacted (`boundary.py`): the paid request is built,
with the caller's context and secrets redacted, at the first paid attempt of a route.

One class, built from steps with one job each, which share the router's configuration and
one route's running state (_router_base.py):
    _planning.py   plan(): the decision
    _spending.py   estimates, the budgets' check and reservation, charges to the ledger
    _attempts.py   one attempt at one model: the call, what a cut-short call is billed
    _outcomes.py   the result of an answered route, the error of an unanswered one
    router.py      the chain of models to try, the paid request, execute() and route()
Its values live in results.py and budget.py; RouteMode and PaidFallback in modes.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ocp_router._attempts import Attempting
from ocp_router._outcomes import Outcomes
from ocp_router._outcomes import images_note as images_note
from ocp_router._planning import OFF_LOOP_CHARS as OFF_LOOP_CHARS
from ocp_router._planning import Planning
from ocp_router._planning import session_key as session_key
from ocp_router._router_base import _backend_name, _Run, logger
from ocp_router.backends.base import CheckedBackend, GenerateRequest, ModelBackend
from ocp_router.backends.reasoning import effort_think
from ocp_router.boundary import ContextProvider, PaidPrompt, build_paid_prompt, with_since
from ocp_router.budget import Budget, MemoryLedger, SpendLedger
from ocp_router.errors import BackendError, BackendTimeout, BackendUnavailable
from ocp_router.modes import PaidFallback, RouteMode
from ocp_router.payload import AgentPayload, parse_payload, require_request
from ocp_router.results import Attempt, BudgetExceeded, Decision, RouteResult, RoutingFailed
from ocp_router.tiers import Effort, Route, Tier

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


async def _unavailable(backend: ModelBackend) -> BackendError | None:
    """Why `backend` would not answer now, or None: its own check's error where it has one."""
    if isinstance(backend, CheckedBackend):
        try:
            await backend.check()
        except BackendError as exc:
            return exc
        return None
    if await backend.is_available():
        return None
    where = getattr(backend, "shown_url", None)
    at = f" at {where}" if where else ""
    return BackendUnavailable(
        f"the local model {backend.model} is not reachable{at} (not running, or no such model)",
        backend=_backend_name(backend),
    )


class OCPRouter(Planning, Attempting, Outcomes):
    """Routes payloads between a local model and two paid models. Either backend may be None.

    `redact_paid` (on by default) redacts secrets in everything sent to a paid model.
    `async with router:` (or `await router.aclose()`) closes the backends' connections."""

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

    async def planned_chain(
        self, decision: Decision
    ) -> tuple[list[tuple[Tier, str]], BackendError | None]:
        """The (tier, model) pairs `execute` would try for `decision` now, and why the local
        model was left out (None: it was not): decided local, its server is asked whether it
        answers and has the model (`check()`, else `is_available`, within CHECK_TIMEOUT), as a
        dry run must, to say what a real route would do rather than what was decided. The
        error says what is wrong and its fix, naming the URL tried."""
        chain = self._chain(decision)
        local = self.local
        if not chain or chain[0][0] is not Tier.LOCAL or local is None:
            return chain, None
        why = await _unavailable(local)
        if why is None:
            return chain, None
        return [(t, m) for t, m in chain if t is not Tier.LOCAL], why

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
        effort: Effort | None = None,
    ) -> RouteResult:
        """Answer along the decision's chain. The local tier gets the raw conversation (with
        `system` in place of its own, when given). A paid tier gets `self.paid_prompt(...)`:
        built at the first paid attempt, `context` called then and only then, secrets
        redacted. `timeout` (default: the router's total) bounds the whole chain.
        `attempts`, when given, receives each attempt as it ends: a caller that is cancelled
        mid-route can still trace what was tried (the one in flight ends as "cancelled").
        `effort` asks the local model to think that much ("none": not at all) in place of
        what the payload asks; the notes say what each model was sent of it."""
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
                            local_prompt,
                            system,
                            self.local_max_tokens,
                            history=history,
                            think=payload.think if effort is None else effort_think(effort),
                        )
                    try:
                        response = await self._try(tier, backend, request, run, decision)
                        if effort is not None:
                            _note_effort(run, effort, tier, backend, request)
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
        raise self._failure(decision, run, trace_id)

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

    def paid_request(self, paid: PaidPrompt, model: str | None = None) -> GenerateRequest:
        """The request a paid tier is sent for `paid`, as `execute` sends it."""
        return GenerateRequest(
            paid.prompt, paid.system, self.paid_max_tokens, history=paid.history, model=model
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
        effort: Effort | None = None,
    ) -> RouteResult:
        """Decide and answer. `request` is a prompt, a message list or a request body.
        `context` (or a fixed `paid_prompt`) enriches what a paid tier receives; whatever is
        sent to a paid tier is redacted (see `execute`). `effort`: how much the local model
        is asked to think ("none" to "high"; None: what the body asks, else its default)."""
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
            decision,
            payload,
            paid_prompt=paid_prompt,
            context=context,
            timeout=remaining,
            effort=effort,
        )


def _note_effort(
    run: _Run, effort: Effort, tier: Tier, backend: ModelBackend, request: GenerateRequest
) -> None:
    """The trace's word on what `backend` was sent of the route's `effort` (once a model)."""
    name = _backend_name(backend)
    if tier.paid:
        # The reference documents no mapping of an effort to the paid API's thinking.
        note = f"effort {effort}: not sent to the paid model ({name}): its call ignores it"
    elif (thinking_sent := getattr(backend, "thinking_sent", None)) is None:
        note = f"effort {effort}: not sent to the local model ({name} has no field for it)"
    elif (sent := thinking_sent(request.think)) is None:
        note = f"effort {effort}: not sent to the local model ({name} turned it down: asked "
        note += "without it)"
    else:
        note = f"effort {effort}: sent to the local model ({name}) as {sent}"
    if note not in run.notes:
        run.notes.append(note)
