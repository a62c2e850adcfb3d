"""Time `history.read_history` (one bounded `git log`, parsed) on a repository.

    uv run python bench/bench_history_read.py [REPO] [--limit N] [--runs R] [--dump FILE]

REPO defaults to the current directory. Prints the commits and paths read and the min/median
seconds over R runs; --dump writes what was read (hash, time, message, paths) as JSON lines,
to compare two versions' output.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from ocp_server.index.history import DEFAULT_HISTORY_COMMITS, read_history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", nargs="?", type=Path, default=Path.cwd())
    parser.add_argument("--limit", type=int, default=DEFAULT_HISTORY_COMMITS)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        commits = read_history(args.repo, args.limit)
        times.append(time.perf_counter() - start)
    paths = sum(len(c.paths) for c in commits)
    print(f"{'repo':<30} {'commits':>8} {'paths':>8} {'min s':>8} {'median s':>9}")
    print(
        f"{str(args.repo)[-30:]:<30} {len(commits):>8} {paths:>8} "
        f"{min(times):>8.3f} {statistics.median(times):>9.3f}"
    )
    if args.dump:
        with args.dump.open("w") as out:
            for c in commits:
                row = {"hash": c.hash, "time": c.time, "message": c.message, "paths": c.paths}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
