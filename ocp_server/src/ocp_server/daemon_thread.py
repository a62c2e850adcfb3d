"""Work in a daemon thread of its own, awaited from the event loop.

asyncio.to_thread runs work in the loop's default pool, whose threads `asyncio.run` and the
interpreter's exit both wait for: a call that never returns keeps its pool thread, and the
process can then not end. A daemon thread never holds up the exit (it stops with the
process), and a call that never returns takes no pool thread that later work needs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

__all__ = ["in_daemon_thread"]

T = TypeVar("T")


def in_daemon_thread(fn: Callable[[], T], name: str) -> asyncio.Future[T]:
    """`fn()` started now in a daemon thread named `name`; the future settles with its result
    or exception. Cancelling the future leaves the thread running to its end, unwatched."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not done.done():
            outcome()

    def run() -> None:
        try:
            value = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
            with suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(settle, lambda: done.set_exception(error))
        else:
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: done.set_result(value))

    threading.Thread(target=run, name=name, daemon=True).start()
    return done
