"""Calls that run at once, at most `limit`; the rest wait in arrival order, each told its
place in line; and one request's progress notices.

asyncio.Semaphore keeps its waiters to itself: a route waiting behind four long ones could
say nothing of it, while the client's timeout for the call ran on. Here a waiter learns how
many are ahead of it (`on_wait(ahead)`) when it joins the line, when the line moves, and
every `heartbeat` seconds while it does not move. The server sends these as MCP progress
notices, which Claude Code shows on the running call and which reset the timeout of clients
that reset it on progress (see README, "Over stdio").

A move of the line costs the same however long the line is: the places are counted in one
pass at most every `every` seconds, and only waiters whose place changed are woken (each
waiter looking its place up at each move was quadratic: 2,000 routes queued with progress
tokens cost 13-23 s of event-loop CPU, 0.14-0.24 s now; bench/bench_turns.py). Both periods
are constants rather than settings: 10 s is far below every client timeout progress resets
(the TypeScript SDK's 60 s; Claude Code's 5 and 30 min idle watchdogs), and one count a
second is as often as a person reads the notice.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from ocp_wire import SLOT_WAITING

__all__ = ["ProgressNotices", "Turns"]

WaitReport = Callable[[int], Awaitable[None]]


@dataclass(eq=False, slots=True)
class _Waiter:
    reports: bool  # told of its place (else woken only for its turn)
    ahead: int  # waiters before it, as last counted
    moved: anyio.Event = field(default_factory=anyio.Event)  # granted, or `ahead` changed
    granted: bool = False  # the turn was handed to it by one that ended
    left: bool = False  # cancelled while waiting: skipped when the line reaches it


class Turns:
    """At most `limit` holders at once; the others wait, first come first served."""

    def __init__(self, limit: int, *, every: float = 1.0, heartbeat: float = 10.0) -> None:
        self.limit = limit
        self.every = every
        self.heartbeat = heartbeat
        self.running = 0
        # Waiters in arrival order; those that left stay until the line reaches them, so
        # leaving costs nothing however long the line is.
        self._line: deque[_Waiter] = deque()
        self._waiting = 0  # in the line and not left
        self._reporting = 0  # of those, the ones told their place
        self._count_due: tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle] | None = None
        self._counted = -math.inf  # the loop's time of the last count

    @asynccontextmanager
    async def turn(self, on_wait: WaitReport | None = None) -> AsyncIterator[bool]:
        """Hold a turn for the block; yields whether it had to wait for it. A caller
        cancelled while waiting leaves the line, and those behind it move up."""
        waited = self.running >= self.limit or self._waiting > 0
        if waited:
            await self._wait(on_wait)
        else:
            self.running += 1
        try:
            yield waited
        finally:
            self._release()

    async def _wait(self, on_wait: WaitReport | None) -> None:
        me = _Waiter(reports=on_wait is not None, ahead=self._waiting)
        self._line.append(me)
        self._waiting += 1
        self._reporting += me.reports
        told: int | None = None
        try:
            while not me.granted:
                if on_wait is not None and me.ahead != told:
                    told = me.ahead
                    await on_wait(told)
                    continue  # the line may have moved meanwhile
                me.moved = anyio.Event()  # set by any change from here on
                if on_wait is None:
                    await me.moved.wait()
                    continue
                with anyio.move_on_after(self.heartbeat) as quiet:
                    await me.moved.wait()
                if quiet.cancelled_caught:
                    told = None  # the heartbeat: told its place again
        except BaseException:
            if me.granted:  # handed the turn as it left: on to the next one
                self._release()
            else:
                me.left = True
                self._waiting -= 1
                self._reporting -= me.reports
                self._moved()
            raise

    def _release(self) -> None:
        while self._line:
            nxt = self._line.popleft()
            if nxt.left:
                continue
            self._waiting -= 1
            self._reporting -= nxt.reports
            nxt.granted = True  # the turn passes on: `running` stays the same
            nxt.moved.set()
            self._moved()
            return
        self.running -= 1

    def _moved(self) -> None:
        """Count the places again soon: at once when the last count is `every` seconds old,
        else when it will be (moves meanwhile share that one count)."""
        if self._reporting == 0:
            return
        if self._count_due is not None and not self._count_due[0].is_closed():
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._counted + self.every - loop.time())
        self._count_due = (loop, loop.call_later(delay, self._count))

    def _count(self) -> None:
        """One pass over the line: each reporting waiter whose place changed is woken."""
        assert self._count_due is not None
        self._counted = self._count_due[0].time()
        self._count_due = None
        ahead = 0
        for waiter in self._line:
            if waiter.left:
                continue
            if waiter.reports and waiter.ahead != ahead:
                waiter.ahead = ahead
                waiter.moved.set()
            ahead += 1


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
                f"{SLOT_WAITING}: {ahead} ahead of this one, {limit} running "
                f"(OCP_ROUTE_CONCURRENCY={limit})"
            )

        return waiting
