"""Sticky sessions: consecutive paid calls of one session stay on one paid model while the
provider's prompt cache is warm, so the conversation's prefix is billed at cached-read prices.

Three windows, keyed on the time since the session's last paid answer:

    hard  0 – OCP_PIN_HARD_SECONDS (300)    the pinned model answers, whatever tier was decided
    soft  … – OCP_PIN_SOFT_SECONDS (1800)   the pinned model stays unless the decision needs a
                                            higher tier, or another model is cheaper even
                                            without the cache
    fresh beyond                             the pin is dropped; normal routing

Forced choices, an error of the pinned model and a context too large for it always win.
Pins live in memory: they are about a provider cache that expires in minutes anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ocp_router.tiers import Tier


class PinState(StrEnum):
    NONE = "none"  # no session, or the decision was local
    FRESH = "fresh"  # no pin, or it expired
    HARD = "hard"
    SOFT = "soft"
    RELEASED = "released"  # soft window, but the decision moved to another model
    FORCED = "forced"  # a forced choice overrode the pin


@dataclass(frozen=True, slots=True)
class Pin:
    model: str
    tier: Tier
    at: float
    prompt_tokens: int


# The windows' defaults, the settings' too (OCP_PIN_HARD_SECONDS, OCP_PIN_SOFT_SECONDS).
HARD_SECONDS = 300.0
SOFT_SECONDS = 1800.0


class SessionPins:
    def __init__(
        self,
        *,
        hard_seconds: float = HARD_SECONDS,
        soft_seconds: float = SOFT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 1024,
    ) -> None:
        self.hard_seconds = hard_seconds
        self.soft_seconds = soft_seconds
        self.clock = clock
        self.max_sessions = max_sessions
        self._pins: dict[str, Pin] = {}

    def __len__(self) -> int:
        return len(self._pins)

    def lookup(self, session: str) -> tuple[Pin | None, PinState]:
        pin = self._pins.get(session)
        if pin is None:
            return None, PinState.FRESH
        age = self.clock() - pin.at
        if age <= self.hard_seconds:
            return pin, PinState.HARD
        if age <= self.soft_seconds:
            return pin, PinState.SOFT
        del self._pins[session]
        return None, PinState.FRESH

    def pin(self, session: str, model: str, tier: Tier, prompt_tokens: int) -> None:
        self._pins.pop(session, None)
        self._pins[session] = Pin(model, tier, self.clock(), prompt_tokens)
        while len(self._pins) > self.max_sessions:
            del self._pins[next(iter(self._pins))]

    def drop(self, session: str) -> None:
        self._pins.pop(session, None)
