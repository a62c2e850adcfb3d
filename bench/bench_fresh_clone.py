"""A fresh clone indexed at once: the build's time, and how many files the update right after
it (the watcher's catch-up) reads and hashes again under the racy-clean rule
(`indexer._racy_window_ns`).

    uv run python bench/bench_fresh_clone.py [--repo /work/.mirror/pallets+click/repo] [--json]

One sample per run: clone the repository into a temporary folder, build its index at once,
update again, time a few searches. A/B means two checkouts' code, each run in turn, e.g.

    for i in 1 2 3 4 5; do
      PYTHONPATH=/tmp/base/ocp_server/src uv run python bench/bench_fresh_clone.py --json
      uv run python bench/bench_fresh_clone.py --json
    done

with /tmp/base holding the other checkout's `ocp_server/src` (`git archive main ocp_server/src
| tar -x -C /tmp/base`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex

QUERIES = (
    "parse command line options",
    "Context.invoke",
    "progress bar",
    "shell completion for bash",
    "prompt for a password",
    "echo with colors",
    "BadParameter",
    "file path type that checks existence",
)


async def sample(repo: str) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="ocp-fresh-clone-"))
    try:
        ws = tmp / "ws"
        subprocess.run(["git", "clone", "-q", repo, str(ws)], check=True)
        async with await WorkspaceIndex.open(ws, tmp / "ocp.db") as index:
            started = time.perf_counter()
            build = await index.update()
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            again = await index.update()
            again_s = time.perf_counter() - started
            assert build is not None and again is not None
            for query in QUERIES:  # the postings read, the snapshot warm
                await index.search(query, refresh=False)
            times = []
            for _ in range(5):
                for query in QUERIES:
                    started = time.perf_counter()
                    await index.search(query)
                    times.append(time.perf_counter() - started)
        return {
            "files": build.files,
            "build_s": round(build_s, 3),
            "again_s": round(again_s, 4),
            "again_read": again.scanned,
            "search_p50_ms": round(statistics.median(times) * 1000, 3),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default="/work/.mirror/pallets+click/repo")
    parser.add_argument("--json", action="store_true", help="one JSON line")
    args = parser.parse_args()
    result = asyncio.run(sample(args.repo))
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
