"""The daily budget's ledger over the trace stores: what every process's stored routes spent
today, plus what this process spent that is not stored yet."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol


class StoredSpend(Protocol):
    """What the ledger reads from the trace stores (AppState)."""

    async def spent_today(self) -> float: ...


class WorkspaceLedger:
    """The daily budget's ledger: what the trace stores say was spent today (every process's
    routes), plus what this process spent that is not stored yet: a trace is stored after its
    call returns, and a route without a workspace is never stored."""

    def __init__(self, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.state: StoredSpend | None = None
        self._today = today
        self._day = today()
        self._unrecorded = 0.0
        # Held while a cost is stored and while the spend is read: a write commits before its
        # caller resumes to say so, and a read in between counted that cost twice.
        self._storing = asyncio.Lock()

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._unrecorded = today, 0.0

    async def spent_today(self) -> float:
        async with self._storing:
            stored = await self.state.spent_today() if self.state is not None else 0.0
            self._roll()
            return stored + self._unrecorded

    async def add(self, usd: float) -> None:
        self._roll()
        self._unrecorded += usd

    @asynccontextmanager
    async def storing(self, usd: float | None) -> AsyncIterator[None]:
        """Around the write of a trace that cost `usd`: once it is stored, that spend is no
        longer this process's unrecorded spend."""
        async with self._storing:
            yield
            if usd:
                self.recorded(usd)

    def recorded(self, usd: float) -> None:
        """`usd` of this process's spend is now in a trace store."""
        self._roll()
        self._unrecorded = max(0.0, self._unrecorded - usd)
