"""Work that grows with a request runs in a worker thread once the request is large.

Parsing, judging, redacting and serialising a conversation cost about a second per 10 MB of
it (a proxy request may be 32 MB). On the event loop that second holds up every other call
and every stream being relayed; in a thread it holds up only its own request. Below the
router's bound (OFF_LOOP_CHARS) the thread's hop costs more than the work."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ocp_router.router import OFF_LOOP_CHARS

T = TypeVar("T")

__all__ = ["OFF_LOOP_CHARS", "collector_paused", "off_loop", "off_loop_building"]


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


_pause_lock = threading.Lock()
_pauses = 0
_paused_by_us = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while JSON is parsed into many objects.

    The collector runs every few hundred new containers and walks the young ones, and more
    and more of the old as they pile up: a 30 MB body of 60,000 messages parsed in 0.2 s
    with it off took 0.5-1 s with it on, all in one call that holds the GIL (the event loop
    waits on it, in whichever thread the parse runs). What the parser builds holds no
    cycles, so the collector finds nothing there. Process-wide, so counted: it is back on
    once the last pause ends, and left off if it was off before."""
    global _pauses, _paused_by_us
    with _pause_lock:
        if _pauses == 0:
            _paused_by_us = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _paused_by_us:
                gc.enable()
