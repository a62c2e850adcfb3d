"""OCPRouter: classify, dispatch to the right tier, fall back when a tier fails, trace it all."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from ocp_router.backends.base import GenerateRequest, GenerateResponse, ModelBackend
from ocp_router.classifier import ClassifyResult, Route, TaskClassifier
from ocp_router.errors import BackendError, BackendTimeout, ConfigError, RouterError
from ocp_router.prices import Price, price_for

logger = logging.getLogger(__name__)


class RouteMode(StrEnum):
    """`auto` follows the classifier; `local` and `paid` force every request to one tier."""

    AUTO = "auto"
    LOCAL = "local"
    PAID = "paid"


class PaidFallback(StrEnum):
    """What to do when a request needs the paid tier and it is missing or failing."""

    LOCAL = "local"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One backend tried for a request: `outcome` is ok, error or skipped."""

    tier: Route
    backend: str
    model: str
    outcome: str
    duration_ms: float
    error: str | None = None
    error_type: str | None = None


@dataclass(frozen=True, slots=True)
class RouteResult:
    """The answer and the full trace of how it was reached.

    `route_to` is the tier that answered; `decision` is the tier the request was sent to
    first (classifier or forced). They differ exactly when a fallback happened.
    """

    text: str
    route_to: Route
    decision: Route
    decided_by: str
    classify: ClassifyResult
    model: str
    backend: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    trace_id: str
    estimated_cost_usd: float | None
    attempts: tuple[Attempt, ...]
    stop_reason: str | None = None

    @property
    def fell_back(self) -> bool:
        return self.route_to is not self.decision


class RoutingFailed(RouterError):
    """No tier could answer. `attempts` lists what was tried and why each failed."""

    def __init__(self, message: str, attempts: tuple[Attempt, ...], trace_id: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.trace_id = trace_id


def _backend_name(backend: ModelBackend) -> str:
    return str(getattr(backend, "name", type(backend).__name__))


class OCPRouter:
    """Routes prompts between a local and a paid backend. Either slot may be None."""

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
    ) -> None:
        if local is None and paid is None:
            raise ConfigError("OCPRouter needs at least one backend (local or paid)")
        self.local = local
        self.paid = paid
        self.classifier = classifier or TaskClassifier()
        self.mode = RouteMode(mode)
        self.paid_fallback = PaidFallback(paid_fallback)
        self.local_max_tokens = local_max_tokens
        self.paid_max_tokens = paid_max_tokens
        self.total_timeout = total_timeout
        self.prices = prices

    async def aclose(self) -> None:
        for backend in (self.local, self.paid):
            close = getattr(backend, "aclose", None)
            if close is not None:
                await close()

    def decide(self, classify: ClassifyResult, force: Route | str | None) -> tuple[Route, str]:
        """The first tier to try, and who decided it."""
        if force is not None:
            try:
                return Route(force), "forced by caller"
            except ValueError as exc:
                raise ConfigError(f"force must be 'local' or 'paid', got {force!r}") from exc
        if self.mode is not RouteMode.AUTO:
            return Route(self.mode.value), f"OCP_ROUTE_MODE={self.mode.value}"
        return classify.route_to, "classifier"

    def plan(self, decision: Route) -> list[tuple[Route, ModelBackend]]:
        """Backends in the order they will be tried."""
        local = [(Route.LOCAL, self.local)] if self.local is not None else []
        paid = [(Route.PAID, self.paid)] if self.paid is not None else []
        if decision is Route.LOCAL:
            return local + paid
        if self.paid_fallback is PaidFallback.LOCAL:
            return paid + local
        return paid

    async def route(
        self,
        prompt: str,
        *,
        force: Route | str | None = None,
        system: str | None = None,
        paid_prompt: str | None = None,
        classify: ClassifyResult | None = None,
    ) -> RouteResult:
        """Answer `prompt` on the right tier.

        `paid_prompt`, when given, is what the paid tier receives instead of `prompt` (the
        server sends an enriched prompt there; the local tier always gets the raw request).
        """
        trace_id = uuid.uuid4().hex
        started = time.perf_counter()
        classify = classify or self.classifier.classify(prompt)
        decision, decided_by = self.decide(classify, force)
        attempts: list[Attempt] = []
        plan = self.plan(decision)
        if not plan:
            raise RoutingFailed(
                "this request needs the paid tier and none is configured: set ANTHROPIC_API_KEY "
                "(or OCP_PAID_BACKEND=openai with OPENAI_API_KEY), or set OCP_PAID_FALLBACK=local.",
                (),
                trace_id,
            )
        current = plan[0]
        try:
            async with asyncio.timeout(self.total_timeout):
                for current in plan:
                    tier, backend = current
                    text = paid_prompt if (tier is Route.PAID and paid_prompt) else prompt
                    max_tokens = (
                        self.paid_max_tokens if tier is Route.PAID else self.local_max_tokens
                    )
                    request = GenerateRequest(prompt=text, system=system, max_tokens=max_tokens)
                    response = await self._try(tier, backend, request, attempts)
                    if response is not None:
                        return self._result(
                            response,
                            tier,
                            decision,
                            decided_by,
                            classify,
                            backend,
                            started,
                            trace_id,
                            attempts,
                        )
        except TimeoutError:
            tier, backend = current
            attempts.append(
                Attempt(
                    tier,
                    _backend_name(backend),
                    backend.model,
                    "error",
                    round((time.perf_counter() - started) * 1000, 3),
                    f"the router's total time limit of {self.total_timeout:g}s ran out",
                    BackendTimeout.__name__,
                )
            )
        summary = "; ".join(f"{a.backend}: {a.error}" for a in attempts)
        raise RoutingFailed(f"no backend could answer ({summary})", tuple(attempts), trace_id)

    async def _try(
        self, tier: Route, backend: ModelBackend, request: GenerateRequest, attempts: list[Attempt]
    ) -> GenerateResponse | None:
        name = _backend_name(backend)
        t0 = time.perf_counter()
        try:
            response = await backend.generate(request)
        except BackendError as exc:
            attempts.append(
                Attempt(
                    tier,
                    name,
                    backend.model,
                    "error",
                    round((time.perf_counter() - t0) * 1000, 3),
                    str(exc),
                    type(exc).__name__,
                )
            )
            logger.warning("route: %s (%s) failed: %s", name, backend.model, exc)
            return None
        attempts.append(Attempt(tier, name, backend.model, "ok", response.duration_ms))
        return response

    def _result(
        self,
        response: GenerateResponse,
        tier: Route,
        decision: Route,
        decided_by: str,
        classify: ClassifyResult,
        backend: ModelBackend,
        started: float,
        trace_id: str,
        attempts: list[Attempt],
    ) -> RouteResult:
        cost: float | None = 0.0
        if tier is Route.PAID:
            price = price_for(response.model, self.prices) or price_for(backend.model, self.prices)
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
        duration = round((time.perf_counter() - started) * 1000, 3)
        logger.info(
            "route %s: %s -> %s/%s (score %.2f, %s) %d+%d tokens in %.0f ms",
            trace_id[:8],
            decision,
            tier,
            response.model,
            classify.complexity_score,
            decided_by,
            response.prompt_tokens,
            response.completion_tokens,
            duration,
        )
        return RouteResult(
            text=response.text,
            route_to=tier,
            decision=decision,
            decided_by=decided_by,
            classify=classify,
            model=response.model,
            backend=_backend_name(backend),
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            duration_ms=duration,
            trace_id=trace_id,
            estimated_cost_usd=cost,
            attempts=tuple(attempts),
            stop_reason=response.stop_reason,
        )
