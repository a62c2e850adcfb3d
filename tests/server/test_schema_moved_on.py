"""An older server sharing the database with a newer one: once the newer one has migrated it
past the schema the older one knows, the older one writes nothing more (what it would write,
the newer migrations changed: names without m019/m021's hashes, texts m022-m024 redacted) and
tells the client to restart it. The newer schema is simulated by raising the version number
the older server reads (`PRAGMA user_version`), as a newer server's migration does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from ocp_client import OCPClient
from ocp_server.db import connect
from ocp_server.migrations import MIGRATIONS, migrate
from ocp_server.schema import SCHEMA_VERSION, SchemaTooNew, stored_version
from ocp_server.transactions import begin
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env, wait_for_index


def _newer_migrates(db_path: Path) -> None:
    """What a newer ocp-server's migration leaves: the version one past this code's."""
    with sqlite3.connect(db_path, timeout=10) as newer:
        newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()


def test_the_schema_version_counts_the_migrations_this_code_knows() -> None:
    assert SCHEMA_VERSION == len(MIGRATIONS)


async def test_migrating_records_the_version_and_never_lowers_a_newer_one(tmp_path: Path) -> None:
    db = await connect(tmp_path / "m.db")
    assert await stored_version(db) == SCHEMA_VERSION
    # A database migrated before the version was kept gets it when next opened.
    await db.execute("PRAGMA user_version = 0")
    await migrate(db)
    assert await stored_version(db) == SCHEMA_VERSION
    await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    assert await migrate(db) == []
    assert await stored_version(db) == SCHEMA_VERSION + 3
    await db.close()


async def test_a_connection_of_the_older_code_refuses_to_write_once_the_schema_moved_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    older = await connect(path)
    await begin(older)
    await older.execute("INSERT INTO meta VALUES ('before', '1')")
    await older.execute("COMMIT")
    _newer_migrates(path)
    with pytest.raises(SchemaTooNew) as refused:
        await begin(older)
    message = str(refused.value)
    assert f"schema version {SCHEMA_VERSION + 1}; this server knows {SCHEMA_VERSION}" in message
    assert str(path) in message and "Restart the MCP client" in message
    # The refused transaction was ended: the newer server can write, the older one read.
    async with aiosqlite.connect(path, timeout=1) as newer:
        await newer.execute("INSERT INTO meta VALUES ('after', '1')")
        await newer.commit()
    rows = await older.execute_fetchall("SELECT key FROM meta WHERE key IN ('before', 'after')")
    assert sorted(r[0] for r in rows) == ["after", "before"]
    await older.close()


async def test_an_older_server_running_when_the_schema_moves_on_stops_writing_and_says_why(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    db_path = workspace.parent / "shared.db"
    env = server_env(workspace, fake_ollama, db_path=db_path)
    async with OCPClient(env=env) as older:
        await wait_for_index(older, "verify_token")
        saved = await older.call("ocp_result_save", {"notes": ["before the upgrade"]})
        assert not saved.is_error
        _newer_migrates(db_path)
        refused = await older.call("ocp_result_save", {"notes": ["after the upgrade"]})
        assert refused.is_error
        text = refused.content[0].text  # type: ignore[union-attr]
        assert "migrated by a newer ocp-server" in text and "Restart the MCP client" in text
        # A route's answer still comes back, saying it was not recorded.
        routed = await older.route("explain what a dict comprehension is")
        assert routed.answered_by == "local" and routed.answer
        assert "Not recorded: the OCP database" in routed.note
        # Reading goes on.
        assert (await older.search("verify_token")).results
        brief = await older.restore()
        assert [n.text for n in brief.notes] == ["before the upgrade"]
    # A server of the older code started now refuses the database at once.
    async with OCPClient(env=env) as restarted:
        again = await restarted.call("ocp_result_save", {"notes": ["after the upgrade"]})
        assert again.is_error
        assert "migrated by a newer ocp-server" in again.content[0].text  # type: ignore[union-attr]
    with sqlite3.connect(db_path) as check:
        texts = [r[0] for r in check.execute("SELECT text FROM notes")]
        routes = check.execute("SELECT count(*) FROM traces").fetchone()[0]
    check.close()
    assert texts == ["before the upgrade"] and routes == 0
