"""The database file and its folder are private to their owner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ocp_server.db import connect


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
