"""Upward-only stickiness: a conversation that needed a tier does not drop below it.

With `OCP_STICKY=upward`, every decision in a conversation (a session id, or the hash of its
first user message) raises the conversation's floor to the tier decided, and later requests
in it are decided at least at that floor: a debugging session that needed the paid model
does not hand its next step to the local one mid-task. An outcome saying a local answer was
wrong lifts the floor to the mid tier whatever the option (see `ocp_result_save`).

Floors live in memory, for the most recent conversations only: a conversation is a task,
and a floor lapses `max_age` seconds after its latest lift (OCP_FLOOR_HOURS): a task left for
days, or a new conversation whose first message hashes as an old one's, is routed on its own
merits. A restarted server or proxy lifts them again from what it stored, each as of the time
it was saved (ocp_server.outcomes.restore_floors): the outcomes' and, with `OCP_STICKY=upward`,
the routes'.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

from ocp_router.tiers import Tier

#: Hours a conversation's floor lasts after its latest lift (OCP_FLOOR_HOURS' default): a
#: working day and the night after it, so a task picked up the next morning keeps its tier.
FLOOR_HOURS: float = 24


class Sticky(StrEnum):
    OFF = "off"
    UPWARD = "upward"


class TierFloors:
    """The lowest tier each recent conversation may be routed to, and when it was last lifted.
    `max_age`: seconds a floor lasts after its latest lift (None: until pushed out)."""

    def __init__(
        self,
        *,
        max_sessions: int = 1024,
        max_age: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_sessions = max_sessions
        self.max_age = max_age
        self.clock = clock
        self._floors: OrderedDict[str, tuple[Tier, float]] = OrderedDict()

    def __len__(self) -> int:
        self._drop_lapsed()
        return len(self._floors)

    def oldest_alive(self) -> float:
        """The time a lift must be at or after to hold a floor now (0.0: any)."""
        return 0.0 if self.max_age is None else self.clock() - self.max_age

    def floor(self, session: str) -> Tier | None:
        kept = self._floors.get(session)
        if kept is None:
            return None
        if kept[1] < self.oldest_alive():
            del self._floors[session]
            return None
        return kept[0]

    def lift(self, session: str, tier: Tier, *, at: float | None = None) -> Tier:
        """Raise the floor to `tier` (never lowers it) as of time `at` (None: now), which
        restarts its age; the floor now in force. A lift already lapsed at `at` (one rebuilt
        from long ago) lifts nothing."""
        at = self.clock() if at is None else at
        current = self.floor(session)
        if at < self.oldest_alive():
            return current or Tier.LOCAL
        lifted_at = max(at, self._floors.pop(session, (tier, at))[1])
        floor = tier if current is None or tier.rank > current.rank else current
        self._floors[session] = (floor, lifted_at)
        while len(self._floors) > self.max_sessions:
            self._floors.popitem(last=False)
        return floor

    def items(self) -> list[tuple[str, Tier]]:
        """(conversation, floor), oldest first."""
        self._drop_lapsed()
        return [(session, tier) for session, (tier, _) in self._floors.items()]

    def clear(self, session: str) -> None:
        self._floors.pop(session, None)

    def _drop_lapsed(self) -> None:
        oldest = self.oldest_alive()
        for session in [s for s, (_, at) in self._floors.items() if at < oldest]:
            del self._floors[session]
