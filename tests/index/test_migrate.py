"""The migration list builds the whole schema on an empty database, once."""

from __future__ import annotations

import logging
import sqlite3
import zlib
from pathlib import Path

import aiosqlite
import pytest

from ocp_server import db as db_module
from ocp_server import migrations as migrations_module
from ocp_server.db import DatabaseError, connect
from ocp_server.migrations import MIGRATIONS, migrate


async def test_migrations_build_the_full_schema_and_record_themselves(tmp_path: Path) -> None:
    db = await connect(tmp_path / "m.db")
    tables = {
        r[0]
        for r in await db.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'chunks_fts_%'"
        )
    }
    assert {"files", "chunks", "meta", "leases", "_migrations"} <= tables
    names = [r[0] for r in await db.execute_fetchall("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [m.__name__ for m in MIGRATIONS]
    mode = next(iter(await db.execute_fetchall("PRAGMA journal_mode")))[0]
    assert mode == "wal"
    assert await migrate(db) == []  # idempotent
    await db.close()


async def test_a_second_connection_does_not_migrate_again(tmp_path: Path) -> None:
    first = await connect(tmp_path / "m.db")
    second = await aiosqlite.connect(tmp_path / "m.db", isolation_level=None)
    assert await migrate(second) == []
    await first.close()
    await second.close()


async def test_chunk_texts_written_before_packing_are_packed_and_read_back_whole(
    tmp_path: Path,
) -> None:
    from ocp_server.index.lexicon import unpack_text
    from ocp_server.migrations import m011_search_text

    async with aiosqlite.connect(tmp_path / "m.db") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m is not m011_search_text))
        await db.execute(
            "INSERT INTO files (id, path, size, mtime_ns, content_hash, indexed_at)"
            " VALUES (1, 'a.py', 9, 0, 'h', 0)"
        )
        text = "def ünïcode():\n    return 'naïve'\n" * 20
        await db.execute(
            "INSERT INTO chunks (id, file_id, start_line, end_line, kind, text, content_hash)"
            " VALUES (1, 1, 1, 40, 'function', ?, 'h')",
            (text,),
        )
        await db.commit()
        assert await migrate(db) == ["m011_search_text"]
        (stored,) = next(iter(await db.execute_fetchall("SELECT text FROM chunks")))
        assert isinstance(stored, bytes) and len(stored) < len(text.encode()) / 4
        assert unpack_text(stored) == text


async def test_chunks_indexed_before_token_counts_are_counted_as_the_indexer_counts(
    tmp_path: Path,
) -> None:
    from ocp_router.tokens import estimate_tokens
    from ocp_server.index.lexicon import pack_text
    from ocp_server.migrations import m012_chunk_tokens

    async with aiosqlite.connect(tmp_path / "m.db") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m is not m012_chunk_tokens))
        await db.execute(
            "INSERT INTO files (id, path, size, mtime_ns, content_hash, indexed_at)"
            " VALUES (1, 'a.py', 9, 0, 'h', 0)"
        )
        texts = ["def ünïcode():\n    return 'naïve'\n" * 20, "x = 1\n"]
        for i, text in enumerate(texts, 1):
            await db.execute(
                "INSERT INTO chunks (id, file_id, start_line, end_line, kind, text, content_hash)"
                " VALUES (?, 1, 1, 2, 'function', ?, 'h')",
                (i, pack_text(text)),
            )
        await db.commit()
        assert await migrate(db) == ["m012_chunk_tokens"]
        rows = await db.execute_fetchall("SELECT tokens FROM chunks ORDER BY id")
        assert [r[0] for r in rows] == [estimate_tokens(t) for t in texts]


async def _add_chunks(db: aiosqlite.Connection, stored: list[bytes | str]) -> None:
    await db.execute(
        "INSERT INTO files (id, path, size, mtime_ns, content_hash, indexed_at)"
        " VALUES (1, 'a.py', 9, 0, 'h', 0)"
    )
    for i, text in enumerate(stored, 1):
        await db.execute(
            "INSERT INTO chunks (id, file_id, start_line, end_line, kind, text, content_hash)"
            " VALUES (?, 1, 1, 2, 'function', ?, 'h')",
            (i, text),
        )
    await db.commit()


async def _texts(db: aiosqlite.Connection) -> list[str]:
    from ocp_server.index.lexicon import unpack_text

    rows = await db.execute_fetchall("SELECT text FROM chunks ORDER BY id")
    return [unpack_text(r[0]) for r in rows]


# Texts as m011 deflated them, one empty, one not ASCII.
_ZLIB_ERA_TEXTS = ["def ünïcode():\n    return 'naïve'\n" * 20, "", "x = 1\n"]


async def test_texts_deflated_with_zlib_are_recoded_and_read_back_whole(tmp_path: Path) -> None:
    from ocp_server.index.lexicon import pack_text
    from ocp_server.migrations import m014_zstd_text

    async with aiosqlite.connect(tmp_path / "m.db") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m is not m014_zstd_text))
        packed_now = pack_text("already packed\n")
        await _add_chunks(db, [*(zlib.compress(t.encode()) for t in _ZLIB_ERA_TEXTS), packed_now])
        assert await migrate(db) == ["m014_zstd_text"]
        rows = await db.execute_fetchall("SELECT text FROM chunks ORDER BY id")
        assert [r[0] for r in rows] == [*(pack_text(t) for t in _ZLIB_ERA_TEXTS), packed_now]
        assert await _texts(db) == [*_ZLIB_ERA_TEXTS, "already packed\n"]


