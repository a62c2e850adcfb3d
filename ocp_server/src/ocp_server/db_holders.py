"""Who holds the database: the processes whose SQLite locks keep a write or a checkpoint
waiting, named so that a "busy" answer says what to close or wait for.

In WAL mode SQLite takes its locks as POSIX byte-range locks on the -shm file: byte 120 for
the writer, 121 for a checkpoint, 123-127 for readers (WALINDEX_LOCK_OFFSET in its wal.c).
Linux lists every POSIX lock in /proc/locks with the pid holding it; elsewhere no holder is
named (the answer still says what kind of holder to look for).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from ocp_router.redact import redact

__all__ = ["holders", "named_holders"]

_WRITE: Final = range(120, 121)
_CHECKPOINT_BLOCKERS: Final = range(120, 128)  # a writer, a checkpoint, or any reader
_LOCKS: Final = Path("/proc/locks")


def holders(db_path: Path, *, readers: bool = False) -> list[int]:
    """The pids (other than this one) holding the database's write lock, or with `readers`
    any lock that keeps a checkpoint from truncating the -wal file. Empty where unknown."""
    wanted = _CHECKPOINT_BLOCKERS if readers else _WRITE
    try:
        shm = os.stat(f"{db_path}-shm")
        table = _LOCKS.read_text("utf-8", errors="replace")
    except OSError:
        return []
    found: list[int] = []
    for line in table.splitlines():
        # "1: POSIX  ADVISORY  WRITE 4242 08:01:1234567 120 120"
        parts = line.split()
        if len(parts) < 8 or parts[1] != "POSIX":
            continue
        try:
            pid = int(parts[4])
            inode = int(parts[5].rsplit(":", 1)[1])
            start = int(parts[6])
            end = -1 if parts[7] == "EOF" else int(parts[7])
        except (ValueError, IndexError):
            continue
        if inode != shm.st_ino or pid == os.getpid() or pid in found:
            continue
        if start <= wanted[-1] and (end == -1 or end >= wanted[0]):
            found.append(pid)
    return found


def named_holders(db_path: Path, *, readers: bool = False) -> str | None:
    """`holders` as a phrase: "pid 4242 (ocp-server serve)"; None when none is known."""
    pids = holders(db_path, readers=readers)
    if not pids:
        return None
    return ", ".join(f"pid {pid} ({_command(pid)})" for pid in pids[:3])


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "exited"
    words = [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]
    if words:
        words[0] = Path(words[0]).name  # the program, not where it is installed
    # another program's arguments, shown to the agent and its model: `--token ghp_...`
    # one line (a `python3 -c` script's line breaks and tabs broke the message's), redacted
    # as shown
    text = redact(" ".join(" ".join(words).split())).text or "?"
    return text if len(text) <= 80 else text[:79] + "…"
