"""Work that grows with a request runs in a worker thread once the request is large.

Parsing, judging, redacting and serialising a conversation cost about a second per 10 MB of
it (a proxy request may be 32 MB). On the event loop that second holds up every other call
and every stream being relayed; in a thread it holds up only its own request. Below the
router's bound (OFF_LOOP_CHARS) the thread's hop costs more than the work.

`off_loop_within` is the proxy's: whatever its size, a body's work leaves the event loop, and
the wait for it is bounded, as the request must be answered whatever its body makes the work
do. A small body is no bound on the work: 48 KB that redaction reads slowly ("key=" over and
over) took 190-300 ms of it, on the loop, holding up every other client. The work runs in a
daemon thread; one given up is stopped there (WorkStopped, raised at its next line of Python),
and one that does not return even so (stuck in one C call or wait) is left behind (Python
cannot end a thread) without holding a pool's thread or the process's exit (daemon_thread)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from ocp_router.router import OFF_LOOP_CHARS
from ocp_server.collector import collector_paused
from ocp_server.daemon_thread import stoppable_in_daemon_thread

T = TypeVar("T")

__all__ = [
    "OFF_LOOP_CHARS",
    "WorkTimedOut",
    "collector_paused",
    "off_loop",
    "off_loop_building",
    "off_loop_within",
]


async def off_loop(size: int, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)`, in a worker thread when `size` (characters or bytes of the
    request it works on) reaches OFF_LOOP_CHARS."""
    if size < OFF_LOOP_CHARS:
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


async def off_loop_building(size: int, fn: Callable[..., T], *args: Any) -> T:
    """`off_loop` for work that builds many objects and no cycles (reading a conversation
    into the router's payload, redacting its texts): once large, the collector is paused while it
    runs."""
    if size < OFF_LOOP_CHARS:
        return fn(*args)

    def paused() -> T:
        with collector_paused():
            return fn(*args)

    return await asyncio.to_thread(paused)


class WorkTimedOut(Exception):
    """Work given to `off_loop_within` did not finish in time (its thread is left behind)."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what} did not finish within {seconds:g} s")
        self.what, self.seconds = what, seconds


async def off_loop_within(
    seconds: float, what: str, size: int, fn: Callable[..., T], *args: Any, building: bool = False
) -> T:
    """`fn(*args)` in a daemon thread whatever `size`, with WorkTimedOut after `seconds`;
    `what` names the work in its message. With the collector paused when `building` and `size`
    is large (as `off_loop_building`)."""

    def work() -> T:
        if not building or size < OFF_LOOP_CHARS:
            return fn(*args)
        with collector_paused():
            return fn(*args)

    running, stop = stoppable_in_daemon_thread(work, "ocp-work")
    try:
        finished, _ = await asyncio.wait({running}, timeout=seconds)
    finally:
        if not running.done():  # timed out or cancelled: its outcome goes unread
            running.cancel()
            stop()  # work in Python ends at its next line; a C call or a wait runs on
    if not finished:
        raise WorkTimedOut(what, seconds)
    return running.result()
