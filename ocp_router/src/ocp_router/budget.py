"""Spending limits and the ledger of what paid calls cost today."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ocp_router import _arguments as arguments

__all__ = ["Budget", "MemoryLedger", "SpendLedger", "usd", "usd_limit"]


def usd_limit(value: float) -> str:
    """A limit as a person writes it: fixed-point, never an exponent, no trailing zeros
    ($0.0000001 for 1e-07, $5 for 5.0, $0.25); `:g` printed $1e-07."""
    if not math.isfinite(value):
        return f"${value}"
    return f"${Decimal(repr(value)).normalize():f}"


def usd(value: float) -> str:
    """An amount spent or estimated: four decimals, and for a nonzero amount under half a
    hundredth of a cent, two significant digits ($0.00000012), not $0.0000 next to a tiny limit."""
    if value == 0 or abs(value) >= 0.00005 or not math.isfinite(value):
        return f"${value:.4f}"
    places = 1 - math.floor(math.log10(abs(value)))  # two significant digits
    return f"${value:.{places}f}"


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
