"""A database whose folder cannot be written (a read-only filesystem or folder): the error says
the database is intact and what to make writable, never to move it aside (which loses the
session memory it holds)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.errors import DatabaseError


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` as it looks read-only: through a read-only bind mount for root (who writes
    through any mode bits), made 0555 for anyone else."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    view = folder.parent / f"{folder.name}-ro"
    view.mkdir()
    for args in (["--bind", str(folder), str(view)], ["-o", "remount,bind,ro", str(view)]):
        done = subprocess.run(["mount", *args], capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.skip(f"root without mount rights here: {done.stderr.strip()}")
    try:
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


async def test_a_database_on_a_read_only_folder_is_said_intact_and_not_writable(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "db"
    db = await connect(folder / "ocp.db")
    await db.execute("INSERT INTO meta VALUES ('kept', 'memory')")
    await db.close()
    with read_only(folder) as view, pytest.raises(DatabaseError) as caught:
        await connect(view / "ocp.db")
    message = str(caught.value)
    assert "not writable" in message and "OCP_DB_PATH" in message, message
    assert "move it aside" not in message and "lost" not in message, message
