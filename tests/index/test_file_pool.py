"""A build of many files reads them in worker processes, with the same rows as one thread."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import BrokenExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from ocp_server.index import clean_text
from ocp_server.index import file_pool as file_pool_module
from ocp_server.index import indexer as indexer_module
from ocp_server.index.file_pool import Workers, file_pool
from ocp_server.index.workspace import WorkspaceIndex

ROWS = (
    "SELECT f.path, c.start_line, c.end_line, c.symbol, c.kind, c.scope, c.text,"
    " c.content_hash, c.terms, c.pairs, c.names, c.length, c.tokens, c.clean"
    " FROM chunks c JOIN files f ON f.id = c.file_id ORDER BY f.path, c.start_line, c.id"
)


def _workspace(root: Path) -> Path:
    root.mkdir()
    for i in range(30):
        (root / f"mod_{i}.py").write_text(
            f'"""Module {i}."""\n\n\ndef handle_{i}(value):\n    return value + {i}\n\n\n'
            f"class Thing{i}:\n    def run(self):\n        return handle_{i}({i})\n"
        )
        (root / f"lib_{i}.rs").write_text(f"pub fn parse_{i}(s: &str) -> usize {{ s.len() }}\n")
    # a chunk redaction changes: its flag must come back from the worker as it went in
    (root / "settings.py").write_text('API_KEY = "sk-ant-api03-' + "Zx9" * 30 + '"\n')
    return root


async def _build(root: Path, db: Path) -> tuple[int, list[tuple[object, ...]]]:
    idx = await WorkspaceIndex.open(root, db)
    try:
        summary = await idx.update()
    finally:
        await idx.close()
    assert summary is not None
    with sqlite3.connect(db) as conn:
        return summary.workers, conn.execute(ROWS).fetchall()


async def test_worker_processes_write_the_same_rows_as_one_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace(tmp_path / "ws")
    workers_alone, rows_alone = await _build(root, tmp_path / "thread.db")

    @asynccontextmanager
    async def started(files: int) -> AsyncIterator[Workers]:
        workers = Workers()
        await asyncio.to_thread(workers.start, 2)  # there before the first file
        try:
            yield workers
        finally:
            workers.close()

    monkeypatch.setattr(indexer_module, "file_pool", started)
    # batches of 7: the next batch is read while one is written
    monkeypatch.setattr(indexer_module, "BATCH_FILES", 7)
    workers_pooled, rows_pooled = await _build(root, tmp_path / "pool.db")
    assert (workers_alone, workers_pooled) == (1, 2)
    assert len(rows_pooled) > 60
    assert rows_pooled == rows_alone
    flags = [row[-1] for row in rows_pooled]
    assert any(isinstance(f, int) and not f & clean_text.TEXT_CLEAN for f in flags)  # the key's


async def _build_with(
    root: Path,
    db: Path,
    after_file: Callable[[Workers, int], None] | None = None,
    *,
    break_first: bool = False,
) -> tuple[Workers, list[tuple[object, ...]]]:
    """A build whose workers are running from its first file; `after_file(workers, done)`
    runs after each file."""
    seen: list[Workers] = []

    def progress(done: int, total: int) -> None:
        if after_file is not None and seen:
            after_file(seen[0], done)

    @asynccontextmanager
    async def started(files: int) -> AsyncIterator[Workers]:
        workers = Workers()
        await asyncio.to_thread(workers.start, 2)
        assert workers.pool is not None
        if break_first:  # a worker exits: the pool refuses all work from now on
            with contextlib.suppress(BrokenExecutor):
                workers.pool.submit(os._exit, 1).result(timeout=30)
        seen.append(workers)
        try:
            yield workers
        finally:
            workers.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indexer_module, "file_pool", started)
        patch.setattr(indexer_module, "BATCH_FILES", 7)
        idx = await WorkspaceIndex.open(root, db)
        try:
            await idx.update(progress)
        finally:
            await idx.close()
    with sqlite3.connect(db) as conn:
        return seen[0], conn.execute(ROWS).fetchall()


async def test_workers_that_refuse_work_leave_the_build_to_its_thread(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    _, rows_alone = await _build(root, tmp_path / "thread.db")
    workers, rows = await _build_with(root, tmp_path / "broken.db", break_first=True)
    assert workers.pool is None  # given up on
    assert rows == rows_alone


async def test_workers_killed_mid_build_leave_the_rest_to_its_thread(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    _, rows_alone = await _build(root, tmp_path / "thread.db")
    pids: list[int] = []

    def kill_them(workers: Workers, done: int) -> None:
        if done == 10 and not pids:  # a batch and a bit read: the next ones are in flight
            assert workers.pool is not None
            pids.extend(workers.pool._processes)
            for pid in pids:
                os.kill(pid, signal.SIGKILL)

    workers, rows = await _build_with(root, tmp_path / "killed.db", kill_them)
    assert len(pids) == 2 and workers.pool is None
    assert rows == rows_alone


async def test_a_few_files_start_no_processes_and_many_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_pool_module, "worker_count", lambda: 2)
    async with file_pool(file_pool_module.PARALLEL_MIN_FILES - 1) as few:
        await asyncio.sleep(0.2)
        assert few.pool is None
    async with file_pool(file_pool_module.PARALLEL_MIN_FILES) as many:
        deadline = time.monotonic() + 60
        while many.pool is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert many.pool is not None and many.count == 2
        assert many.pool.submit(sum, [1, 2, 3]).result(timeout=30) == 6


async def test_leaving_the_pool_waits_for_its_workers_to_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process the pool left running could still be unpickling its queues when this one
    # exits and unlinks their semaphores: it would print a traceback after Ctrl-C.
    monkeypatch.setattr(file_pool_module, "worker_count", lambda: 2)
    async with file_pool(file_pool_module.PARALLEL_MIN_FILES) as workers:
        deadline = time.monotonic() + 60
        while workers.pool is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert workers.pool is not None
        futures = [workers.pool.submit(time.sleep, 0.05) for _ in range(4)]  # both spawn
        futures[0].result(timeout=30)
        processes = list(workers.pool._processes.values())
    assert len(processes) == 2
    assert all(p.exitcode is not None for p in processes)


async def test_an_update_that_ends_while_its_workers_start_leaves_no_process_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_pool_module, "worker_count", lambda: 2)
    before = set(multiprocessing.active_children())
    async with file_pool(file_pool_module.PARALLEL_MIN_FILES):
        pass  # ended at once, as by Ctrl-C: the workers are still starting
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # nothing starts afterwards either
        assert set(multiprocessing.active_children()) <= before
        await asyncio.sleep(0.02)


def test_one_core_reads_in_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_pool_module, "worker_count", lambda: 1)

    async def run() -> Workers:
        async with file_pool(10_000) as workers:
            await asyncio.sleep(0.2)
            return workers

    assert asyncio.run(run()).pool is None


def _exit_with_sigint_disposition() -> None:
    """A worker's first act: exit 0 when Ctrl-C is ignored, 1 when it would interrupt."""
    os._exit(0 if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else 1)


