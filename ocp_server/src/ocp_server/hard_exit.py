"""Ending the served process with os._exit, and what runs first.

The server ends with os._exit: at its normal end (cli.serve: the interpreter's teardown took
10 s of a loaded machine) and from its watchdog (stdio). os._exit skips two things that matter:

- multiprocessing's finalizers, which unlink the named semaphores of the index workers' queues
  (/dev/shm). Left to Python's resource tracker they were unlinked too, but it warned of
  "leaked semaphore objects" on the client's stderr. They run first; and from then on no pool
  is made (`making_named_semaphores`): one made at that moment got its semaphores after their
  unlinking had run, and leaked them.
- atexit handlers. OpenTelemetry's providers (`opentelemetry-instrument ocp-server`) export
  the spans they still hold there: the last requests' spans were lost. logging flushes its
  handlers there, and a host may have registered its own. They run in a thread for at most
  the time given: one that hangs (a collector that does not answer, a write to a stderr
  nobody reads) must not keep the process past the exit grace promised to the client.

Nothing else needs the teardown: the server's SQLite connections close in its lifespan (an
unclosed one in WAL mode is as safe as a crash), and its temporary files are renamed or
removed by the call that made them (mcp_config, calibration), never by an exit handler.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import NoReturn

__all__ = ["end_process", "making_named_semaphores", "prepare"]

_making = threading.Lock()  # held while a pool's named semaphores are made
_ending = threading.Lock()  # held by the one thread that ends the process
_no_more = False  # the process is ending: no named semaphore is made any more
_handlers_go = threading.Event()
_handlers_done = threading.Event()
_handlers_thread: threading.Thread | None = None
_preparing = threading.Lock()


def prepare() -> None:
    """Start the thread that runs the atexit handlers at the end (idempotent). Started before
    the end, not by it: a thread started from the watchdog deadlocks when the main thread is
    itself starting one, holding threading's lock for it (stdio._Watchdog)."""
    global _handlers_thread
    with _preparing:
        if _handlers_thread is None:
            _handlers_thread = threading.Thread(
                target=_run_atexit, name="ocp exit handlers", daemon=True
            )
            _handlers_thread.start()


@contextmanager
def making_named_semaphores() -> Iterator[bool]:
    """Held while objects with named semaphores are made (a process pool's queues); yields
    whether to make them: False once the process is ending (their unlinking has run)."""
    with _making:
        yield not _no_more


def end_process(within: float, *, flush_streams: bool = True) -> NoReturn:
    """Unlink the named semaphores, run the atexit handlers for at most `within` seconds in
    all, then os._exit(0). A second caller (the watchdog, while the main thread ends the
    process) exits at once: the first one's time is bounded, the watchdog's promise too.
    `flush_streams`: flush stdout and stderr last (not when stderr is not read: the flush
    would wait for ever)."""
    global _no_more
    if _ending.acquire(blocking=False):
        deadline = time.monotonic() + within
        # a pool being made now is waited for: its semaphores are then unlinked with the rest
        taken = _making.acquire(timeout=max(0.0, deadline - time.monotonic()))
        _no_more = True
        if taken:
            _making.release()
        _unlink_named_semaphores()
        prepare()
        _handlers_go.set()
        _handlers_done.wait(max(0.0, deadline - time.monotonic()))
        if flush_streams:
            with suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
    os._exit(0)


def _unlink_named_semaphores() -> None:
    """What multiprocessing does first at a normal exit: run the finalizers that unlink the
    named semaphores (the index workers keep theirs open, and end with the server: see
    index/lifeline)."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:  # else this process never made one
        with suppress(Exception):
            util._run_finalizers(0)  # those of exit priority 0 and up: no join, no wait


def _run_atexit() -> None:
    _handlers_go.wait()
    try:
        atexit._run_exitfuncs()  # each handler's error is printed by atexit itself
    finally:
        _handlers_done.set()
