"""A router's configuration (its backends, models, prices, budgets and pins), the names
of its models, and the running state of one route. The router's steps build on it:
_spending.py, _planning.py, _attempts.py, _outcomes.py and router.py."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from ocp_router import _arguments as arguments
from ocp_router.backends.base import GenerateRequest, ModelBackend
from ocp_router.boundary import PaidPrompt
from ocp_router.budget import Budget, MemoryLedger, SpendLedger
from ocp_router.calibration_file import NO_MODEL
from ocp_router.calibration_keys import model_key
from ocp_router.classifier import TaskClassifier
from ocp_router.closing import ClosesOnExit
from ocp_router.errors import ConfigError
from ocp_router.hints import ROUTER_ARGUMENTS, RouterNames
from ocp_router.modes import PaidFallback, RouteMode
from ocp_router.phase1 import LocalProfile
from ocp_router.phase2 import LLMClassifier
from ocp_router.pins import SessionPins
from ocp_router.prices import Price, price_for
from ocp_router.results import Attempt
from ocp_router.sticky import FLOOR_HOURS, Sticky, TierFloors
from ocp_router.tiers import Tier

# The router's one logger, under the name it has always had: applications configure it
# by that name, and `ocp route` holds back the attempt errors it logs (cli_server).
logger = logging.getLogger("ocp_router.router")


def _backend_name(backend: ModelBackend) -> str:
    return str(getattr(backend, "name", type(backend).__name__))


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


class RouterBase(ClosesOnExit):
    """What every step of a route reads: the router's configuration and its models."""

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
        floor_hours: float = FLOOR_HOURS,
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
        # Per conversation, the lowest tier it may be routed to (see sticky.py); 0: no age limit.
        arguments.at_least("floor_hours", floor_hours, 0)
        self.floors = TierFloors.for_hours(floor_hours)
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

    @property
    def calibration_key(self) -> str:
        """The local model routes are decided against, with where it runs: what an outcome
        on a route calibrates (calibration_file.model_key)."""
        local = self.local
        if local is None:
            return NO_MODEL
        return model_key(local.model, getattr(local, "base_url", None))

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

    def _backend_label(self, tier: Tier) -> str:
        backend = self.paid if tier.paid else self.local
        return _backend_name(backend) if backend is not None else "none"
