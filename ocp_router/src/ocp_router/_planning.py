"""Deciding a payload's first tier and model: phase 1 on the payload, phase 2 for the
ambiguous band, forced choices, a conversation's floor and a session's pin."""

from __future__ import annotations

import asyncio
import hashlib
from enum import StrEnum

from ocp_router._router_base import RouterBase
from ocp_router._tokens import CHARS_PER_TOKEN
from ocp_router.calibration import Calibration
from ocp_router.errors import ConfigError
from ocp_router.modes import RouteMode
from ocp_router.payload import AgentPayload
from ocp_router.phase1 import Assessment, assess
from ocp_router.phase2 import Verdict
from ocp_router.pins import PinState
from ocp_router.redact_names import name_holds_secret
from ocp_router.results import Decision
from ocp_router.sticky import Sticky
from ocp_router.tiers import Phase, Route, Tier


def session_key(payload: AgentPayload) -> str:
    """A session id for callers that give none: the hash of the first user message."""
    first = next((m.text for m in payload.messages if m.role == "user"), "")
    return hashlib.sha1(first.encode(), usedforsecurity=False).hexdigest()


# A payload this large is parsed and judged in a worker thread, so that a huge request does
# not hold up other calls on the event loop (the server's tools use the same bound).
OFF_LOOP_CHARS = 50_000


def _tier_or_none(value: str) -> Tier | None:
    try:
        return Tier(value)
    except ValueError:
        return None


class Planning(RouterBase):
    """`plan`: the decision a route starts from."""

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
                    "`model`: expected a model's name; it looks like it holds a secret (a key "
                    "or token)"
                )
            if self.paid is None:  # what the local model is called, and how to have a paid one
                local = f" ({self.local.model})" if self.local is not None else ""
                # as the server's tool errors say a bad argument (argument_errors.field_problem)
                raise ConfigError(
                    f"`model`: expected the local model{local}, as no paid backend is "
                    f"configured (got {model!r}); name the local model, leave `model` out, or "
                    f"{self.names.paid}"
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
