"""Where a search's time goes on the server between the request line and the answer's bytes,
stage by stage, in process, with the SDK's own functions for the SDK's stages.

    uv run python bench/bench_mcp_stages.py [--corpus click,ripgrep] [--rounds 3]

It reuses the indexes `../shared/bench/retrieval/run.py` built (as bench_search_latency.py
does) and sends each development query as `{query, k: 20}`. Each stage is timed on its own
(perf_counter around it) and the table shows the median per query in milliseconds. The
stages are the ones a `tools/call` goes through in `ocp-server`: stdio's line check, the
SDK's request validation, our argument model, the search (with the answer's two shapes, text
and structured, built in its wire form), the result's dict, the result as sent (the SDK's
result validation and dump are skipped for a tool's answer: tool_answers.py), and the
response's JSON. What the SDK's
dispatch adds around them (tasks, streams, middleware) is not in the table: compare the sum
with the server CPU per query bench_search_latency.py reports. The medians are of each stage
alone: they do not add up to the median of the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CACHE, CORPORA, K, _queries, index_copy, stale_rules  # noqa: E402
from mcp.server.runner import _dump_result, _extract_meta  # noqa: E402
from mcp.shared.message import SessionMessage  # noqa: E402
from mcp.types import CallToolRequestParams  # noqa: E402
from mcp_types import methods as _methods  # noqa: E402
from mcp_types.jsonrpc import JSONRPCResponse  # noqa: E402

import ocp_wire as wire  # noqa: E402
from ocp_server.index.clean_text import RULES_DIGEST  # noqa: E402
from ocp_server.jsonrpc_line import check_line, encode_message  # noqa: E402
from ocp_server.settings import resolve_workspace  # noqa: E402
from ocp_server.tool_answers import as_sent, tool_result  # noqa: E402

VERSION = "2025-06-18"  # what the retrieval benchmark's client asks for


async def _corpus(name: str, cache: Path, rounds: int) -> dict[str, float]:
    root = cache / "corpora" / name
    built = cache / "work" / "ocp" / name / "ocp.db"
    queries = _queries(name)
    warning = stale_rules("this checkout", RULES_DIGEST, built)
    if warning:
        print(warning, file=sys.stderr)
    stages: dict[str, list[float]] = defaultdict(list)
    async with index_copy(root, built) as (settings, state, ws):
        for q in queries[:5]:
            await state.search(ws, wire.SearchArgs(query=q, k=K))
        for r in range(rounds):
            for i, q in enumerate(queries):
                request = {
                    "jsonrpc": "2.0",
                    "id": i + r * len(queries),
                    "method": "tools/call",
                    "params": {"name": wire.SEARCH.name, "arguments": {"query": q, "k": K}},
                }
                line = json.dumps(request).encode()
                marks = [("", time.perf_counter())]

                def mark(stage: str) -> None:
                    marks.append((stage, time.perf_counter()))  # noqa: B023

                message = check_line(line)
                mark("stdio: line check + JSON-RPC parse")
                params: Any = message.params  # type: ignore[union-attr]
                _extract_meta(params)
                _methods.validate_client_request("tools/call", VERSION, params)
                typed = CallToolRequestParams.model_validate(params, by_name=False)
                mark("SDK: request validation")
                args = wire.SearchArgs.model_validate(typed.arguments or {})
                mark("ours: argument model")
                ws = await state.workspace(resolve_workspace(settings, None, None))
                mark("ours: workspace resolution")
                out = await state.search_answer(ws, args)
                mark("search (AppState.search, in process)")
                result = tool_result(out)
                mark("ours: result dict (its text and structured content come with the search)")
                dumped = _dump_result(as_sent(result, VERSION))
                mark("ours: the result as sent (no SDK dump: tool_answers.py)")
                response = SessionMessage(
                    JSONRPCResponse(jsonrpc="2.0", id=request["id"], result=dumped)
                )
                mark("SDK: JSONRPCResponse")
                encode_message(response.message)
                mark("stdio: response JSON")
                for (_, t0), (stage, t1) in zip(marks, marks[1:], strict=False):
                    stages[stage].append((t1 - t0) * 1000)
    return {stage: statistics.median(times) for stage, times in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="passes over each query list")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
    )
    args = parser.parse_args()
    names = args.corpus.split(",")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    columns = {n: asyncio.run(_corpus(n, args.cache.expanduser(), args.rounds)) for n in names}
    stages = list(next(iter(columns.values())))
    print("| stage, median ms per query | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for stage in stages:
        cells = " | ".join(f"{columns[n][stage]:.3f}" for n in names)
        print(f"| {stage} | {cells} |")
    outside = [s for s in stages if not s.startswith("search")]
    cells = " | ".join(f"{sum(columns[n][s] for s in outside):.3f}" for n in names)
    print(f"| **all but the search** | {cells} |")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
