"""`rank()` of another checkout against this one's, in one process, query by query.

    uv run python bench/bench_rank_ab.py --a /work/lat-base [--corpus click,large] [--repeat 7]

On a shared machine the MCP A/B (bench_search_latency.py) moves by 10-20% between runs of the
same code; this one by about 1%: both rankings run in this process on the same snapshot, each
query alternately by A and B `--repeat` times, and the table sums each query's fastest run.
A's `index/ranking.py` and `index/lexical.py` (the snapshot it ranks, built from the same
database) are loaded from its checkout as modules of their own, with its own
`ranker_weights.json` (the two may rank other features); everything else they import (the
lexicon) is this checkout's, so it measures a change to those two files. The indexes are
run.py's, as for bench_search_latency.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CACHE, CORPORA, _queries  # noqa: E402

import ocp_server.index.lexical as this_lexical  # noqa: E402
import ocp_server.index.ranking as this_ranking  # noqa: E402

RANKING = Path("ocp_server/src/ocp_server/index/ranking.py")
LEXICAL = RANKING.with_name("lexical.py")
WEIGHTS = RANKING.with_name("ranker_weights.json")


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load(checkout: Path) -> tuple[ModuleType, ModuleType]:
    """A's lexical and ranking modules; its ranking imports its own lexical."""
    lexical = _module("lexical_a", checkout / LEXICAL)
    this = sys.modules["ocp_server.index.lexical"]
    sys.modules["ocp_server.index.lexical"] = lexical
    try:
        module = _module("ranking_a", checkout / RANKING)
    finally:
        sys.modules["ocp_server.index.lexical"] = this
    data = json.loads((checkout / WEIGHTS).read_text("utf-8"))
    if tuple(data["features"]) != module.FEATURES:
        raise SystemExit(f"{checkout / WEIGHTS} was trained for other features than its ranking's")
    base = np.asarray(data["weights"], dtype=np.float64)
    kinds = tuple(np.asarray(data["query_kinds"][k], dtype=np.float64) for k in module.QUERY_KINDS)
    weights = module.RankerWeights(base, kinds)
    # its own weights, not this checkout's (which may rank other features)
    module.load_weights = lambda: weights  # type: ignore[attr-defined]
    return lexical, module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, required=True, help="the other checkout's root")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--repeat", type=int, default=7, help="runs of each query by each")
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
    )
    args = parser.parse_args()
    lexical_a, ranking_a = _load(args.a)
    sides = {"A": ranking_a, "B": this_ranking}
    lexicals = {"A": lexical_a, "B": this_lexical}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    print(f"each query's best of {args.repeat} runs, summed, per query:")
    print("| corpus | queries | A ms/query | B ms/query | B/A |")
    print("|---|---|---|---|---|")
    for name in args.corpus.split(","):
        db = args.cache.expanduser() / "work" / "ocp" / name / "ocp.db"
        snaps = {label: m.load_snapshot(db) for label, m in lexicals.items()}
        queries = _queries(name)
        total = {"A": 0.0, "B": 0.0}
        for query in queries:
            parsed = {label: m.parse_query(query) for label, m in sides.items()}
            best = {"A": float("inf"), "B": float("inf")}
            for r in range(args.repeat):
                for label in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    t0 = time.perf_counter()
                    sides[label].rank(snaps[label], parsed[label])
                    best[label] = min(best[label], time.perf_counter() - t0)
            total["A"] += best["A"]
            total["B"] += best["B"]
        a, b = (total[s] * 1000 / len(queries) for s in ("A", "B"))
        print(f"| {name} | {len(queries)} | {a:.3f} | {b:.3f} | {b / a:.3f} |", flush=True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
