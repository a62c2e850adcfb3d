"""Calls that run at once, at most `limit`; the rest wait in arrival order, each told its
place in line; and one request's progress notices.

asyncio.Semaphore keeps its waiters to itself: a route waiting behind four long ones could
say nothing of it, while the client's timeout for the call ran on. Here a waiter learns how
many are ahead of it (`on_wait(ahead)`) when it joins the line, when the line moves (at most
every `every` seconds: a line of 300 moving 300 times is not 45,000 notices), and every
`heartbeat` seconds while it does not move. The server sends these as MCP progress notices,
which Claude Code shows on the running call and which reset the timeout of clients that
reset it on progress (see README, "Over stdio").
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

__all__ = ["ProgressNotices", "Turns"]

WaitReport = Callable[[int], Awaitable[None]]


@dataclass(eq=False, slots=True)
class _Waiter:
    reports: bool  # told of every move of the line (else woken only for its turn)
    moved: anyio.Event = field(default_factory=anyio.Event)
    granted: bool = False  # the turn was handed to it by one that ended


class Turns:
    """At most `limit` holders at once; the others wait, first come first served."""

    def __init__(self, limit: int, *, every: float = 1.0, heartbeat: float = 10.0) -> None:
        self.limit = limit
        self.every = every
        self.heartbeat = heartbeat
        self.running = 0
        self._line: deque[_Waiter] = deque()

    @asynccontextmanager
    async def turn(self, on_wait: WaitReport | None = None) -> AsyncIterator[bool]:
        """Hold a turn for the block; yields whether it had to wait for it. A caller
        cancelled while waiting leaves the line, and those behind it move up."""
        waited = self.running >= self.limit or bool(self._line)
        if waited:
            await self._wait(on_wait)
        else:
            self.running += 1
        try:
            yield waited
        finally:
            self._release()

    async def _wait(self, on_wait: WaitReport | None) -> None:
        me = _Waiter(reports=on_wait is not None)
        self._line.append(me)
        told: int | None = None
        last = -math.inf  # when it was last told
        try:
            while not me.granted:
                me.moved = anyio.Event()
                if on_wait is None:
                    await me.moved.wait()
                    continue
                ahead = self._line.index(me)
                due = last + (self.heartbeat if ahead == told else self.every)
                now = time.monotonic()
                if now >= due:
                    await on_wait(ahead)
                    told, last = ahead, time.monotonic()
                    continue  # the line may have moved meanwhile
                with anyio.move_on_after(due - now):
                    await me.moved.wait()
        except BaseException:
            if me.granted:  # handed the turn as it left: on to the next one
                self._release()
            else:
                self._line.remove(me)
                self._moved()
            raise

    def _release(self) -> None:
        if self._line:
            nxt = self._line.popleft()  # the turn passes on: `running` stays the same
            nxt.granted = True
            nxt.moved.set()
            self._moved()
        else:
            self.running -= 1

    def _moved(self) -> None:
        for waiter in self._line:
            if waiter.reports:
                waiter.moved.set()


Report = Callable[[float, float | None, str | None], Awaitable[None]]


class ProgressNotices:
    """One request's progress notices (`report` is the session's, a no-op when the request
    carried no progress token), their values increasing as MCP requires of them. `wanted`:
    the request carried a token (else a route waits unwoken by moves of the line)."""

    def __init__(self, report: Report, *, wanted: bool = True) -> None:
        self.report = report
        self.wanted = wanted
        self.last = -1.0

    async def send(
        self, message: str, done: float | None = None, total: float | None = None
    ) -> None:
        """`done` of `total` when it is more than was reported before; else one step on."""
        if done is not None and done > self.last:
            value, out_of = done, total
        else:
            value, out_of = self.last + 1, None
        self.last = value
        await self.report(value, out_of, message)

    def route_wait(self, limit: int) -> WaitReport | None:
        if not self.wanted:  # a reporting waiter wakes at every move: none for nothing
            return None

        async def waiting(ahead: int) -> None:
            await self.send(
                f"waiting for a route slot: {ahead} ahead of this one, {limit} running "
                f"(OCP_ROUTE_CONCURRENCY={limit})"
            )

        return waiting
