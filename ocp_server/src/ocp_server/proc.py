"""Is a process still the one we think it is? For leases held by a pid that may have died.

A pid alone is not enough: after a crash the system may hand the same pid to an unrelated
process. A lease therefore records the holder's host and start time as well; a holder on this
host whose pid is gone, a zombie, or a newer process under the same pid, is dead.
"""

from __future__ import annotations

import os
import socket
import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def host() -> str:
    return socket.gethostname()


def _stat(pid: int) -> list[bytes] | None:
    """/proc/<pid>/stat fields from the third on (state, ppid, …), or None."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return data[data.rindex(b")") + 2 :].split()


def start_token(pid: int) -> str | None:
    """What tells this process apart from a later one reusing its pid: its start time in
    clock ticks since boot (Linux); None where that cannot be read."""
    fields = _stat(pid)
    return fields[19].decode() if fields and len(fields) > 19 else None


def holder_alive(pid: int, started: str | None, holder_host: str | None) -> bool:
    """False only when the holder is certainly gone; True when it lives or cannot be told
    (another host, Windows), which leaves it to the lease's expiry."""
    if holder_host != host() or sys.platform == "win32":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    fields = _stat(pid)
    if fields is not None:
        if fields[0] in (b"Z", b"X"):  # a zombie: dead, not yet reaped by its parent
            return False
        if started is not None and len(fields) > 19 and fields[19].decode() != started:
            return False  # the pid now belongs to a newer process
    return True
