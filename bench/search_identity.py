"""Do two checkouts search alike, exactly? Every development query of the retrieval corpora
(commits and doc comments) through both, in process, compared float for float and byte for byte.

    uv run python bench/search_identity.py --a /work/lat-base/.venv/bin/python \
        --b .venv/bin/python [--corpus click,ripgrep] [--large]

`--a`/`--b` are the Python of each checkout's environment: each runs this script with its own
`ocp_server` and writes, per query, the ranking (`rank`: every candidate file in order with its
score as `float.hex`, and every chunk score the chunks are chosen by) and the MCP answer of
`ocp_context_search` with `k: 20`, in both shapes (`group_by` chunk and file), as the JSON
bytes of the tool's result. Then the two dumps are compared line by line; the first difference
is printed. A speed-up of the search must leave every line equal. It reuses the indexes
`../shared/bench/retrieval/run.py` built, as bench_search_latency.py does (`--b-cache`: B's
from another run.py cache, for a change to what an index stores); `--large` adds
the monorepo of `bench_search_latency.py --corpus large` (its index must be built).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CACHE, CORPORA, LARGE, K, _queries, index_copy  # noqa: E402

#: An index's last update as an answer states it (escaped too, inside a result's text).
_LAST_UPDATE = re.compile(r'(\\?"last_update\\?": \\?")[^"\\]*')


async def _dump_corpus(name: str, cache: Path, out: list[str]) -> None:
    import importlib
    import importlib.util

    import ocp_wire as wire
    from ocp_server.index.ranking import rank

    # parse_query moved from ranking.py to query.py on 2026-12-04: either checkout may be older
    home = "query" if importlib.util.find_spec("ocp_server.index.query") else "ranking"
    parse_query = importlib.import_module(f"ocp_server.index.{home}").parse_query
    from ocp_server.tool_answers import tool_result

    root = LARGE if name == "large" else cache / "corpora" / name
    built = cache / "work" / "ocp" / name / "ocp.db"
    async with index_copy(root, built) as (_, state, ws):
        snap = await ws.index.snapshot()
        for query in _queries(name):
            parsed = parse_query(query)
            ranked = rank(snap, parsed)
            cs = ranked.chunk_scores
            line = {
                "corpus": name,
                "query": query,
                "files": ranked.files.tolist(),
                "scores": [float(s).hex() for s in ranked.scores.tolist()],
                "chunks": cs.chunks.tolist(),
                "chunk_scores": [float(s).hex() for s in cs.values.tolist()],
            }
            out.append(json.dumps(line))
            for shape in ("chunk", "file"):
                args = wire.SearchArgs(query=query, k=K, group_by=shape)
                answer = tool_result(await state.search_answer(ws, args))
                out.append(json.dumps({"corpus": name, "shape": shape, "answer": answer}))


def _dump(names: list[str], cache: Path, path: Path) -> None:
    lines: list[str] = []
    for name in names:
        asyncio.run(_dump_corpus(name, cache, lines))
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", help="the first checkout's python")
    parser.add_argument("--b", help="the second checkout's python")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--large", action="store_true", help="the monorepo too")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # a child's output file
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
    )
    parser.add_argument(
        "--b-cache",
        type=Path,
        help="B's run.py cache, when B builds its indexes unlike A (default: --cache)",
    )
    args = parser.parse_args()
    names = args.corpus.split(",") + (["large"] if args.large else [])
    cache = args.cache.expanduser()
    if args.dump is not None:
        _dump(names, cache, args.dump)
        return
    if not args.a or not args.b:
        parser.error("--a and --b are required")
    with tempfile.TemporaryDirectory(prefix="ocp-identity-") as tmp:
        dumps = []
        for label in ("a", "b"):
            target = Path(tmp) / f"{label}.jsonl"
            python = getattr(args, label)
            argv = [python, __file__, "--dump", str(target), "--corpus", ",".join(names)]
            own = args.b_cache.expanduser() if label == "b" and args.b_cache else cache
            subprocess.run([*argv, "--cache", str(own)], check=True, stdout=sys.stderr)
            text = target.read_text()
            if args.b_cache:  # two builds: their workspace folders and times differ
                text = _LAST_UPDATE.sub(r"\1<time>", text.replace(f"{own}/corpora/", "<cache>/"))
            dumps.append(text.splitlines())
    a, b = dumps
    queries = sum(1 for line in a if '"shape": ' not in line[:60])  # a ranking's line
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            print(f"DIFFERENT at line {i + 1}:\n  a: {x[:600]}\n  b: {y[:600]}")
            raise SystemExit(1)
    if len(a) != len(b):
        raise SystemExit(f"DIFFERENT: {len(a)} lines against {len(b)}")
    print(
        f"identical: {queries} queries over {', '.join(names)}; per query the ranking "
        f"(files, scores, chunk scores as float.hex) and the answer in both shapes "
        f"({len(a)} lines, {sum(map(len, a))} bytes)"
    )


if __name__ == "__main__":
    main()
