"""A search while another process holds the index's database: its read-only reader runs on
the event loop, so it never waits for a lock there (a busy read goes through aiosqlite's
thread instead), and another process's writer never fails it. The other process is real:
SQLite's locks are POSIX locks, which a process never conflicts with itself."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from ocp_server.index import workspace_state
from tests.db_holders import held_recovering, held_writing

from .built import built_index

FILES = {f"m{i}.py": f"def handler_{i}():\n    return 'parse the config {i}'\n" for i in range(5)}


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
            held_recovering(db) as other,
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
        with held_writing(db, "DELETE FROM chunks"):
            during = await index.search("parse config", refresh=False)
        assert during.results and during.results == before.results
