"""Work handed to daemon threads: an idle one takes the next call (starting a thread cost
three times a hand-over), a call that never returns keeps only its own thread, an idle thread
holds nothing of its last call and ends after IDLE_SECONDS, and a call given up is stopped
(WorkStopped raised in its thread), never the next call its thread takes."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

import pytest

from ocp_server import daemon_thread
from ocp_server.daemon_thread import WorkStopped, in_daemon_thread, stoppable_in_daemon_thread
from ocp_server.off_loop import OFF_LOOP_CHARS, WorkTimedOut, off_loop_within


class Body:
    """Something a call holds (a request's body) whose release can be watched."""


async def test_an_idle_thread_takes_the_next_call_and_a_hung_one_keeps_only_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(daemon_thread, "_idle", daemon_thread._Idle())  # none idle yet
    first = await in_daemon_thread(threading.current_thread, "ocp-test")
    second = await in_daemon_thread(threading.current_thread, "ocp-test-again")
    assert first is second and first.daemon and first.name == "ocp-test-again"
    entered, release = threading.Event(), threading.Event()

    def hang() -> threading.Thread:
        entered.set()
        release.wait()
        return threading.current_thread()

    hung = in_daemon_thread(hang, "ocp-hung")  # the idle thread takes it
    try:
        assert entered.wait(10)
        other = await asyncio.wait_for(in_daemon_thread(threading.current_thread, "x"), 10)
        assert other is not first and first.name == "ocp-hung"
        with pytest.raises(ZeroDivisionError):
            await in_daemon_thread(lambda: 1 // 0, "ocp-fails")
    finally:
        release.set()
    assert await hung is first


async def test_an_idle_thread_holds_nothing_of_its_last_call_and_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(daemon_thread, "IDLE_SECONDS", 0.2)
    monkeypatch.setattr(daemon_thread, "_idle", daemon_thread._Idle())  # none idle yet
    body = Body()
    held = weakref.ref(body)

    def work(kept: Body = body) -> threading.Thread:
        return threading.current_thread()

    thread = await in_daemon_thread(work, "ocp-test")
    del body, work
    gc.collect()
    assert held() is None
    thread.join(10)
    assert not thread.is_alive()


async def test_work_given_up_in_python_is_stopped_and_its_thread_serves_again() -> None:
    # A step past OCP_PROXY_WORK_TIMEOUT was answered 500, and its thread stayed until exit,
    # spinning: now WorkStopped is raised in it, at its next line of Python.
    spinning, stopped = threading.Event(), threading.Event()

    def spin() -> None:
        try:
            while True:
                spinning.set()
        except WorkStopped:
            stopped.set()
            raise

    with pytest.raises(WorkTimedOut, match="spin did not finish within 0.2 s"):
        await off_loop_within(0.2, "spin", OFF_LOOP_CHARS, spin)
    assert spinning.is_set() and await asyncio.to_thread(stopped.wait, 10)
    assert await off_loop_within(10, "sum", 0, sum, [1, 2]) == 3  # served, and not stopped


async def test_a_stop_reaches_only_the_call_it_was_for() -> None:
    future, stop = stoppable_in_daemon_thread(lambda: 1, "ocp-test")
    assert await future == 1
    assert stop() is False  # over: nothing raised in its thread, which takes the next call
    assert await in_daemon_thread(lambda: sum(range(100_000)), "ocp-test") == 4_999_950_000
