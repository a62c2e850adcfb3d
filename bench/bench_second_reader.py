"""A second reader's postings after another process's index write: how long its next search
waits for them, and whether it patched them (`snapshot_delta`) or read them whole.

    uv run python bench/bench_second_reader.py --corpus django --a A/.venv/bin/python \\
        --b .venv/bin/python --rounds 4 --edits 5

Each checkout gets its own copy of the corpus (a git repository) and database under `--dir`,
built on first use and kept. A round runs one process per checkout, in turns (A, B, A, B…: the
host's slow spells hit both): it opens the database twice, as two processes sharing it would
(a writer holding the lease, and a reader: a second IDE window, a standby server, a CLI
search), loads the reader's postings, then `--edits` times appends a definition to one file,
lets the writer index it, and times the writer's `snapshot()` and then the reader's (what
their next searches wait for). Printed: the reader's first (whole) load and its loads after
an edit, median and max, how they were made (`snapshots.loads`, where the checkout counts
them), and the writer's own loads after its edits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from corpus import django_source, git_init  # noqa: E402


def _source(name: str, cache: Path) -> Path:
    if name == "django":
        return django_source()
    src = cache / "corpora" / name
    if not src.is_dir():
        raise SystemExit(f"no corpus at {src}: run ../shared/bench/retrieval/run.py first")
    return src


def _target(ws: Path, n: int) -> Path:
    files = sorted(
        p for p in ws.rglob("*.py") if ".git" not in p.parts and 2_000 < p.stat().st_size < 40_000
    )
    return files[(len(files) // 2 + 37 * n) % len(files)]


async def _child(ws: Path, db: Path, edits: int) -> dict[str, Any]:
    from ocp_server.index.workspace import WorkspaceIndex

    async with (
        await WorkspaceIndex.open(ws, db) as writer,
        await WorkspaceIndex.open(ws, db) as reader,
    ):
        await writer.update()  # built on first use, else caught up
        await writer.snapshot()
        started = time.perf_counter()
        await reader.snapshot()
        first = time.perf_counter() - started
        after: list[float] = []
        own: list[float] = []
        for n in range(edits):
            target = _target(ws, n)
            with target.open("a") as f:
                f.write(f"\n\ndef zqsecond{os.getpid()}x{n}():\n    return 1\n")
            await writer.update()
            started = time.perf_counter()
            await writer.snapshot()
            own.append(time.perf_counter() - started)
            started = time.perf_counter()
            await reader.snapshot()
            after.append(time.perf_counter() - started)
        loads = dict(getattr(getattr(reader, "snapshots", None), "loads", {}))
    return {"first": first, "after": after, "own": own, "loads": loads}


def _run(python: str, ws: Path, db: Path, edits: int) -> dict[str, Any]:
    out = subprocess.run(
        [python, __file__, "--child", str(ws), str(db), str(edits)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        ws, db, edits = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(asyncio.run(_child(ws, db, edits))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="django", help="django, or a run.py corpus")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/base44-bench"))
    parser.add_argument("--a", required=True, help="the first checkout's python")
    parser.add_argument("--b", required=True, help="the second checkout's python")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ocp-second-reader"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--edits", type=int, default=5, help="edits per round")
    args = parser.parse_args()
    sides = {"A": args.a, "B": args.b}
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for side in sides:
        ws = args.dir / args.corpus / side / "ws"
        if not ws.is_dir():
            shutil.copytree(_source(args.corpus, args.cache), ws, symlinks=True)
            shutil.rmtree(ws / ".git", ignore_errors=True)
            git_init(ws)
    for r in range(args.rounds):
        for side, python in sides.items():
            base = args.dir / args.corpus / side
            got = _run(python, base / "ws", base / "ocp.db", args.edits)
            results[side].append(got)
            times = ", ".join(f"{t * 1000:.0f}" for t in got["after"])
            print(f"round {r + 1} {side}: first {got['first']:.2f} s, after edits {times} ms")
    table = Table(title=f"{args.corpus}: the reader's postings after another process's write")
    columns = ("first load s (median)", "after an edit ms (median / max)", "loads", "writer's own")
    for column in ("", *columns):
        table.add_column(column, justify="right")
    for side, runs in results.items():
        after = [t for got in runs for t in got["after"]]
        own = [t for got in runs for t in got["own"]]
        loads: dict[str, int] = {}
        for got in runs:
            for how, n in got["loads"].items():
                loads[how] = loads.get(how, 0) + n
        table.add_row(
            f"{side} {sides[side]}",
            f"{statistics.median(g['first'] for g in runs):.2f}",
            f"{statistics.median(after) * 1000:.0f} / {max(after) * 1000:.0f}",
            ", ".join(f"{k} {v}" for k, v in sorted(loads.items())),
            f"{statistics.median(own) * 1000:.0f} / {max(own) * 1000:.0f}",
        )
    Console(width=150).print(table)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
