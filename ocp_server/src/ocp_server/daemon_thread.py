"""Work in a daemon thread, awaited from the event loop.

asyncio.to_thread runs work in the loop's default pool, whose threads `asyncio.run` and the
interpreter's exit both wait for: a call that never returns keeps its pool thread, and the
process can then not end. A daemon thread never holds up the exit (it stops with the
process), and a call that never returns takes no thread that later work needs: a call is
handed to a daemon thread left idle by an earlier one (starting a thread cost 130 us a call,
twice a hand-over's, and the proxy hands over every step of every request), else to a new
one. A thread idle for IDLE_SECONDS ends."""

from __future__ import annotations

import asyncio
import ctypes
import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

__all__ = ["WorkStopped", "in_daemon_thread", "stoppable_in_daemon_thread"]

T = TypeVar("T")

#: Seconds an idle thread waits for another call before it ends.
IDLE_SECONDS = 30.0

# A call: runs the work and returns what hands its outcome over, which its thread calls once
# counted idle (whoever awaited it finds that thread free for the next call).
_Job = Callable[[], Callable[[], None]]


class _Idle:
    """The daemon threads waiting for work, and the calls handed to them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: queue.SimpleQueue[tuple[_Job, str]] = queue.SimpleQueue()
        self.waiting = 0  # threads idle, less the jobs queued for them

    def start(self, job: _Job, name: str) -> None:
        with self.lock:  # counted and queued at once: `_next` relies on it
            if self.waiting:
                self.waiting -= 1
                self.jobs.put((job, name))
                return
        # In a list the thread empties: a Thread keeps its arguments until its target returns,
        # and an idle thread is to hold nothing of its last call (a request's body, say).
        first = [(job, name)]
        threading.Thread(target=self._run, args=(first,), name=name, daemon=True).start()

    def _run(self, first: list[tuple[_Job, str]]) -> None:
        handed: tuple[_Job, str] | None = first.pop()
        while handed is not None:
            threading.current_thread().name = handed[1]
            deliver = handed[0]()
            handed = None
            with self.lock:
                self.waiting += 1
            deliver()
            del deliver
            handed = self._next()

    def _next(self) -> tuple[_Job, str] | None:
        try:
            return self.jobs.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            with self.lock:  # a job queued as the wait ended was counted for this thread
                try:
                    return self.jobs.get_nowait()
                except queue.Empty:
                    self.waiting -= 1
                    return None


_idle = _Idle()


class WorkStopped(BaseException):
    """Raised in a call's thread when whoever awaited it gave it up (`stop`). A BaseException:
    the work's own `except Exception` does not swallow it."""


# Held while a call is marked started or finished, and while it is stopped: a stop reaches
# only a call still running, never the next call its thread takes.
_stop_lock = threading.Lock()


class _Call:
    def __init__(self) -> None:
        self.thread: int | None = None  # its thread's id, once started
        self.running = False
        self.stopped = False

    def begin(self) -> bool:
        """Marks the call running in this thread; False if it was stopped before it began."""
        with _stop_lock:
            self.thread, self.running = threading.get_ident(), not self.stopped
            return self.running

    def finish(self) -> None:
        """Marks the call over and takes back a stop that came too late to be raised in it.
        A stop raised in here, between the two, is taken back on the next pass."""
        while True:
            try:
                with _stop_lock:
                    self.running = False
                    _raise_in(threading.get_ident(), None)
                return
            except WorkStopped:
                continue

    def stop(self) -> bool:
        """WorkStopped raised in the call's thread, if it is still running (at its next line of
        Python: a C function, a regex or a wait, runs on to its end first). Whether it was."""
        with _stop_lock:
            self.stopped = True
            if not self.running or self.thread is None:
                return False
            _raise_in(self.thread, WorkStopped)
            return True


def _raise_in(thread: int, exception: type[BaseException] | None) -> None:
    """`exception` raised in `thread` at its next line of Python (None: the one pending, not)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exception) if exception else None
    )


def in_daemon_thread(fn: Callable[[], T], name: str) -> asyncio.Future[T]:
    """`fn()` started now in a daemon thread named `name`; the future settles with its result
    or exception. Cancelling the future leaves the thread running to its end, unwatched."""
    return stoppable_in_daemon_thread(fn, name)[0]


def stoppable_in_daemon_thread(
    fn: Callable[[], T], name: str
) -> tuple[asyncio.Future[T], Callable[[], bool]]:
    """`in_daemon_thread`, and what stops the call when it is given up: WorkStopped raised in
    its thread, which then goes on to other calls (Python cannot end a thread; a call stuck in
    one C function or wait keeps it until that returns)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    call = _Call()

    def settle(outcome: Callable[[], None]) -> None:
        if not done.done():
            outcome()

    def run() -> Callable[[], None]:
        try:
            try:
                if not call.begin():
                    raise WorkStopped
                value = fn()
            finally:
                call.finish()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
            outcome = lambda: done.set_exception(error)  # noqa: E731
        else:
            outcome = lambda: done.set_result(value)  # noqa: E731

        def deliver() -> None:
            with suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(settle, outcome)

        return deliver

    _idle.start(run, name)
    return done, call.stop
