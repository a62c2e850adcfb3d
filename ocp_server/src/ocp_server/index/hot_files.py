"""Files that keep changing (a log appended ten times a second, a file a generator rewrites in
a loop): the watcher re-indexes them at most every HOT_EVERY_S while they keep changing, and
once more when they settle, rather than after every debounce (300 ms: a log appended ten
times a second cost 96 passes and 2.7 s of CPU in 20 s).

A file edited once, or a few times apart, is no hot file: its change is indexed at once. A
search never waits on the backoff either: it re-indexes the files it cites that changed on
disk since (on_disk.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

__all__ = ["HOT_EVERY_S", "HOT_GAP_S", "HOT_STREAK", "HotFiles"]

HOT_GAP_S = 1.0  # a file's changes this close in a row make a streak
HOT_STREAK = 3  # the changes in a streak that make a file hot
HOT_EVERY_S = 3.0  # a pass at most this often while only hot files change
_KEPT_AT_MOST = 4096  # files remembered; past it those out of any streak are forgotten


class HotFiles:
    """The changed files the watcher saw lately, and when a pass last ran for them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, tuple[float, int]] = {}  # path -> (its last change, its streak)
        self._passed_at = float("-inf")

    def wait(self, changed: Iterable[str]) -> float:
        """Seconds before the pass these changes need (0: now): more than 0 only when every
        changed file is hot and a pass ran less than HOT_EVERY_S ago."""
        now = self._clock()
        hot = None
        for path in changed:
            last, streak = self._seen.get(path, (float("-inf"), 0))
            streak = streak + 1 if now - last < HOT_GAP_S else 1
            self._seen[path] = (now, streak)
            hot = (hot is not False) and streak >= HOT_STREAK
        if len(self._seen) > _KEPT_AT_MOST:
            self._seen = {p: s for p, s in self._seen.items() if now - s[0] < HOT_GAP_S}
        return max(0.0, self._passed_at + HOT_EVERY_S - now) if hot else 0.0

    def passed(self) -> None:
        """A pass starts now: it reads every change made until now."""
        self._passed_at = self._clock()
