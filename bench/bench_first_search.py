"""A fresh server's first search, A/B: two `ocp-server` commands started in turn, each asked
one search as soon as it answered `initialize`, or after a pause (an agent's first search
comes seconds after its client started the server).

    uv run python bench/bench_first_search.py --a .venv/bin/ocp-server \
        --b /work/main/.venv/bin/ocp-server [--starts 8] [--pause 0,2] [--corpus pytest]

It reuses the indexes `../shared/bench/retrieval/run.py` built, as bench_search_latency.py
does (`--cache`, `--b-cache`); each start gets a fresh copy of the database. Every start is a
new process and asks a query no start before it asked, so nothing is answered from a cache:
these are cold numbers. The two commands alternate start by start (the machine's load falls on
both alike). Columns, medians over the starts: the wall time to `initialize` answered and the
server's CPU (all threads) until then; the first search's wall time and the server's CPU from
sending it to its answer; the server's CPU from its start to that answer; the second search's
wall time (warm, for scale).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_latency import CACHE, Server, _queries  # noqa: E402


def _start(cmd: str, root: Path, built: Path, query: str, later: str, pause: float) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="ocp-first-") as tmp:
        db = Path(tmp) / "ocp.db"
        shutil.copy(built, db)
        t0 = time.perf_counter()
        server = Server(cmd, root, db)
        try:
            t1, c1 = time.perf_counter(), server.cpu_seconds()
            time.sleep(pause)
            t2, c2 = time.perf_counter(), server.cpu_seconds()
            server.search(query)
            t3, c3 = time.perf_counter(), server.cpu_seconds()
            server.search(later)
            t4 = time.perf_counter()
        finally:
            server.close()
    ms = 1000.0
    return [ms * (t1 - t0), ms * c1, ms * (t3 - t2), ms * (c3 - c2), ms * c3, ms * (t4 - t3)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="the first ocp-server command")
    parser.add_argument("--b", required=True, help="the second ocp-server command")
    parser.add_argument("--starts", type=int, default=8, help="starts of each server")
    parser.add_argument("--pause", default="0,2", help="seconds before the first search")
    parser.add_argument("--corpus", default="pytest,ripgrep")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--b-cache", type=Path, help="B's run.py cache (default: --cache)")
    args = parser.parse_args()
    cache = args.cache.expanduser()
    b_cache = args.b_cache.expanduser() if args.b_cache else cache
    print(
        "| corpus | pause s | server | initialize ms | its CPU ms | first search ms "
        "| its CPU ms | CPU from start ms | second search ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.corpus.split(","):
        queries = _queries(name)
        for pause in (float(p) for p in args.pause.split(",")):
            rows: dict[str, list[list[float]]] = {"A": [], "B": []}
            for i in range(args.starts):
                sides = [("A", args.a, cache), ("B", args.b, b_cache)]
                for label, cmd, where in sides if i % 2 == 0 else sides[::-1]:
                    built = where / "work" / "ocp" / name / "ocp.db"
                    root = where / "corpora" / name
                    later = queries[(i + len(queries) // 2) % len(queries)]
                    rows[label].append(_start(cmd, root, built, queries[i], later, pause))
            for label, found in rows.items():
                medians = [statistics.median(col) for col in zip(*found, strict=True)]
                cells = " | ".join(f"{m:.0f}" for m in medians)
                print(f"| {name} | {pause:g} | {label} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
