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
the routes'; a running one lifts them as other processes on its database store them
(ocp_server.floors_elsewhere).
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from ocp_router.tiers import Tier

#: Hours a conversation's floor lasts after its latest lift (OCP_FLOOR_HOURS' default): a
#: working day and the night after it, so a task picked up the next morning keeps its tier.
FLOOR_HOURS: float = 24

# The clock floors age on: monotonic (a jump of the wall clock does not move it), and counting
# the time the machine slept, as the wall clock and a restart's rebuild of floors do.
# time.monotonic stands still in sleep on Linux and macOS: a laptop closed overnight kept a
# floor for the night on top of OCP_FLOOR_HOURS. Linux's CLOCK_BOOTTIME and macOS's
# clock_gettime(CLOCK_MONOTONIC) count it; elsewhere time.monotonic (Windows' counts it).
_SLEEP_COUNTING: int | None = (
    getattr(time, "CLOCK_BOOTTIME", None)
    if sys.platform.startswith("linux")
    else getattr(time, "CLOCK_MONOTONIC", None)
    if sys.platform == "darwin"
    else None
)


def awake_or_asleep() -> float:
    """Seconds on a monotonic clock that runs while the machine sleeps (where one is known)."""
    if _SLEEP_COUNTING is None:
        return time.monotonic()
    return time.clock_gettime(_SLEEP_COUNTING)


class Sticky(StrEnum):
    OFF = "off"
    UPWARD = "upward"


class TierFloors:
    """The lowest tier each recent conversation may be routed to, and when it was last lifted.
    `max_age`: seconds a floor lasts after its latest lift (None: until pushed out).

    A floor's age runs on `ticks` (monotonic, counting sleep: `awake_or_asleep`): a jump of
    the wall clock (`clock`) neither keeps a floor for ever nor drops it at once. Lifts dated
    by the wall clock (stored ones, at start and from other processes) are placed on it as
    they arrive; one dated after now (the clock went back since it was stored, or its
    process's clock ran ahead) counts as lifted now, so it lapses `max_age` from now at the
    latest."""

    def __init__(
        self,
        *,
        max_sessions: int = 1024,
        max_age: float | None = None,
        clock: Callable[[], float] = time.time,
        ticks: Callable[[], float] = awake_or_asleep,
    ) -> None:
        self.max_sessions = max_sessions
        self.max_age = max_age
        self.clock = clock
        self.ticks = ticks
        self._floors: OrderedDict[str, tuple[Tier, float]] = OrderedDict()  # (floor, ticks)

    @classmethod
    def for_hours(cls, hours: float, **kwargs: Any) -> TierFloors:
        """Floors that last `hours` (OCP_FLOOR_HOURS; 0: until pushed out)."""
        return cls(max_age=hours * 3600 if hours else None, **kwargs)

    def __len__(self) -> int:
        self._drop_lapsed()
        return len(self._floors)

    def oldest_alive(self) -> float:
        """The wall-clock time a stored lift must be at or after to hold a floor now (0.0:
        any)."""
        return 0.0 if self.max_age is None else self.clock() - self.max_age

    def _alive_since(self) -> float:
        """The ticks a lift must be at or after to hold a floor now."""
        return float("-inf") if self.max_age is None else self.ticks() - self.max_age

    def floor(self, session: str) -> Tier | None:
        kept = self._floors.get(session)
        if kept is None:
            return None
        if kept[1] < self._alive_since():
            del self._floors[session]
            return None
        return kept[0]

    def lift(self, session: str, tier: Tier, *, at: float | None = None) -> Tier:
        """Raise the floor to `tier` (never lowers it) as of wall-clock time `at` (None: now),
        which restarts its age; the floor now in force. A lift already lapsed at `at` (one
        rebuilt from long ago) lifts nothing; one dated after now counts as now."""
        now = self.ticks()
        lifted = now if at is None else now - max(0.0, self.clock() - at)
        current = self.floor(session)
        if lifted < self._alive_since():
            return current or Tier.LOCAL
        lifted = max(lifted, self._floors.pop(session, (tier, lifted))[1])
        floor = tier if current is None or tier.rank > current.rank else current
        self._floors[session] = (floor, lifted)
        while len(self._floors) > self.max_sessions:
            self._floors.popitem(last=False)
        return floor

    def items(self) -> list[tuple[str, Tier]]:
        """(conversation, floor), oldest first."""
        return [(session, tier) for session, tier, _ in self.lapsing()]

    def lapsing(self) -> list[tuple[str, Tier, float | None]]:
        """(conversation, floor, the wall-clock time it lapses unless lifted again; None:
        no age limit), oldest first."""
        self._drop_lapsed()
        if self.max_age is None:
            return [(session, tier, None) for session, (tier, _) in self._floors.items()]
        wall = self.clock() - self.ticks() + self.max_age  # a lift's ticks to its lapse time
        return [(session, tier, at + wall) for session, (tier, at) in self._floors.items()]

    def clear(self, session: str) -> None:
        self._floors.pop(session, None)

    def _drop_lapsed(self) -> None:
        oldest = self._alive_since()
        for session in [s for s, (_, at) in self._floors.items() if at < oldest]:
            del self._floors[session]
