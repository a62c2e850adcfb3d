"""CPU time of a search's stages in process, per query: where `ocp_context_search` spends its
CPU on the server apart from the MCP path, measured so that a loaded machine moves it little.

    uv run python bench/bench_search_cpu.py [--corpus click,ripgrep] [--passes 5]

It reuses the indexes `../shared/bench/retrieval/run.py` built (as bench_search_latency.py
does), asks every development query once to warm the caches, then `--passes` times more; each
stage's CPU time (`time.process_time`, so time spent waiting for a core on a busy machine is
not counted, unlike bench_mcp_stages.py's wall clock) is summed per pass, and the table shows
each stage's lowest pass over the queries, in microseconds per query. Stages nest: `rank`
is part of `search_chunks`, which is part of `WorkspaceIndex.search`, which is part of
`search_answer` (the whole in-process search, the tool's answer built). The timers cost about
a microsecond each, a few per query.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CACHE, CORPORA, K, _queries, index_copy  # noqa: E402

import ocp_server.app as app  # noqa: E402
import ocp_server.index.search as search  # noqa: E402
import ocp_server.index.workspace as workspace  # noqa: E402
import ocp_server.index.workspace_search as workspace_search  # noqa: E402
import ocp_server.views as views  # noqa: E402
import ocp_wire as wire  # noqa: E402

_spent: dict[str, float] = {}


def _timed(label: str, f: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(f):

        @functools.wraps(f)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return await f(*args, **kwargs)
            finally:
                _spent[label] = _spent.get(label, 0.0) + time.process_time() - t0

        return timed_async

    @functools.wraps(f)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            _spent[label] = _spent.get(label, 0.0) + time.process_time() - t0

    return timed


#: (module the stage is called from, its name there, the label shown)
_STAGES: list[tuple[ModuleType, str, str]] = [
    (search, "parse_query", "parse_query"),
    (search, "rank", "rank (features and weights)"),
    (search, "literal_chunks", "literal_chunks (a message's literals)"),
    (search, "_picks", "_picks (chunks of the best files)"),
    (search, "_rows", "_rows (the chunks' rows)"),
    (search, "_members", "_members (a container's members)"),
    (search, "_matched_terms", "_matched_terms"),
    (workspace_search, "search_chunks", "search_chunks"),
    (workspace_search, "changed_on_disk", "changed_on_disk (cited files stat'ed)"),
    (workspace_search, "ignore_files_since", "ignore_files_since (.gitignore files)"),
    (views, "search_answer", "views.search_answer (structured and text)"),
]
_METHODS: list[tuple[type, str, str]] = [
    (workspace.WorkspaceIndex, "search", "WorkspaceIndex.search"),
    (app.AppState, "search_answer", "search_answer (all of it)"),
]


async def _corpus(name: str, cache: Path, passes: int) -> dict[str, float]:
    root = cache / "corpora" / name
    built = cache / "work" / "ocp" / name / "ocp.db"
    queries = _queries(name)
    best: dict[str, float] = {}
    async with index_copy(root, built) as (_, state, ws):
        for q in queries:
            await state.search_answer(ws, wire.SearchArgs(query=q, k=K))
        for _ in range(passes):
            _spent.clear()
            for q in queries:
                await state.search_answer(ws, wire.SearchArgs(query=q, k=K))
            for label, seconds in _spent.items():
                per_query = seconds * 1e6 / len(queries)
                best[label] = min(best.get(label, per_query), per_query)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the queries")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    for module, name, label in _STAGES:
        setattr(module, name, _timed(label, getattr(module, name)))
    for cls, name, label in _METHODS:
        setattr(cls, name, _timed(label, getattr(cls, name)))
    names = args.corpus.split(",")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    columns = {n: asyncio.run(_corpus(n, args.cache.expanduser(), args.passes)) for n in names}
    labels = [label for _, _, label in reversed(_METHODS)] + [label for *_, label in _STAGES]
    print("| CPU µs per query, lowest pass | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label in labels:
        cells = " | ".join(f"{columns[n].get(label, 0.0):.0f}" for n in names)
        print(f"| {label} | {cells} |")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
