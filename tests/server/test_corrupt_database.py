"""A workspace's database found damaged, over real stdio. A file at the database's own place
that is no SQLite database at all (overwritten, cut to its first bytes) is moved aside to
`<name>.corrupt-<time>`, kept, and a new database made: every tool call refused until the user
moved it by hand. An SQLite database whose pages are damaged is left where it is (its session
memory may be recovered from it), and a tool meeting those pages says so in words, not as an
internal error."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from ocp_client import OCPClient
from ocp_server.db import connect
from ocp_server.index.own_files import SIDE_FILES
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import wait_for_index


def _env(workspace: Path, ollama: FakeOllama) -> dict[str, str]:
    # no OCP_DB_PATH: the workspace's own .ocp/ocp.db (a file the setting names is never moved)
    return {"OCP_WORKSPACE": str(workspace), "OCP_OLLAMA_URL": ollama.url}


async def _index_and_remember(workspace: Path, ollama: FakeOllama) -> Path:
    async with OCPClient(env=_env(workspace, ollama)) as client:
        await wait_for_index(client, "verify token")
        saved = await client.call("ocp_result_save", {"summary": "tokens are checked in auth"})
        assert not saved.is_error, tool_text(saved)
    db = workspace / ".ocp" / "ocp.db"
    with sqlite3.connect(db) as conn:  # the server is gone: its WAL into the file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _moved_aside(db: Path) -> list[Path]:
    """The databases moved aside from `db` (not the side files SQLite keeps beside each)."""
    sides = tuple(s for s in SIDE_FILES if s)
    return [p for p in db.parent.glob(f"{db.name}.corrupt-*") if not p.name.endswith(sides)]


async def test_a_file_that_is_no_database_is_moved_aside_and_a_new_one_made(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    db = await _index_and_remember(workspace, fake_ollama)
    garbage = b"overwritten by something else entirely\n" * 200
    db.write_bytes(garbage)
    async with OCPClient(env=_env(workspace, fake_ollama)) as client:
        result = await wait_for_index(client, "verify token")
        restored = await client.call("ocp_session_restore", {})
    aside = _moved_aside(db)
    assert len(aside) == 1, aside
    assert aside[0].read_bytes() == garbage  # kept as it was
    assert result.results[0].citation == "src/auth.py:6-8"
    assert result.note is not None and str(aside[0]) in result.note
    assert "no SQLite database" in result.note and "not in the new one" in result.note
    assert not restored.is_error and str(aside[0]) in tool_text(restored)


async def test_a_database_with_damaged_pages_is_said_so_and_its_memory_still_served(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    db = await _index_and_remember(workspace, fake_ollama)
    with sqlite3.connect(db) as conn:
        ((page_size,),) = conn.execute("PRAGMA page_size")
        ((root,),) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chunks'")
    with db.open("r+b") as file:  # the chunks table's first page overwritten
        file.seek((root - 1) * page_size)
        file.write(b"\xab" * page_size)
    async with OCPClient(env=_env(workspace, fake_ollama)) as client:
        searched = await client.call("ocp_context_search", {"query": "verify token"})
        restored = await client.call("ocp_session_restore", {})
    assert searched.is_error
    text = tool_text(searched)
    assert "internal error" not in text
    assert "has damaged pages" in text and str(db) in text and ".recover" in text
    assert not restored.is_error and "tokens are checked in auth" in tool_text(restored)
    assert db.exists() and not list(db.parent.glob("ocp.db.corrupt-*"))  # left where it is


async def test_databases_moved_aside_within_one_second_are_all_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the names carry the time to the second: a second move then must not take the first's name
    monkeypatch.setattr(time, "strftime", lambda *_: "20260101-000000")
    db = tmp_path / ".ocp" / "ocp.db"
    db.parent.mkdir()
    garbage = [f"overwritten, time {n}\n".encode() * 200 for n in range(3)]
    for text in garbage:
        for suffix in SIDE_FILES:
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db.write_bytes(text)
        await (await connect(db)).close()
    assert sorted(p.read_bytes() for p in _moved_aside(db)) == sorted(garbage)
