"""What a server's idle read of its rows ahead of searches (answer_warmup.py) costs: per
corpus, A's and B's server each asked the first query and five more (as run.py does), then
left idle; the CPU it used while idle, and its resident memory (VmRSS) and peak (VmHWM)
after, from /proc.

    uv run python bench/bench_answer_warmup.py --a /work/main/.venv/bin/ocp-server \
        --b .venv/bin/ocp-server [--corpus pytest,hono] [--idle 3] [--cache DIR]

The indexes are `../shared/bench/retrieval/run.py`'s (bench_search_latency.py), on copies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_latency import CACHE, CORPORA, Server, _queries  # noqa: E402


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    cache = args.cache.expanduser()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    print(
        "| corpus | A idle CPU ms | A RSS MB | A peak MB | B idle CPU ms | B RSS MB | B peak MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.corpus.split(","):
        root, built = cache / "corpora" / name, cache / "work" / "ocp" / name / "ocp.db"
        queries = _queries(name)
        cells = []
        with tempfile.TemporaryDirectory(prefix="ocp-warm-") as tmp:
            for label in ("a", "b"):
                db = Path(tmp) / label / "ocp.db"
                db.parent.mkdir()
                shutil.copy(built, db)
                server = Server(getattr(args, label), root, db)
                try:
                    for q in queries[:6]:
                        server.search(q)
                    cpu = server.cpu_seconds()
                    time.sleep(args.idle)
                    idle_ms = (server.cpu_seconds() - cpu) * 1000
                    mem = _status(server.proc.pid)
                finally:
                    server.close()
                cells += [f"{idle_ms:.0f}", str(mem["VmRSS"]), str(mem["VmHWM"])]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
