"""The database's errors word the settings as they were read once (ServerSettings): db.py
reads no environment variable of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.db import DatabaseError, DatabaseNaming, connect
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import database_naming

DAMAGED = b"SQLite format 3\0" + b"\xff" * 4080  # its header, then nothing SQLite can read


async def test_an_unreadable_database_names_the_save_tool_it_is_given(tmp_path: Path) -> None:
    db = tmp_path / "ocp.db"
    db.write_bytes(DAMAGED)
    with pytest.raises(DatabaseError) as caught:
        await connect(db, DatabaseNaming(save_tool="ocp.result.save"))
    assert f"the OCP database at {db} is unreadable" in str(caught.value)
    assert "saved with ocp.result.save, which is lost with it" in str(caught.value)


async def test_a_file_named_by_the_setting_is_told_as_named_by_it(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 10)
    with pytest.raises(DatabaseError, match=f"^OCP_DB_PATH names {notes}, which is not an"):
        await connect(notes, DatabaseNaming(named_by_setting=True))
    assert notes.read_text() == "my notes, not a database\n" * 10


async def test_the_environment_is_not_read_when_the_error_is_worded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The settings were read once; a variable set since does not change what db.py says.
    notes = tmp_path / "notes.txt"
    notes.write_bytes(DAMAGED)
    monkeypatch.setenv("OCP_DB_PATH", str(notes))
    monkeypatch.setenv("OCP_TOOL_NAMES", "dotted")
    with pytest.raises(DatabaseError) as caught:
        await connect(notes)
    assert str(caught.value).startswith(f"the OCP database at {notes} is unreadable")
    assert "saved with ocp_result_save," in str(caught.value)


def test_the_naming_comes_from_the_settings(tmp_path: Path) -> None:
    named = ServerSettings.from_env(
        {"OCP_DB_PATH": str(tmp_path / "x.db"), "OCP_TOOL_NAMES": "dotted"}
    )
    assert database_naming(named) == DatabaseNaming(True, "ocp.result.save")
    assert database_naming(ServerSettings.from_env({})) == DatabaseNaming(False, "ocp_result_save")