async def test_a_database_that_stopped_after_m011_is_recoded_before_its_tokens_are_counted(
    tmp_path: Path,
) -> None:
    from ocp_router.tokens import estimate_tokens
    from ocp_server.index.lexicon import pack_text
    from ocp_server.migrations import m012_chunk_tokens, m013_chunk_clean, m014_zstd_text

    later = (m012_chunk_tokens, m013_chunk_clean, m014_zstd_text)
    async with aiosqlite.connect(tmp_path / "m.db") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m not in later))
        await _add_chunks(db, [zlib.compress(t.encode()) for t in _ZLIB_ERA_TEXTS])
        assert await migrate(db) == ["m014_zstd_text", "m012_chunk_tokens", "m013_chunk_clean"]
        rows = await db.execute_fetchall("SELECT text, tokens FROM chunks ORDER BY id")
        assert [r[0] for r in rows] == [pack_text(t) for t in _ZLIB_ERA_TEXTS]
        assert [r[1] for r in rows] == [estimate_tokens(t) for t in _ZLIB_ERA_TEXTS]
        assert await _texts(db) == _ZLIB_ERA_TEXTS


async def test_a_database_from_before_packing_is_packed_once_and_read_back_whole(
    tmp_path: Path,
) -> None:
    from ocp_router.tokens import estimate_tokens
    from ocp_server.index.lexicon import pack_text
    from ocp_server.migrations import m011_search_text

    async with aiosqlite.connect(tmp_path / "m.db") as db:
        at = MIGRATIONS.index(m011_search_text)
        await migrate(db, MIGRATIONS[:at])
        await _add_chunks(db, list(_ZLIB_ERA_TEXTS))
        assert await migrate(db) == [m.__name__ for m in MIGRATIONS[at:]]
        rows = await db.execute_fetchall("SELECT text, tokens FROM chunks ORDER BY id")
        assert [r[0] for r in rows] == [pack_text(t) for t in _ZLIB_ERA_TEXTS]
        assert [r[1] for r in rows] == [estimate_tokens(t) for t in _ZLIB_ERA_TEXTS]
        assert await _texts(db) == _ZLIB_ERA_TEXTS


def test_a_text_deflated_by_an_earlier_server_after_the_recoding_still_reads_back() -> None:
    """A server of an earlier version sharing the database writes zlib texts after m014 ran."""
    from ocp_server.index.lexicon import pack_text, unpack_text

    text = "def verify(token):\n    return token == 'é'\n"
    assert unpack_text(zlib.compress(text.encode("utf-8"))) == text
    assert unpack_text(pack_text(text)) == text
    with pytest.raises(ValueError, match="unknown format"):
        unpack_text(text.encode("utf-8"))


def _lock_holder(path: Path) -> sqlite3.Connection:
    """Another process's connection in the middle of a write (a long migration, say)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def test_opening_a_migrated_database_takes_no_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every open began a write transaction per migration, applied or not: a process opening
    the database while another wrote for longer than the busy timeout (a migration of a large
    index takes seconds) failed, told the database was unreadable and to move it aside."""
    first = await connect(tmp_path / "m.db")
    await first.close()
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    holder = _lock_holder(tmp_path / "m.db")
    try:
        second = await connect(tmp_path / "m.db")
        await second.close()
    finally:
        holder.rollback()
        holder.close()


async def test_a_migration_waits_for_another_process_holding_the_write_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two servers of a new version opening a large index at once: the second waited the busy
    timeout (5 s) for the first's migration, then failed with "database is locked"."""
    async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as db:
        await migrate(db, MIGRATIONS[:-1])
    holder = _lock_holder(tmp_path / "m.db")

    class ReleaseOnWait(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if holder.in_transaction:  # the other process's migration ends
                holder.rollback()

    caplog.set_level(logging.INFO, logger="ocp_server.migrations")
    handler = ReleaseOnWait(logging.INFO)
    logging.getLogger("ocp_server.migrations").addHandler(handler)
    try:
        async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as db:
            await db.execute("PRAGMA busy_timeout = 50")
            assert await migrate(db) == [MIGRATIONS[-1].__name__]
    finally:
        logging.getLogger("ocp_server.migrations").removeHandler(handler)
        holder.close()


async def test_a_database_locked_past_the_wait_is_not_called_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as db:
        await migrate(db, MIGRATIONS[:-1])
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(migrations_module, "MIGRATION_LOCK_WAIT_SECONDS", 0.0)
    holder = _lock_holder(tmp_path / "m.db")
    try:
        with pytest.raises(DatabaseError) as failed:
            await connect(tmp_path / "m.db")
    finally:
        holder.rollback()
        holder.close()
    assert "unreadable" not in str(failed.value)
    assert "not damaged" in str(failed.value)


async def test_a_new_database_another_process_is_creating_is_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Servers opening a new database at once: while one held the write lock of the new file,
    still in rollback mode, SQLite answered another's `PRAGMA journal_mode = WAL` with
    "database is locked" at once, without its busy timeout, and that server failed to start
    (4 processes opening a new database together: one failed in 6 rounds of 40)."""
    path = tmp_path / "new.db"
    path.touch()
    creating = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creating.execute("BEGIN IMMEDIATE")
    creating.execute("CREATE TABLE other_process (x)")

    class CommitOnWait(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if creating.in_transaction:  # the other process's creation ends
                creating.commit()

    caplog.set_level(logging.INFO, logger="ocp_server.db")
    handler = CommitOnWait(logging.INFO)
    logging.getLogger("ocp_server.db").addHandler(handler)
    try:
        db = await connect(path)
        await db.close()
    finally:
        logging.getLogger("ocp_server.db").removeHandler(handler)
        creating.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
