"""Instructions a search costs on the server's in-process MCP path, counted by cachegrind (load
does not move them, as it moves wall times by up to 2x on a shared machine).

    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        .venv/bin/python bench/search_instructions.py --corpus ripgrep --passes 2
    (and again with --passes 0; the difference over passes x queries is the cost of one)

Each development query of the corpus is asked once first (warm-up, as a server's first searches
are not what the benchmark's p50 measures), then `--passes` times through the stages of
bench_mcp_stages.py: stdio's line check, the SDK's request validation, the argument model,
workspace resolution, the search with its two answer shapes, the SDK's result dump and
validation, and the response's JSON. With PYTHONHASHSEED=0 two runs count within about 0.1%.
It reuses the indexes `../shared/bench/retrieval/run.py` built, as bench_search_latency.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_mcp_stages import VERSION  # noqa: E402
from bench_search_latency import CACHE, K, _queries, index_copy  # noqa: E402
from mcp.server.runner import _dump_result, _extract_meta  # noqa: E402
from mcp.types import CallToolRequestParams  # noqa: E402
from mcp_types import methods as _methods  # noqa: E402
from mcp_types.jsonrpc import JSONRPCResponse  # noqa: E402

import ocp_wire as wire  # noqa: E402
from ocp_server.jsonrpc_line import check_line, encode_message  # noqa: E402
from ocp_server.settings import resolve_workspace  # noqa: E402
from ocp_server.tool_answers import tool_result  # noqa: E402


async def _run(name: str, cache: Path, passes: int) -> int:
    queries = _queries(name)
    root, built = cache / "corpora" / name, cache / "work" / "ocp" / name / "ocp.db"
    written = 0
    async with index_copy(root, built) as (settings, state, ws):
        for q in queries:
            await state.search_answer(ws, wire.SearchArgs(query=q, k=K))
        for r in range(passes):
            for i, q in enumerate(queries):
                rid = i + r * len(queries)
                arguments = {"query": q, "k": K}
                params = {"name": wire.SEARCH.name, "arguments": arguments}
                request = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}
                message = check_line(json.dumps(request).encode())
                got: dict[str, object] = message.params  # type: ignore[union-attr, assignment]
                _extract_meta(got)
                _methods.validate_client_request("tools/call", VERSION, got)
                typed = CallToolRequestParams.model_validate(got, by_name=False)
                args = wire.SearchArgs.model_validate(typed.arguments or {})
                ws = await state.workspace(resolve_workspace(settings, None, None))
                result = tool_result(await state.search_answer(ws, args))
                dumped = _methods.serialize_server_result(
                    "tools/call", VERSION, _dump_result(result)
                )
                response = JSONRPCResponse(jsonrpc="2.0", id=rid, result=dumped)
                written += len(encode_message(response))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="ripgrep")
    parser.add_argument("--passes", type=int, default=2, help="passes over the query list")
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
    )
    args = parser.parse_args()
    written = asyncio.run(_run(args.corpus, args.cache.expanduser(), args.passes))
    print(f"{args.corpus}: {len(_queries(args.corpus))} queries x {args.passes}, {written} bytes")


if __name__ == "__main__":
    main()
