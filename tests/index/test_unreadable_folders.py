"""A folder of the workspace the server may not read (permission denied) is skipped, counted
as `unreadable` and logged once, and the rest is indexed. Tests run as root, whom a mode
does not stop: the indexer runs as `nobody` then (setpriv), in a folder `nobody` may reach."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workspace_fixture import git

_INDEX = textwrap.dedent(
    """
    import asyncio, json, logging, sys
    from pathlib import Path
    from ocp_server.index.workspace import WorkspaceIndex
    from ocp_server.status import index_report

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")

    async def main():
        index = await WorkspaceIndex.open(Path(sys.argv[1]), Path(sys.argv[2]))
        first, again = await index.update(), await index.update()
        paths = [r[0] for r in await index.db.execute_fetchall("SELECT path FROM files")]
        report = await index_report(index)
        print(json.dumps({"paths": sorted(paths), "skipped": report.skipped,
                          "git": first.git, "again": again.skipped}))
        await index.close()

    asyncio.run(main())
    """
)


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A folder every user may enter (pytest's are root's alone), removed after."""
    base = Path(tempfile.mkdtemp(prefix="ocp-unreadable-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _as_a_user_the_mode_stops(base: Path, ws: Path) -> subprocess.CompletedProcess[str]:
    db = base / "db"
    db.mkdir()
    (db / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")  # the files are root's
    argv = [sys.executable, "-c", _INDEX, str(ws), str(db / "ocp.db")]
    env = {**os.environ, "HOME": str(db)}
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: no user here whom a folder's mode stops")
        os.chown(db, 65534, 65534)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("in_git", [False, True], ids=["walked", "git"])
def test_a_folder_that_cannot_be_read_is_skipped_counted_and_said_once(
    shared_base: Path, in_git: bool
) -> None:
    ws = shared_base / "ws"
    (ws / "open").mkdir(parents=True)
    (ws / "locked" / "inner").mkdir(parents=True)
    (ws / "open" / "a.py").write_text("def visible_one():\n    pass\n")
    (ws / "locked" / "b.py").write_text("def hidden_two():\n    pass\n")
    (ws / "locked" / "inner" / "c.py").write_text("def hidden_three():\n    pass\n")
    if in_git:
        git(ws, "init", "-q")
        git(ws, "add", "open/a.py")  # the locked folder's files are new: git lists around it
        git(ws, "commit", "-qm", "first")
    (ws / "locked").chmod(0o700 if os.geteuid() == 0 else 0o000)
    try:
        done = _as_a_user_the_mode_stops(shared_base, ws)
    finally:
        (ws / "locked").chmod(0o755)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["git"] is in_git
    assert out["paths"] == ["open/a.py"]
    assert out["skipped"].get("unreadable") == 1 and out["again"].get("unreadable") == 1
    told = [line for line in done.stderr.splitlines() if "cannot read the folder" in line]
    assert len(told) == 1, done.stderr  # two updates, one line
    assert told[0].startswith(f"cannot read the folder locked in {ws} (Permission denied)")
