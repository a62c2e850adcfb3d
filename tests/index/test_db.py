"""The database file and its folder are private to their owner."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ocp_server.db import DatabaseNaming, connect, ensure_ocp_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_ocp_folder_is_0700_and_the_database_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: without care, 0755 and 0644
    db = await connect(tmp_path / ".ocp" / "ocp.db")
    try:
        await db.execute("CREATE TABLE t (x)")
        await db.execute("INSERT INTO t VALUES (1)")
        modes = {p.name: mode(p) for p in (tmp_path / ".ocp").iterdir() if "ocp.db" in p.name}
    finally:
        await db.close()
        os.umask(old)
    assert mode(tmp_path / ".ocp") == 0o700
    assert modes == {"ocp.db": 0o600, "ocp.db-wal": 0o600, "ocp.db-shm": 0o600}


async def test_files_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    folder = tmp_path / ".ocp"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    db = await connect(folder / "ocp.db")
    await db.close()
    for path in (folder / "ocp.db", folder / "ocp.db-wal"):
        if path.exists():
            path.chmod(0o644)
    await (await connect(folder / "ocp.db")).close()
    assert mode(folder) == 0o700
    assert mode(folder / "ocp.db") == 0o600


async def test_a_file_not_sqlite_named_by_ocp_db_path_keeps_its_mode(tmp_path: Path) -> None:
    # Its mode was set to 0600 before SQLite found it was no database ("its content is left
    # as it is", but not its mode: notes others could read no longer could).
    from ocp_server.errors import DatabaseError

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 10)
    notes.chmod(0o644)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        await connect(notes, DatabaseNaming(named_by_setting=True))  # named by OCP_DB_PATH
    assert mode(notes) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_path_that_is_no_regular_file_keeps_its_mode(tmp_path: Path) -> None:
    # OCP_DB_PATH=/dev/null run as root made the null device 0600 for every other user.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe, 0o666)
    pipe.chmod(0o666)
    ensure_ocp_dir(pipe)  # (a pipe: never opened, which would wait for a writer)
    assert mode(pipe) == 0o666


async def test_making_an_open_database_private_keeps_this_processs_locks(tmp_path: Path) -> None:
    # SQLite's locks are POSIX locks: reading the file here (to see whether it is a database
    # before its mode is set) and closing it would drop this process's locks on it, and
    # another process's connection closing would take itself for the last one and delete the
    # -wal and -shm files this one still uses.
    db_path = tmp_path / "ocp.db"
    live = await connect(db_path)
    try:
        await live.execute("CREATE TABLE t (x)")
        await live.execute("INSERT INTO t VALUES (1)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").chmod(0o644)  # (a user's chmod, an older version's file)
        ensure_ocp_dir(db_path)
        assert mode(db_path) == 0o600
        reads = f"import sqlite3; c = sqlite3.connect({str(db_path)!r})"
        reads += "; c.execute('SELECT * FROM t')"
        subprocess.run([sys.executable, "-c", f"{reads}; c.close()"], check=True)
        assert Path(f"{db_path}-wal").exists() and Path(f"{db_path}-shm").exists()
        assert [tuple(r) for r in await live.execute_fetchall("SELECT x FROM t")] == [(1,)]
    finally:
        await live.close()
