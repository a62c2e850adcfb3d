"""What the message read-back costs (`index/literal_text.py`), A/B, in process: every query of
the agent-query sets through both checkouts' `literal_chunks`, its CPU and the chunks it reads.

    uv run python bench/bench_read_back.py --a /work/base/.venv/bin/python \
        --b .venv/bin/python [--corpus click,ripgrep] [--cache DIR] [--b-cache DIR]

Query sets, per corpus: the benchmark's development queries (commits and doc comments), the
messages of `scripts/message_queries.py`, the messages of `scripts/agent_queries.py` (as
written and as seen, placeholders filled) and the short queries of `scripts/short_queries.py`.
Each query is parsed and ranked outside the clock; the clock (CPU time of the process) runs
over `literal_chunks` alone, its reads of chunk rows included, as a search runs it. Each pass
starts with a snapshot's kept answers and `re`'s compiled patterns emptied, so that every
pass reads and compiles what the first did; the best of
`--passes` is reported. The chunks found (path and first line) must be the same in both
checkouts: a cheaper read-back finds what it found before. It reuses the indexes
`../shared/bench/retrieval/run.py` built, as search_identity.py does (`--b-cache`: B's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_search_latency import CACHE, CORPORA, _queries, index_copy  # noqa: E402

SETS = ("bench", "messages", "agent messages", "short")


def _query_sets(name: str, root: Path) -> dict[str, list[str]]:
    import agent_queries
    import message_queries
    import short_queries
    from ranker_corpora import BENCH

    manifest = json.loads((BENCH / "manifest.json").read_text("utf-8"))
    entry = next(e for e in manifest["corpora"] if e["name"] == name)
    files = message_queries._source_files(root, list(entry["source_ext"]))
    source = agent_queries._source_files(root, entry["source_ext"])
    agent = agent_queries.message_cases(root, source)
    return {
        "bench": _queries(name),
        "messages": [m.text for m in message_queries.messages(root, files)],
        "agent messages": [c.text for cases in agent.values() for c in cases],
        "short": [s.text for cases in short_queries.query_sets(name).values() for s in cases],
    }


async def _measure(name: str, cache: Path, passes: int) -> dict[str, object]:
    from ocp_server.index.lexical import ANSWER_ROWS_CHARS, ANSWER_ROWS_MAX, AnswerRows, ChunkRow
    from ocp_server.index.literal_text import literal_chunks
    from ocp_server.index.query import parse_query
    from ocp_server.index.ranking import rank
    from ocp_server.index.search import _rows

    root = cache / "corpora" / name
    built = cache / "work" / "ocp" / name / "ocp.db"
    out: dict[str, object] = {}
    async with index_copy(root, built) as (_, _state, ws):
        index = ws.index
        snap = await index.snapshot()
        for set_name, queries in _query_sets(name, root).items():
            parsed = [parse_query(q) for q in queries]
            ranked = [rank(snap, p) for p in parsed]
            best = float("inf")
            reads = 0
            found: list[list[str]] = []
            for _ in range(passes):
                object.__setattr__(snap, "answers", AnswerRows(ANSWER_ROWS_CHARS, ANSWER_ROWS_MAX))
                re.purge()  # a pattern of the last pass is no pattern a new query finds made
                counted = [0]

                async def read(
                    chunks: list[int], counted: list[int] = counted
                ) -> dict[int, ChunkRow]:
                    counted[0] += len(chunks)
                    rows = await _rows(index._read, snap, chunks)
                    ids = snap.chunk_ids[chunks].tolist()
                    return {c: rows[i] for c, i in zip(chunks, ids, strict=True) if i in rows}

                found = []
                spent = 0
                for p, r in zip(parsed, ranked, strict=True):
                    if p.empty:
                        found.append([])
                        continue
                    t0 = time.process_time_ns()
                    printed = await literal_chunks(snap, r, p, read)
                    spent += time.process_time_ns() - t0
                    # a list before `Printed`; the chunks with a whole literal go first in it
                    chunks = getattr(printed, "found", printed)
                    exact = set(getattr(printed, "exact", ()))
                    chunks = sorted(chunks, key=lambda c, exact=exact: c not in exact)
                    # a chunk as its file and place in it: ids differ between builds
                    files = snap.chunk_file[chunks].tolist()
                    at = (chunks - snap.file_chunks[files]).tolist() if chunks else []
                    found.append([f"{snap.paths[f]}#{i}" for f, i in zip(files, at, strict=True)])
                best = min(best, spent / 1e6)
                reads = counted[0]
            out[set_name] = {"n": len(queries), "cpu_ms": best, "reads": reads, "found": found}
    return out


def _dump(names: list[str], cache: Path, passes: int, path: Path) -> None:
    path.write_text(json.dumps({n: asyncio.run(_measure(n, cache, passes)) for n in names}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", help="the first checkout's python")
    parser.add_argument("--b", help="the second checkout's python")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--b-cache", type=Path, help="B's run.py cache (default: --cache)")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # a child's output file
    args = parser.parse_args()
    names = args.corpus.split(",")
    cache = args.cache.expanduser()
    if args.dump is not None:
        _dump(names, cache, args.passes, args.dump)
        return
    if not args.a or not args.b:
        parser.error("--a and --b are required")
    results = []
    with tempfile.TemporaryDirectory(prefix="ocp-read-back-") as tmp:
        for label in ("a", "b"):
            target = Path(tmp) / f"{label}.json"
            own = args.b_cache.expanduser() if label == "b" and args.b_cache else cache
            argv = [getattr(args, label), __file__, "--dump", str(target), "--corpus", args.corpus]
            argv += ["--passes", str(args.passes), "--cache", str(own)]
            subprocess.run(argv, check=True, stdout=sys.stderr)
            results.append(json.loads(target.read_text()))
    a, b = results
    print(
        "| corpus | set | queries | A chunks read | B chunks read | A CPU ms | B CPU ms "
        "| same found |"
    )
    print("|---|---|---|---|---|---|---|---|")
    totals = [0.0, 0.0, 0, 0]
    for name in names:
        for set_name in SETS:
            x, y = a[name][set_name], b[name][set_name]
            same = x["found"] == y["found"]
            if not same:
                for q, (f, g) in enumerate(zip(x["found"], y["found"], strict=True)):
                    if f != g:
                        print(f"  {name}/{set_name} #{q}: {f} -> {g}", file=sys.stderr)
            totals[0] += x["cpu_ms"]
            totals[1] += y["cpu_ms"]
            totals[2] += x["reads"]
            totals[3] += y["reads"]
            print(
                f"| {name} | {set_name} | {x['n']} | {x['reads']} | {y['reads']} | "
                f"{x['cpu_ms']:.1f} | {y['cpu_ms']:.1f} | {'yes' if same else 'NO'} |"
            )
    print(f"| all | | | {totals[2]} | {totals[3]} | {totals[0]:.1f} | {totals[1]:.1f} | |")


if __name__ == "__main__":
    main()
