"""`rank()` of another checkout against this one's, in one process, query by query.

    uv run python bench/bench_rank_ab.py --a /work/lat-base [--corpus click,large] [--repeat 7]

On a shared machine the MCP A/B (bench_search_latency.py) moves by 10-20% between runs of the
same code; this one by about 1%: both rankings run in this process on the same snapshot, each
query alternately by A and B `--repeat` times, and the table sums each query's fastest run.
A's ranking modules (`index/` lexical.py, the snapshot it ranks, built from the same
database; query.py, hits.py, proximity.py, features.py and ranking.py, those its checkout has:
before 2026-12-04 ranking.py held them all) are loaded from its checkout as modules of their
own, with its own `ranker_weights.json` (the two may rank other features); everything else they
import (the lexicon) is this checkout's, so it measures a change to those files. The indexes are
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
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CACHE, CORPORA, _queries  # noqa: E402

import ocp_server.index.lexical as this_lexical  # noqa: E402
import ocp_server.index.query as this_query  # noqa: E402
import ocp_server.index.ranking as this_ranking  # noqa: E402

INDEX = Path("ocp_server/src/ocp_server/index")
#: The modules a ranking is made of, each after those it imports.
RANKING_MODULES = (
    "file_kinds",
    "chunk_columns",
    "lexical",
    "query",
    "hits",
    "proximity",
    "features",
    "ranking",
)
WEIGHTS = INDEX / "ranker_weights.json"


class Side(NamedTuple):
    lexical: ModuleType
    query: ModuleType  # the module defining parse_query
    ranking: ModuleType


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load(checkout: Path) -> Side:
    """A's ranking modules, each importing A's own: while they load, A's stand in for this
    checkout's under their package names."""
    ours = {name: sys.modules.get(f"ocp_server.index.{name}") for name in RANKING_MODULES}
    loaded: dict[str, ModuleType] = {}
    try:
        for name in RANKING_MODULES:
            path = checkout / INDEX / f"{name}.py"
            if path.exists():
                loaded[name] = _module(f"{name}_a", path)
                sys.modules[f"ocp_server.index.{name}"] = loaded[name]
    finally:
        for name, module in ours.items():
            if module is not None:
                sys.modules[f"ocp_server.index.{name}"] = module
    ranking = loaded["ranking"]
    features = loaded.get("features", ranking)
    data = json.loads((checkout / WEIGHTS).read_text("utf-8"))
    if tuple(data["features"]) != features.FEATURES:
        raise SystemExit(f"{checkout / WEIGHTS} was trained for other features than its ranking's")
    base = np.asarray(data["weights"], dtype=np.float64)
    kinds = tuple(np.asarray(data["query_kinds"][k], dtype=np.float64) for k in ranking.QUERY_KINDS)
    weights = ranking.RankerWeights(base, kinds)
    # its own weights, not this checkout's (which may rank other features)
    ranking.load_weights = lambda: weights  # type: ignore[attr-defined]
    return Side(loaded["lexical"], loaded.get("query", ranking), ranking)


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
    sides = {"A": _load(args.a), "B": Side(this_lexical, this_query, this_ranking)}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    print(f"each query's best of {args.repeat} runs, summed, per query:")
    print("| corpus | queries | A ms/query | B ms/query | B/A |")
    print("|---|---|---|---|---|")
    for name in args.corpus.split(","):
        db = args.cache.expanduser() / "work" / "ocp" / name / "ocp.db"
        snaps = {label: side.lexical.load_snapshot(db) for label, side in sides.items()}
        queries = _queries(name)
        total = {"A": 0.0, "B": 0.0}
        for query in queries:
            parsed = {label: side.query.parse_query(query) for label, side in sides.items()}
            best = {"A": float("inf"), "B": float("inf")}
            for r in range(args.repeat):
                for label in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    t0 = time.perf_counter()
                    sides[label].ranking.rank(snaps[label], parsed[label])
                    best[label] = min(best[label], time.perf_counter() - t0)
            total["A"] += best["A"]
            total["B"] += best["B"]
        a, b = (total[s] * 1000 / len(queries) for s in ("A", "B"))
        print(f"| {name} | {len(queries)} | {a:.3f} | {b:.3f} | {b / a:.3f} |", flush=True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
