"""Work that grows with a request runs in a worker thread once the request is large.

Parsing, judging, redacting and serialising a conversation cost about a second per 10 MB of
it (a proxy request may be 32 MB). On the event loop that second holds up every other call
and every stream being relayed; in a thread it holds up only its own request. Below the
router's bound (OFF_LOOP_CHARS) the thread's hop costs more than the work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from ocp_router.router import OFF_LOOP_CHARS
from ocp_server.collector import collector_paused

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
