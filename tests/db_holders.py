"""Another process holding an OCP database, for tests of what a server or proxy does
meanwhile. The other process is real: SQLite's locks are POSIX locks, which a process never
conflicts with itself."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

__all__ = ["held_recovering", "held_writing"]

# What a connection running WAL recovery holds (the write, checkpoint and recover locks of
# the -shm file, bytes 120-122), over a wal-index header a crash left unreadable: every other
# connection's read is SQLITE_BUSY_RECOVERY until it is done.
_RECOVERING = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 3, 120, 0)
os.pwrite(fd, bytes(136), 0)
print("held", flush=True)
sys.stdin.read()
"""

# Another process's write in progress (an `ocp-server index`, a second proxy): a WAL writer
# holding its transaction open, after the statements given in argv[2:].
_WRITING = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
for statement in sys.argv[2:]:
    db.execute(statement)
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def _held(code: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A process running `code` with `args` until the block ends (or its stdin is closed)."""
    with subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as other:  # its exit closes the pipes (the other process's end) and waits for it
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        yield other


def held_recovering(db: Path) -> AbstractContextManager[subprocess.Popen[str]]:
    """Another process running WAL recovery on `db` until the block ends."""
    return _held(_RECOVERING, f"{db}-shm")


def held_writing(db: Path, *statements: str) -> AbstractContextManager[subprocess.Popen[str]]:
    """Another process holding a write transaction on `db` (after `statements`)."""
    return _held(_WRITING, str(db), *statements)
