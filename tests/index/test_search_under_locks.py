"""A search while another process holds the index's database: its read-only reader runs on
the event loop, so it never waits for a lock there (a busy read goes through aiosqlite's
thread instead), and another process's writer never fails it. The other process is real:
SQLite's locks are POSIX locks, which a process never conflicts with itself."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocp_server.index import workspace_state

from .built import built_index

FILES = {f"m{i}.py": f"def handler_{i}():\n    return 'parse the config {i}'\n" for i in range(5)}

# What a connection running WAL recovery holds (the write, checkpoint and recover locks of
# the -shm file, bytes 120-122), over a wal-index header a crash left unreadable: every other
# connection's read is SQLITE_BUSY_RECOVERY until it is done.
_RECOVERING = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 3, 120, 0)
os.pwrite(fd, bytes(136), 0)
print("held", flush=True)
sys.stdin.read()
"""

# Another process's index write in progress: a WAL writer holding its transaction open.
_WRITING = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("DELETE FROM chunks")
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def _held(code: str, path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process running `code` on `path` until the block ends (or its stdin is closed)."""
    with subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as other:  # its exit closes the pipes (the other process's end) and waits for it
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        yield other


async def test_a_search_while_another_process_recovers_the_database_waits_off_the_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The read-only reader finds the database busy and waits for no lock (busy timeout 0:
    on the loop every wait holds every other request); the search reads through aiosqlite,
    which waits in its thread, and answers once the recovery is done."""
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db) as index:
        assert (await index.search("parse config", refresh=False)).results
        with (
            caplog.at_level(logging.DEBUG, logger=workspace_state.__name__),
            _held(_RECOVERING, Path(f"{db}-shm")) as other,
        ):
            search = asyncio.create_task(index.search("parse config", refresh=False))
            while "read-only search connection failed" not in caplog.text:
                assert not search.done(), search.result()
                await asyncio.sleep(0.01)
            reader = index._reader_connection()
            assert reader.execute("PRAGMA busy_timeout").fetchone() == (0,)  # it never waits
            assert other.stdin is not None
            other.stdin.close()  # the recovery ends
            answer = await search
        assert answer.results and {r.path for r in answer.results} <= set(FILES)
        again = await index.search("parse config", refresh=False)  # the reader reads again
        assert [r.path for r in again.results] == [r.path for r in answer.results]


async def test_a_search_while_another_process_writes_answers_from_what_was_committed(
    tmp_path: Path,
) -> None:
    """An `ocp-server index` in another process holding its write transaction (WAL): the
    search neither waits nor fails, and reads the index as last committed."""
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db) as index:
        before = await index.search("parse config", refresh=False)
        with _held(_WRITING, db):
            during = await index.search("parse config", refresh=False)
        assert during.results and during.results == before.results
