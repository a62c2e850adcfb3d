"""One attempt at one model: the call, what a failed or cut-short paid call is billed,
and the attempt's entry in the route's trace."""

from __future__ import annotations

import time

from ocp_router._router_base import _backend_name, _Run, logger
from ocp_router._spending import Spending
from ocp_router.backends.base import GenerateRequest, GenerateResponse, ModelBackend
from ocp_router.errors import (
    BackendAuthError,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
)
from ocp_router.redact_names import redact_name_head
from ocp_router.results import Attempt, Decision
from ocp_router.tiers import Tier
from ocp_router.words import counted

# Paid errors the other paid model may not share: worth one more try across models.
_RETRY_ACROSS: tuple[type[BackendError], ...] = (
    BackendRateLimited,
    BackendTimeout,
    BackendUnavailable,
)


class Attempting(Spending):
    """Asking one backend, and recording how it went."""

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
                    tier, name, model, "empty", response.duration_ms, _empty(response), None, wasted
                )
            )
            if wasted:
                run.notes.append(f"{model} was billed ${wasted:.4f} for an empty answer")
            return None
        run.attempts.append(Attempt(tier, name, model, "ok", response.duration_ms))
        return response

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


def _empty(response: GenerateResponse) -> str:
    """Why an answer was blank: a thinking model that spent its tokens thinking says so."""
    if not response.thinking.strip():
        return "empty answer"
    return (
        f"empty answer: only thinking came ({counted(response.reasoning_tokens, 'token')}, "
        f"stop reason {response.stop_reason or 'none'})"
    )