def test_a_worker_ignores_ctrl_c_before_its_initializer_runs() -> None:
    # A terminal's Ctrl-C reaches every process of its group: a worker still starting (not
    # yet in its initializer) would die printing a KeyboardInterrupt traceback. It forks
    # from a forkserver that was set to ignore SIGINT before it captured its signal handlers.
    context = file_pool_module.worker_context()
    assert context.get_start_method() == "forkserver"  # Linux has it: what this test checks
    process = context.Process(target=_exit_with_sigint_disposition)
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0


def test_what_a_worker_writes_never_reaches_stdout() -> None:
    # In a server, stdout is the MCP channel: a worker's print or raw write goes to stderr.
    code = (
        "import os, time\n"
        "from ocp_server.index.file_pool import Workers\n"
        "w = Workers()\n"
        "w.start(2)\n"
        "assert w.pool is not None\n"
        "w.pool.submit(print, 'printed-by-a-worker').result(timeout=30)\n"
        "w.pool.submit(os.write, 1, b'written-to-fd-1\\n').result(timeout=30)\n"
        "w.close()\n"
        "time.sleep(0.2)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == ""
    assert "printed-by-a-worker" in done.stderr and "written-to-fd-1" in done.stderr


def test_workers_whose_redaction_rules_differ_from_ours_are_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker's flags are stored under this process's rules digest and trusted by searches:
    # workers that loaded other redaction rules (the source changed on disk since this process
    # started) would mark a secret's chunk clean under our name. The thread reads instead.
    monkeypatch.setattr(clean_text, "RULES_DIGEST", "0" * 24)
    workers = Workers()
    workers.start(2)
    try:
        assert workers.pool is None and workers.count == 0
    finally:
        workers.close()


def test_workers_writing_to_a_stderr_nobody_reads_still_finish_their_work() -> None:
    # MCP lets a client never read the server's stderr: once its pipe is full a worker that
    # wrote there itself blocked for ever, and the build with it. The server's log drops what
    # stderr cannot take (log_thread); what workers write goes the same way.
    code = (
        "import logging, os, sys\n"
        "from ocp_server.index.file_pool import Workers\n"
        "from ocp_server.log_thread import log_from_a_thread\n"
        "logging.basicConfig()\n"
        "log_from_a_thread()\n"  # as `ocp-server serve` does
        "os.set_blocking(2, False)\n"
        "try:\n"
        "    while True:\n"
        "        os.write(2, b'x' * 65536)\n"  # stderr's pipe full: nobody reads it
        "except BlockingIOError:\n"
        "    pass\n"
        "os.set_blocking(2, True)\n"
        "w = Workers()\n"
        "w.start(2)\n"
        "assert w.pool is not None\n"
        "for n in range(4):\n"
        "    w.pool.submit(logging.warning, 'logged ' * 30_000).result(timeout=20)\n"
        "    w.pool.submit(print, 'printed ' * 30_000).result(timeout=20)\n"
        "w.close()\n"
        "os.write(1, b'done')\n"
        "os._exit(0)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        try:
            assert child.stdout is not None
            finished = child.wait(timeout=60) == 0  # stderr is never read
            assert finished and child.stdout.read() == b"done"
        finally:
            child.kill()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has ended: it only waits for its parent to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_end_when_their_server_ends_without_shutting_them_down() -> None:
    # A second after its client leaves, the server's watchdog ends it with os._exit whatever
    # is running: a pool still starting, or its workers mid-build, were never shut down. A
    # worker waiting for work then waited for ever, and kept its forkserver alive with it.
    code = (
        "import os, multiprocessing.forkserver as fs\n"
        "from ocp_server.index.file_pool import Workers\n"
        "w = Workers()\n"
        "w.start(2)\n"
        "assert w.pool is not None\n"
        "pids = [*w.pool._processes, fs._forkserver._forkserver_pid]\n"
        "print(*pids, flush=True)\n"
        "os._exit(0)\n"
    )
    # Not read to its end: a process left behind would hold the pipe open.
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert proc.wait(timeout=60) == 0
    assert len(pids) >= 2
    deadline = time.monotonic() + 30  # a bound for a slow machine, not a measured time
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if _alive(p)]
    for pid in left:  # not left behind by the test either
        os.kill(pid, signal.SIGKILL)
    assert left == []


def _semaphore_inodes(pid: int) -> set[int]:
    """The named semaphores `pid` has open (glibc maps each from /dev/shm)."""
    with open(f"/proc/{pid}/maps") as maps:
        return {int(line.split()[4]) for line in maps if " /dev/shm/sem." in line}


def test_a_server_its_watchdog_ends_mid_build_leaves_no_semaphore_and_says_nothing() -> None:
    # The watchdog ends the server a second after its client left, whatever runs: a batch's
    # write can outlast it with the pool still up. os._exit skips the exit code that unlinks
    # the pool's semaphores, and Python's resource tracker (which shares the client's stderr)
    # then warned there of "leaked semaphore objects" once the workers had ended.
    code = (
        "import os, time\n"
        "from ocp_server.index.file_pool import Workers\n"
        "from ocp_server.stdio import _Watchdog\n"
        "w = Workers()\n"
        "w.start(2)\n"
        "assert w.pool is not None\n"
        "w.pool.submit(time.sleep, 0.05).result(timeout=30)\n"
        "print(os.getpid(), flush=True)\n"
        "input()\n"  # the test has seen the semaphores
        "_Watchdog(0.2).arm()\n"
        "time.sleep(60)\n"  # the write that outlasts the grace
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            assert proc.stdin is not None and proc.stdout is not None
            assert proc.stderr is not None
            semaphores = _semaphore_inodes(int(proc.stdout.readline()))
            assert semaphores, "the pool opened no named semaphore"
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            assert proc.wait(timeout=30) == 0
            # to its end: every process that shares it (workers, the tracker) has gone
            err = proc.stderr.read().decode(errors="replace")
        finally:
            proc.kill()
    assert "leaked" not in err and "resource_tracker" not in err, err
    left = {e.inode() for e in os.scandir("/dev/shm")} & semaphores
    assert left == set()


def test_a_pool_started_as_the_watchdog_unlinks_the_semaphores_leaves_none() -> None:
    # A build starts its pool in a thread of its own; one that started just after the
    # watchdog had unlinked the named semaphores made new ones, which nobody unlinked: the
    # resource tracker warned of them on the client's stderr. Here it starts at that moment.
    code = (
        "import threading, time, multiprocessing.util as util\n"
        "from ocp_server.index.file_pool import Workers\n"
        "from ocp_server.stdio import _Watchdog\n"
        "unlink = util._run_finalizers\n"
        "def unlink_then_a_pool_starts(*args):\n"
        "    unlink(*args)\n"
        "    starting = threading.Thread(target=Workers().start, args=(2,))\n"
        "    starting.start()\n"
        "    starting.join(60)\n"
        "util._run_finalizers = unlink_then_a_pool_starts\n"
        "_Watchdog(0.2).arm()\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as proc:
        try:
            assert proc.stderr is not None
            assert proc.wait(timeout=60) == 0
            # to its end: every process that shares it (workers, the tracker) has gone
            err = proc.stderr.read().decode(errors="replace")
        finally:
            proc.kill()
    assert "leaked" not in err and "resource_tracker" not in err, err


_UNGUARDED = """
import asyncio, os, sys
from pathlib import Path
from ocp_server.index import file_pool
from ocp_server.index.workspace import WorkspaceIndex

with open(sys.argv[3], "a") as runs:
    runs.write(f"{__name__} {os.getpid()}\\n")
file_pool.worker_count = lambda: 2  # workers on a machine of any size
file_pool.Workers.start_in_background = file_pool.Workers.start  # there before the first file


async def build() -> None:
    idx = await WorkspaceIndex.open(Path(sys.argv[1]), Path(sys.argv[2]))
    try:
        summary = await idx.update()
    finally:
        await idx.close()
    print("workers", summary.workers)


asyncio.run(build())
"""


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    # A library user's script that opens an index at its top level, without
    # `if __name__ == "__main__":`. Workers started from the script's file import it again
    # as __mp_main__ (multiprocessing's spawn preparation): each ran the whole script, built
    # an index of its own, and nothing said so (one user had five hidden copies). Indexing
    # workers need nothing from __main__, and skip it.
    root = tmp_path / "ws"
    root.mkdir()
    for i in range(file_pool_module.PARALLEL_MIN_FILES + 20):
        (root / f"mod_{i}.py").write_text(f"def handle_{i}(value):\n    return value + {i}\n")
    script, runs = tmp_path / "unguarded.py", tmp_path / "runs.txt"
    script.write_text(_UNGUARDED)
    done = subprocess.run(
        [sys.executable, str(script), str(root), str(tmp_path / "ocp.db"), str(runs)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["workers", "2"], (done.stdout, done.stderr)
    assert [line.split()[0] for line in runs.read_text().splitlines()] == ["__main__"]
