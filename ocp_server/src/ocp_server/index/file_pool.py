"""Worker processes for a build of many files.

Reading, chunking, packing the terms and checking a chunk for secrets are Python work that one
process does on one core; a first build of a large repository spends most of its time there.
So an update with many files to read hands them to worker processes, and one with few (an edit,
a small workspace) keeps them in the indexer's thread, where starting processes would cost more
than it saves.

Workers fork from a server process started fresh (`forkserver`, or `spawn` where there is none),
never from the caller, whose threads could hold locks a fork would copy. Whatever a worker
writes goes to this process's log (worker_output): in an MCP server stdout carries only
protocol messages, and stderr may be a pipe nobody reads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, ForkServerProcess, SpawnContext
from typing import TypeVar

import aiosqlite

from ocp_router.redact_names import NameRedactingFilter
from ocp_server.hard_exit import making_named_semaphores
from ocp_server.index import clean_text
from ocp_server.index.lifeline import Lifeline, hold
from ocp_server.index.worker_output import WorkerOutput, start_worker

__all__ = [
    "MAX_WORKERS",
    "PARALLEL_MIN_FILES",
    "WORKERS_META_KEY",
    "Workers",
    "file_pool",
    "note_workers",
    "worker_count",
    "workers_failed",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

PARALLEL_MIN_FILES = 100  # fewer files than this are read in the indexer's thread
MAX_WORKERS = 4  # the writer (one thread) keeps up with about this many
WORKERS_META_KEY = "workers_failed"  # the last update that wanted workers: why it had none


def worker_count() -> int:
    """Worker processes a large build uses: the cores this process may run on, up to
    MAX_WORKERS; 1 means no workers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def _init_worker(lifeline: Connection) -> None:
    """Run by start_worker once the worker's output goes to the server's log (not our stdout,
    the MCP channel, nor stderr, perhaps never read)."""
    hold(lifeline)  # the worker ends with the server, whatever it is doing
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build in its parent
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(NameRedactingFilter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def _rules_digest() -> str:
    """The redaction rules a worker loaded (`clean_text.RULES_DIGEST` there)."""
    return clean_text.RULES_DIGEST


class IndexWorker(ForkServerProcess):
    """An indexing worker: by this class's name (each one's is `IndexWorker-N`) worker_boot
    knows it needs nothing from `__main__` and does not import it again."""


class _WorkerContext(ForkServerContext):
    Process = IndexWorker


def worker_context() -> ForkServerContext | SpawnContext:
    """How worker processes start: forked from a fresh server process (`forkserver`) that
    loaded `worker_boot` (the indexer, and Ctrl-C ignored), or `spawn` where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = _WorkerContext()
    context.set_forkserver_preload(["ocp_server.index.worker_boot"])
    return context


class _NotStarted(Exception):
    """The workers could not start: `said` why, and how their processes `ended` ("" when
    none did), for the log and the status."""

    def __init__(self, said: str, ended: str = "") -> None:
        super().__init__(said)
        self.said, self.ended = said, ended


START_TIMEOUT = 60  # seconds for the first worker to answer: a loaded machine, not a hang


def _named(fn: Callable[..., object]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def _ended(processes: list[multiprocessing.process.BaseProcess]) -> str:
    """How the pool's processes ended ("" while they run), e.g. "exit code 1"."""
    codes = sorted({p.exitcode for p in processes if p.exitcode is not None})
    said = [f"killed by signal {-c}" if c < 0 else f"exited with code {c}" for c in codes]
    return f"a worker {' or '.join(said)}" if said else ""


def _start(workers: int, output: WorkerOutput, lifeline: Lifeline) -> ProcessPoolExecutor | None:
    """The started workers, None when the process is ending; _NotStarted when they cannot."""
    context = worker_context()
    try:
        with making_named_semaphores() as allowed:
            if not allowed:  # the process is ending: the unlinking of semaphores has run
                return None
            pool = ProcessPoolExecutor(
                workers,
                mp_context=context,
                initializer=start_worker,
                initargs=(output.writer, _named(_init_worker), lifeline.reader),
            )
    except Exception as exc:  # a sandbox without semaphores still indexes
        raise _NotStarted(f"{type(exc).__name__}: {exc}") from exc
    try:
        # The workers start, or we learn they cannot. Their flags are stored as found with our
        # rules: workers that loaded other ones (the source changed since we started) are not
        # used.
        theirs = pool.submit(_rules_digest).result(timeout=START_TIMEOUT)
    except Exception as exc:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        hung = isinstance(exc, TimeoutError)  # the lifeline's cut ends them (Workers.start)
        pool.shutdown(wait=not hung, cancel_futures=True)  # a broken pool has ended them
        said = f"no answer within {START_TIMEOUT} s" if hung else f"{type(exc).__name__}: {exc}"
        raise _NotStarted(said, _ended(processes)) from exc
    if theirs != clean_text.RULES_DIGEST:
        pool.shutdown(wait=True, cancel_futures=True)
        raise _NotStarted(
            f"they loaded other redaction rules ({theirs}, ours {clean_text.RULES_DIGEST}): "
            "OCP's files changed since this server started; restart it"
        )
    return pool


class Workers:
    """Worker processes while they start: files are read in the indexer's thread until
    `pool` is there, so a build never waits for them."""

    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None  # set once, from the thread starting it
        self.count = 0  # worker processes started
        self.wanted = False  # whether they were started (or tried)
        # Why files were read in the thread instead (the workers could not start, or failed
        # during the build), for the log, the update's summary and `ocp-server status`.
        self.failure: str | None = None
        self._output: WorkerOutput | None = None
        self._lifeline: Lifeline | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._starting: threading.Thread | None = None

    def start_in_background(self, workers: int) -> None:
        self.wanted = True
        self._starting = threading.Thread(
            target=self.start, args=(workers,), name="ocp-index-workers", daemon=True
        )
        self._starting.start()

    def start(self, workers: int) -> None:
        """Start the workers (in a thread of its own: it takes about half a second)."""
        self.wanted = True
        output, lifeline = WorkerOutput(), Lifeline()
        try:
            pool = _start(workers, output, lifeline)
        except _NotStarted as exc:
            lifeline.cut()
            output.close()
            told = output.last_words(timeout=5)  # a worker's traceback ends with its cause
            why = "; ".join(w for w in (told or exc.said, exc.ended) if w)
            self.failure = f"could not start ({why})"
            logger.warning("index worker processes %s; reading files in one thread", self.failure)
            return
        with self._lock:
            if pool is not None and not self._closed:
                self.count, self.pool = workers, pool
                self._output, self._lifeline = output, lifeline
                return
        if pool is not None:  # the update ended first
            pool.shutdown(wait=True, cancel_futures=True)
        lifeline.cut()
        output.close()

    def submit_all(
        self, fn: Callable[..., T], calls: Iterable[tuple[object, ...]]
    ) -> list[Future[T]] | None:
        """Each call handed to the workers, or None: no workers (not yet, not wanted, or
        failed), and the caller does the work itself."""
        pool = self.pool
        if pool is None:
            return None
        try:
            return [pool.submit(fn, *args) for args in calls]
        except (BrokenExecutor, RuntimeError) as exc:  # RuntimeError: shut down meanwhile
            self.broke(exc)
            return None

    def broke(self, exc: BaseException) -> None:
        """The workers failed (one was killed, ran out of memory): no more work goes to them,
        and what they had not done is done by the caller."""
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            self.failure = f"failed during the build ({type(exc).__name__}: {exc})"
            logger.warning("index worker processes %s; reading on in one thread", self.failure)
            pool.shutdown(wait=True, cancel_futures=True)  # the pool ends the rest: none left
            self._close_output()

    def close(self, *, at_once: bool = False) -> None:
        """Drop unfinished work and wait for the workers to exit: each after its file, or
        `at_once` (the update was stopped: the server may be leaving, and its watchdog ends it
        a second later, before the pool had unlinked its queues' semaphores).

        A worker still starting when this process exits would find the semaphores of its
        queues unlinked and print a traceback, so none is left behind: not even one the
        background thread is starting (it takes a second at most)."""
        with self._lock:
            self._closed = True
            pool = self.pool
        if self._starting is not None:
            self._starting.join()
        if at_once:
            self._close_output()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._close_output()

    def _close_output(self) -> None:
        with self._lock:
            output, self._output = self._output, None
            lifeline, self._lifeline = self._lifeline, None
        if lifeline is not None:
            lifeline.cut()
        if output is not None:
            output.close()


@asynccontextmanager
async def file_pool(files: int) -> AsyncIterator[Workers]:
    """Worker processes for an update that reads `files` files, started in the background;
    none when it should read them in its own thread (few files or one core)."""
    workers = Workers()
    count = worker_count()
    if count >= 2 and files >= PARALLEL_MIN_FILES:
        workers.start_in_background(count)
    try:
        yield workers
    except BaseException:
        await asyncio.to_thread(workers.close, at_once=True)  # not on the event loop: it waits
        raise
    else:
        await asyncio.to_thread(workers.close)


async def note_workers(db: aiosqlite.Connection, failure: str | None) -> None:
    """Record why an update that wanted workers read its files in its thread (None: it
    did not), for `ocp-server status` and doctor, which read another process's database."""
    if failure is None:
        await db.execute("DELETE FROM meta WHERE key = ?", (WORKERS_META_KEY,))
        return
    await db.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (WORKERS_META_KEY, json.dumps({"failure": failure, "at": time.time()})),
    )


def workers_failed(value: str | None) -> tuple[str, float] | None:
    """A recorded failure (note_workers) as (what, when), None when there is none."""
    try:
        found = json.loads(value or "null")
        return (str(found["failure"]), float(found["at"])) if found else None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
