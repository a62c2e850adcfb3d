"""The first search after a restart on a big workspace, A/B: a workspace of `--files` one-line
files (git-tracked) indexed once, then two `ocp-server` commands started in turn on it, each
asked one search as soon as it answered `initialize`, and one more.

    uv run python bench/bench_restart_search.py --a .venv/bin/ocp-server \
        --b /work/main/.venv/bin/ocp-server [--files 100000] [--starts 3]

The restart's first update checks every file for changes made while no server ran (a listing
and a stat of each) while the postings are read: both compete for the interpreter. The two
commands alternate start by start (the machine's load falls on both alike); each runs
`--linger` seconds after its searches, as a session would (a server saves its postings
snapshot for the next start in the background, `index/saved_snapshot.py`: the first start of
a server reads the rows, the next ones the file). Columns, medians
over the starts: `initialize` answered, the first search, the second (warm, for scale), and the
server's CPU (user + system, its threads and reaped children) when the first search answered."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.server.raw_server import RawServer  # noqa: E402


def _workspace(root: Path, files: int) -> Path:
    ws = root / "ws"
    for n in range(files):
        folder = ws / f"pkg{n // 1000}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n % 1000}.py").write_text(f"value_{n // 1000}_{n % 1000} = {n}\n")
    git = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "files"]):
        subprocess.run([*git, *args], cwd=ws, check=True)
    return ws


def _cpu(pid: int) -> float:
    """A live process's CPU seconds so far: its own and its reaped children's (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _start(cmd: str, ws: Path, query: str, linger: float) -> list[float]:
    env = {"OCP_WORKSPACE": str(ws), "OCP_OLLAMA_URL": "http://127.0.0.1:9"}
    t0 = time.perf_counter()
    raw = RawServer(env, cwd=ws.parent, command=(shutil.which(cmd) or cmd,))
    try:
        raw.initialize()
        t1 = time.perf_counter()
        raw.call_tool("ocp_context_search", {"query": query}, timeout=300)
        t2 = time.perf_counter()
        cpu = _cpu(raw.proc.pid)
        raw.call_tool("ocp_context_search", {"query": "value_1_1"}, timeout=300)
        t3 = time.perf_counter()
        time.sleep(linger)  # a session goes on: what a server does in the background ends
    finally:
        raw.kill()
    return [t1 - t0, t2 - t1, t3 - t2, cpu]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="the first ocp-server command")
    parser.add_argument("--b", required=True, help="the second ocp-server command")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=3, help="starts of each server")
    parser.add_argument("--workspace", type=Path, help="an indexed workspace to reuse")
    parser.add_argument(
        "--linger",
        type=float,
        default=10.0,
        help="seconds each server runs after its searches before it is killed",
    )
    args = parser.parse_args()
    args.a, args.b = (str(Path(c).resolve()) if Path(c).exists() else c for c in (args.a, args.b))
    with tempfile.TemporaryDirectory(prefix="ocp-restart-") as tmp:
        ws = args.workspace or _workspace(Path(tmp), args.files)
        if args.workspace is None:
            subprocess.run(
                [args.a, "index", "--workspace", str(ws)], check=True, capture_output=True
            )
        runs: dict[str, list[list[float]]] = {"A": [], "B": []}
        for n in range(args.starts):
            for label, cmd in (("A", args.a), ("B", args.b)):
                runs[label].append(_start(cmd, ws, f"value_{n + 2}_{n + 7}", args.linger))
    heads = ("initialize", "1st search", "2nd search", "start CPU")
    print(f"{'':3} " + " ".join(f"{h:>11}" for h in heads) + "   (s, medians)")
    for label, rows in runs.items():
        cols = [statistics.median(col) for col in zip(*rows, strict=True)]
        each = " ".join(f"{r[1]:.2f}" for r in rows)
        cpu = " ".join(f"{r[3]:.2f}" for r in rows)
        line = " ".join(f"{c:11.2f}" for c in cols)
        print(f"{label:3} {line}   1st each: {each}; CPU each: {cpu}")


if __name__ == "__main__":
    main()
