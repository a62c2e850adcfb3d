"""Spending limits and the ledger of what paid calls cost today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ocp_router import _arguments as arguments

__all__ = ["Budget", "MemoryLedger", "SpendLedger"]


@dataclass(frozen=True, slots=True)
class Budget:
    """Spending limits in USD; None is no limit."""

    daily_usd: float | None = None
    max_request_usd: float | None = None

    def __post_init__(self) -> None:
        arguments.at_least("daily_usd", self.daily_usd, 0)
        arguments.at_least("max_request_usd", self.max_request_usd, 0)

    @property
    def active(self) -> bool:
        return self.daily_usd is not None or self.max_request_usd is not None


class SpendLedger(Protocol):
    """What paid calls have cost today (the server backs this with its trace store)."""

    async def spent_today(self) -> float: ...

    async def add(self, usd: float) -> None: ...


class MemoryLedger:
    """Today's spend of this process, reset at local midnight."""

    def __init__(self, today: Callable[[], dt.date] = dt.date.today) -> None:
        self._today = today
        self._day = today()
        self._spent = 0.0

    async def spent_today(self) -> float:
        if self._today() != self._day:
            self._day, self._spent = self._today(), 0.0
        return self._spent

    async def add(self, usd: float) -> None:
        await self.spent_today()
        self._spent += usd
