"""`rank()` of another checkout against this one's, in one process, query by query.

    uv run python bench/bench_rank_ab.py --a /work/lat-base [--corpus click,large] [--repeat 7]

On a shared machine the MCP A/B (bench_search_latency.py) moves by 10-20% between runs of the
same code; this one by about 1%: both rankings run in this process on the same snapshot, each
query alternately by A and B `--repeat` times, and the table sums each query's fastest run.
A's `index/ranking.py` is loaded from its checkout as a module of its own; everything it
imports (the snapshot, the lexicon) is this checkout's, so it measures a change to
`ranking.py` alone. The indexes are run.py's, as for bench_search_latency.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CORPORA, _queries  # noqa: E402

import ocp_server.index.ranking as this_ranking  # noqa: E402
from ocp_server.index.lexical import load_snapshot  # noqa: E402

RANKING = Path("ocp_server/src/ocp_server/index/ranking.py")


def _load(checkout: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("ranking_a", checkout / RANKING)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no {RANKING} in {checkout}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ranking_a"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, required=True, help="the other checkout's root")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--repeat", type=int, default=7, help="runs of each query by each")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("OCP_BENCH_CACHE", "~/.cache/ocp-bench/retrieval-dev")),
    )
    args = parser.parse_args()
    sides = {"A": _load(args.a), "B": this_ranking}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    print(f"each query's best of {args.repeat} runs, summed, per query:")
    print("| corpus | queries | A ms/query | B ms/query | B/A |")
    print("|---|---|---|---|---|")
    for name in args.corpus.split(","):
        snap = load_snapshot(args.cache.expanduser() / "work" / "ocp" / name / "ocp.db")
        queries = _queries(name)
        total = {"A": 0.0, "B": 0.0}
        for query in queries:
            parsed = {label: m.parse_query(query) for label, m in sides.items()}
            best = {"A": float("inf"), "B": float("inf")}
            for r in range(args.repeat):
                for label in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    t0 = time.perf_counter()
                    sides[label].rank(snap, parsed[label])
                    best[label] = min(best[label], time.perf_counter() - t0)
            total["A"] += best["A"]
            total["B"] += best["B"]
        a, b = (total[s] * 1000 / len(queries) for s in ("A", "B"))
        print(f"| {name} | {len(queries)} | {a:.3f} | {b:.3f} | {b / a:.3f} |", flush=True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
