"""Upward-only stickiness: a conversation that needed a tier does not drop below it.

With `OCP_STICKY=upward`, every decision in a conversation (a session id, or the hash of its
first user message) raises the conversation's floor to the tier decided, and later requests
in it are decided at least at that floor: a debugging session that needed the paid model
does not hand its next step to the local one mid-task. An outcome saying a local answer was
wrong lifts the floor to the mid tier whatever the option (see `ocp_result_save`).

Floors live in memory, for the most recent conversations only: a conversation is a task.
A restarted server or proxy lifts again the floors wrong answers lifted, from the stored
outcomes (ocp_server.outcomes.restore_floors); those `OCP_STICKY` raised start afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from enum import StrEnum

from ocp_router.tiers import Tier


class Sticky(StrEnum):
    OFF = "off"
    UPWARD = "upward"


class TierFloors:
    """The lowest tier each recent conversation may be routed to."""

    def __init__(self, *, max_sessions: int = 1024) -> None:
        self.max_sessions = max_sessions
        self._floors: OrderedDict[str, Tier] = OrderedDict()

    def __len__(self) -> int:
        return len(self._floors)

    def floor(self, session: str) -> Tier | None:
        return self._floors.get(session)

    def lift(self, session: str, tier: Tier) -> Tier:
        """Raise the floor to `tier` (never lowers it); the floor now in force."""
        current = self._floors.pop(session, None)
        floor = tier if current is None or tier.rank > current.rank else current
        self._floors[session] = floor
        while len(self._floors) > self.max_sessions:
            self._floors.popitem(last=False)
        return floor

    def items(self) -> list[tuple[str, Tier]]:
        """(conversation, floor), oldest first."""
        return list(self._floors.items())

    def clear(self, session: str) -> None:
        self._floors.pop(session, None)
