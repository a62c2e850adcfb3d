"""A server over stdio whose first index build runs in worker processes: a workspace of many
files, the server started on it with no model, and its processes found and waited for
(from `ps` and /proc, Linux)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.server.raw_server import RawServer

# One function of a file, the i-th (from 0).
FUNCTION = "def g_{i}(x):\n    return x * {i}\n\n"


def many_files(ws: Path, *, files: int, functions: int, function: str = FUNCTION) -> Path:
    """`ws` with `files` Python files under src/, each of `functions` small functions: enough
    that a build hands them to worker processes and takes a while."""
    (ws / "src").mkdir(parents=True)
    body = "".join(function.format(i=i) for i in range(functions))
    for n in range(files):
        (ws / "src" / f"m{n}.py").write_text(body)
    return ws


def index_only_server(ws: Path, cwd: Path) -> RawServer:
    """The server on `ws`, its local model an address nobody answers: it only indexes."""
    return RawServer({"OCP_WORKSPACE": str(ws), "OCP_OLLAMA_URL": "http://127.0.0.1:9"}, cwd=cwd)


def children(pid: int) -> set[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in found.stdout.split()}


def grandchildren(pid: int) -> set[int]:
    """The server's forkserver's children: the workers it forks, each on a file."""
    return {w for p in children(pid) for w in children(p)}


def descendants(pid: int) -> set[int]:
    listed = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    below: dict[int, list[int]] = {}
    for line in listed.stdout.splitlines():
        child, parent = map(int, line.split())
        below.setdefault(parent, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in below.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _parent(pid: int) -> int:
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def index_workers(server: int) -> set[int]:
    """The index build's worker processes: the children of the server's forkserver."""
    return {pid for pid in descendants(server) if alive(pid) and _parent(pid) != server}


def wait_for_workers(
    find: Callable[[], set[int]],
    *,
    at_least: int = 1,
    seconds: float = 30.0,
    every: float = 0.2,
    keep_seen: bool = False,
) -> set[int]:
    """What `find` lists once it lists `at_least` processes, or when `seconds` passed (the
    caller asserts the count); with `keep_seen`, every process it listed meanwhile."""
    found: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(found) < at_least and time.monotonic() < deadline:
        time.sleep(every)
        found = found | find() if keep_seen else find()
    return found


def kill_all(pids: Iterable[int]) -> None:
    """SIGKILL to each (those gone already are passed over)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def read_to_eof(fd: int, seconds: float) -> tuple[bytes, bool]:
    """What is left on `fd` until its last writer closes it, and whether that happened (False:
    `seconds` passed with nothing more to read)."""
    read = b""
    while True:
        ready, _, _ = select.select([fd], [], [], seconds)
        if not ready:
            return read, False
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return read, True
        read += chunk
