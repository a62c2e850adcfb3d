"""The vocabulary of a routing decision: sides, tiers, phase-1 bands and decision phases."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args

# A request scoring at least this goes paid (OCP_ROUTE_THRESHOLD's default; a workspace's
# calibration shifts it per task type).
DEFAULT_ROUTE_THRESHOLD = 0.5

#: How much a route asks the local model to think: "none" (not at all) to "high". One
#: definition for the router's route(), the tool's `effort`, the CLI's --effort and ocp_client.
Effort = Literal["none", "low", "medium", "high"]
EFFORTS: tuple[Effort, ...] = get_args(Effort)


class Route(StrEnum):
    """The side a request goes to: the local model, or a paid one (mid or top)."""

    LOCAL = "local"
    PAID = "paid"


class Tier(StrEnum):
    """Who answers: the local model, the paid mid model (OCP_PAID_MODEL) or the paid top model
    (OCP_PAID_TOP_MODEL)."""

    LOCAL = "local"
    MID = "mid"
    TOP = "top"

    @property
    def paid(self) -> bool:
        return self is not Tier.LOCAL

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Tier.LOCAL: 0, Tier.MID: 1, Tier.TOP: 2}


class Band(StrEnum):
    """Phase 1's verdict: sure enough to route (LOCAL, PAID), or not (AMBIGUOUS)."""

    LOCAL = "LOCAL"
    PAID = "PAID"
    AMBIGUOUS = "AMBIGUOUS"


class Phase(StrEnum):
    """What made the decision: a forced choice, phase 1's heuristics, a cached phase-2
    verdict, or the phase-2 local classifier model."""

    EXPLICIT = "explicit"
    HEURISTIC = "heuristic"
    CACHE = "cache"
    LLM_CLASSIFIER = "llm_classifier"
