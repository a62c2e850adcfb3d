"""The database made read-only while the server runs, over real stdio. The machine's tests run
as root, whom `chmod` does not stop, so the files get the immutable attribute (`chattr +i`):
writes through the connections already open fail as on a file system remounted read-only
(SQLite: "disk I/O error"), and access() refuses them, for root too. Each tool call keeps
answering, and says in words that the database cannot be written and what to do; the index
catches up once it can be written again."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocp_client import OCPClient
from ocp_server.errors import storage_cause, storage_failed
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import server_env, wait_for_index


def _chattr(flag: str, paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chattr", flag, *map(str, paths)], capture_output=True, text=True, check=False
    )


@contextmanager
def _immutable(folder: Path) -> Iterator[None]:
    """The database and its WAL in `folder` immutable, and writable again on the way out.
    Not the `-shm` index: SQLite maps it, and a mapped page it cannot grow into is a SIGBUS
    that kills the server (1 run in 3 under load), where a read-only remount would refuse
    its opening instead."""
    files = [p for p in sorted(folder.glob("ocp.db*")) if not p.name.endswith("-shm")]
    try:
        made = _chattr("+i", files)
    except OSError as exc:
        pytest.skip(f"no chattr: {exc}")
    if made.returncode != 0:  # no CAP_LINUX_IMMUTABLE, or a file system without attributes
        pytest.skip(f"chattr +i refused: {made.stderr.strip()}")
    try:
        yield
    finally:
        _chattr("-i", files)


async def test_a_database_made_read_only_mid_run_is_said_in_words_and_caught_up_after(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    env = server_env(workspace, fake_ollama)
    db = Path(env["OCP_DB_PATH"])
    async with OCPClient(env=env) as client:
        await wait_for_index(client, "verify token")
        with _immutable(db.parent):
            # the watcher meets it first (its lease's write): the status says so
            (workspace / "src" / "late.py").write_text("def saved_while_read_only():\n    pass\n")
            async with asyncio.timeout(20):
                while (await client.index_status()).storage_failed is None:
                    await asyncio.sleep(0.2)
            said = (await client.index_status()).storage_failed
            assert said is not None and "cannot be written" in said and str(db) in said
            searched = await client.call("ocp_context_search", {"query": "verify token"})
            assert not searched.is_error
            result = await client.search("verify token")
            assert result.results[0].citation == "src/auth.py:6-8"  # served from what's there
            assert result.note is not None and "cannot be written" in result.note
            saved = await client.call("ocp_result_save", {"notes": ["tokens checked in auth"]})
            assert saved.is_error
            text = tool_text(saved)
            assert "cannot be written" in text and "not writable" in text and str(db) in text
            assert "chattr -i" in text and "OCP_DB_PATH" in text
            assert "internal error" not in text and "Free some space" not in text
        async with asyncio.timeout(60):  # writable again: the watcher's backoff, or a search
            while not (await client.search("saved_while_read_only")).results:
                await asyncio.sleep(0.5)
        saved = await client.call("ocp_result_save", {"notes": ["tokens checked in auth"]})
        assert not saved.is_error, tool_text(saved)
        assert (await client.index_status()).storage_failed is None


def test_a_connection_sqlite_opened_read_only_is_a_storage_failure_said_as_such(
    tmp_path: Path,
) -> None:
    # A connection opened after the file lost its write permission is read-only: SQLite's
    # SQLITE_READONLY was an internal error.
    db = tmp_path / "ocp.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raised:
        reader.execute("INSERT INTO t VALUES (1)")
    reader.close()
    assert storage_failed(raised.value)
    cause = storage_cause(raised.value, db)
    assert "cannot be written" in cause and "opened it read-only" in cause
    assert "OCP_DB_PATH" in cause
