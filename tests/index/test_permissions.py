"""Files and folders the index may not read: skipped and counted, the rest indexed.

The checks run in a child process as an unprivileged user: as root (CI, containers) the child
drops to uid/gid 65534 (nobody) after loading what it needs, because root reads everything
whatever the mode says; as any other user it runs as that user."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.workspace_fixture import git

NOBODY = 65534
CHILD = f"""
import json, os, sys
from pathlib import Path
from ocp_server.index import files
from ocp_server.index.files import Candidate, list_workspace
from ocp_server.index.indexer import process_file

top, name = Path(sys.argv[1]), sys.argv[2]
# Loads the chunker and its grammar while every file is readable.
process_file(top / "warm", Candidate("warm.py", 1, 0), None, 1_000_000)
if os.geteuid() == 0:
    # Root reads whatever the modes say: drop to nobody. Chrooted to this test's folder first,
    # since a machine's "/" need not let nobody through (this one's is 0600); git is outside
    # it, so the listing is git's as root (tracked files do not depend on who lists them).
    tracked = files.git_files(top / name)
    files.git_files = lambda workspace, **_: tracked
    os.chroot(top)
    os.chdir("/")
    os.setgroups([])
    os.setgid({NOBODY})
    os.setuid({NOBODY})
    top = Path("/")
listing = list_workspace(top / name)
processed = {{c.path: process_file(top / name, c, None, 1_000_000) for c in listing.candidates}}
print(json.dumps({{
    "git": listing.git,
    "skipped": listing.skipped,
    "indexed": sorted(p for p, done in processed.items() if done.skip is None),
    "unread": sorted(p for p, done in processed.items() if done.skip is not None),
    "reasons": sorted({{done.skip for done in processed.values() if done.skip}}),
}}))
"""


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder the unprivileged child can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="ocp-perm-"))
    root.chmod(0o755)
    yield root
    for path in (root, *root.rglob("*")):  # give back what the test locked
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o700)
    shutil.rmtree(root)


def index_as_unprivileged(top: Path, name: str) -> dict[str, Any]:
    """List and read the workspace `top/name` as an unprivileged user."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(top), name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "plain"])
def test_unreadable_files_and_folders_are_skipped_and_counted_and_the_rest_indexed(
    shared_tmp: Path, tracked: bool
) -> None:
    warm = shared_tmp / "warm"
    warm.mkdir()
    (warm / "warm.py").write_text("def warm():\n    pass\n")
    ws = shared_tmp / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "locked").mkdir()
    (ws / "src" / "open.py").write_text("def readable():\n    pass\n")
    (ws / "src" / "closed.py").write_text("def unreadable_file():\n    pass\n")
    (ws / "locked" / "inner.py").write_text("def behind_a_locked_folder():\n    pass\n")
    if tracked:
        git(ws, "init", "-q")
        git(ws, "add", ".")
        git(ws, "commit", "-qm", "init")
    (ws / "src" / "closed.py").chmod(0)
    (ws / "locked").chmod(0)
    found = index_as_unprivileged(shared_tmp, "ws")
    assert found["git"] is tracked
    assert found["indexed"] == ["src/open.py"]
    assert found["unread"] == ["src/closed.py"] and found["reasons"] == ["unreadable"]
    assert found["skipped"] == {"unreadable": 1}  # the folder, whose files cannot be listed
