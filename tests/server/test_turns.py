"""Turns: at most `limit` at once, the rest in arrival order, each told its place in line."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ocp_server.turns import ProgressNotices, Turns


class _Holder:
    """A task that takes a turn, reports where it waited, and holds it until released."""

    def __init__(self, turns: Turns, name: str, order: list[str]) -> None:
        self.told: list[int] = []
        self.release = asyncio.Event()
        self.holding = asyncio.Event()
        self.task = asyncio.create_task(self._run(turns, name, order))

    async def _tell(self, ahead: int) -> None:
        self.told.append(ahead)

    async def _run(self, turns: Turns, name: str, order: list[str]) -> None:
        async with turns.turn(self._tell):
            order.append(name)
            self.holding.set()
            await self.release.wait()


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_waiters_go_in_arrival_order_and_are_told_each_move_of_the_line() -> None:
    turns = Turns(1, every=0.0, heartbeat=3600)
    order: list[str] = []
    a, b, c = (_Holder(turns, name, order) for name in "abc")
    await _settle()
    assert order == ["a"] and a.told == [] and b.told == [0] and c.told == [1]
    a.release.set()
    await _settle()
    assert order == ["a", "b"] and c.told == [1, 0]
    b.release.set()
    c.release.set()
    await asyncio.gather(a.task, b.task, c.task)
    assert order == ["a", "b", "c"] and turns.running == 0


async def test_a_waiter_cancelled_leaves_the_line_and_those_behind_move_up() -> None:
    turns = Turns(1, every=0.0, heartbeat=3600)
    order: list[str] = []
    a, b, c = (_Holder(turns, name, order) for name in "abc")
    await _settle()
    b.task.cancel()
    await _settle()
    assert c.told == [1, 0]
    a.release.set()
    c.release.set()
    await asyncio.gather(a.task, c.task)
    assert order == ["a", "c"] and turns.running == 0


async def test_a_turn_handed_to_a_waiter_cancelled_meanwhile_passes_on() -> None:
    turns = Turns(1, every=0.0, heartbeat=3600)
    order: list[str] = []
    first = turns.turn()
    await first.__aenter__()
    b, c = (_Holder(turns, name, order) for name in "bc")
    await _settle()
    await first.__aexit__(None, None, None)  # b is handed the turn, and has not run since
    b.task.cancel()
    c.release.set()
    await _settle()
    assert order == ["c"] and b.task.cancelled()
    await c.task
    assert turns.running == 0


async def test_without_a_report_a_waiter_is_woken_only_for_its_turn() -> None:
    turns = Turns(2)
    order: list[str] = []
    first = [_Holder(turns, name, order) for name in "ab"]
    waiting = asyncio.create_task(_take(turns, order))
    await _settle()
    assert order == ["a", "b"]
    first[0].release.set()
    await waiting
    first[1].release.set()
    await first[0].task
    await first[1].task
    assert order == ["a", "b", "quiet"] and turns.running == 0


async def _take(turns: Turns, order: list[str]) -> None:
    async with turns.turn() as waited:
        assert waited
        order.append("quiet")


async def test_progress_values_always_grow() -> None:
    sent: list[tuple[float, float | None, str | None]] = []

    async def report(value: float, total: float | None, message: str | None) -> None:
        sent.append((value, total, message))

    notices = ProgressNotices(report)
    await notices.send("index", 0, 40)
    waiting = notices.route_wait(4)
    assert waiting is not None  # the call asked for progress
    await waiting(2)
    await notices.send("index again", 1, 40)  # less than sent before: one step on instead
    await notices.send("started")
    assert [v for v, _, _ in sent] == [0, 1, 2, 3]
    assert sent[0][1] == 40 and sent[2][1] is None
    assert sent[1][2] == (
        "waiting for a route slot: 2 ahead of this one, 4 running (OCP_ROUTE_CONCURRENCY=4)"
    )


async def test_a_call_without_a_progress_token_waits_in_line_unwoken() -> None:
    # Every route waited with a report, sent nowhere when its call carried no progress token:
    # each waiter then woke at every move of the line to look up its place (2,000 routes
    # queued behind 4: 12 s of event-loop CPU; 0.08 s woken only for their turn).
    sent: list[float] = []

    async def report(value: float, total: float | None, message: str | None) -> None:
        sent.append(value)

    assert ProgressNotices(report, wanted=False).route_wait(4) is None
    wanted = ProgressNotices(report).route_wait(4)
    assert wanted is not None
    await wanted(0)
    assert sent == [0]


async def test_a_long_line_of_routes_with_progress_costs_the_loop_work_linear_in_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each reporting waiter woke at every move of the line to look its place up (a deque.index):
    # 300 routes through one slot were some 45,000 wakeups, 2,000 were 13-23 s of event-loop
    # CPU (bench/bench_turns.py). Wakeups are what the loop schedules with call_soon.
    loop = asyncio.get_running_loop()
    scheduled = 0
    call_soon = loop.call_soon

    def counted(*args: Any, **kwargs: Any) -> asyncio.Handle:
        nonlocal scheduled
        scheduled += 1
        return call_soon(*args, **kwargs)

    monkeypatch.setattr(loop, "call_soon", counted)
    turns = Turns(1)
    told = 0

    async def tell(ahead: int) -> None:
        nonlocal told
        told += 1

    async def route() -> None:
        async with turns.turn(tell):
            await asyncio.sleep(0)

    routes = 300
    await asyncio.gather(*(route() for _ in range(routes)))
    assert turns.running == 0 and told >= routes - 1
    assert scheduled < 20 * routes, scheduled


async def test_a_waiter_whose_line_does_not_move_is_told_its_place_again() -> None:
    # The heartbeat: progress that resets a client's timeout while the route still waits.
    turns = Turns(1, heartbeat=0.01)
    order: list[str] = []
    holder = _Holder(turns, "a", order)
    told: list[int] = []
    twice = asyncio.Event()

    async def tell(ahead: int) -> None:
        told.append(ahead)
        if len(told) == 2:
            twice.set()

    async def wait_in_line() -> None:
        async with turns.turn(tell):
            order.append("b")

    waiter = asyncio.create_task(wait_in_line())
    async with asyncio.timeout(5):
        await twice.wait()
    assert told[:2] == [0, 0] and order == ["a"]
    holder.release.set()
    await asyncio.gather(holder.task, waiter)
    assert order == ["a", "b"] and turns.running == 0
