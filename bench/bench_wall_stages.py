"""Where a search's wall time goes end to end over the real stdio server, stage by stage:
the client's send, the server's read of the line, its check, the SDK's dispatch, our tool
call (the search inside it), the answer's JSON, the pipe's write and the client's read and
parse of the answer.

    uv run python bench/bench_wall_stages.py [--cmd .venv/bin/ocp-server] [--corpus pytest]
        [--rounds 2] [--cache DIR] [--search-stages | --fine | --loops]

It reuses the indexes `../shared/bench/retrieval/run.py` built (as bench_search_latency.py
does), on a copy. The server is the command's own, started through its Python with
timestamps patched in (time.perf_counter, CLOCK_MONOTONIC on Linux, which the client shares,
and the main thread's CPU time beside each): nothing else of it changes. Each query of the
corpus is asked once a round after five warm-up queries, as run.py asks them: round 0 is each
query's first search in a warm process (what run.py times), round 1 its repeat. The process's
first search (cold) is reported on its own. The table gives the median a query of each gap
between two marks, wall and the server's main-thread CPU (a gap spent waiting for a core or
for the client has wall time and no CPU); a query's gaps add up to its round trip, their
medians need not. `--search-stages` marks the search's own stages too; `--fine` those and the
checks around the search (git HEAD, meta, ignore files, status) and the answer's parts (the
redaction of the query and texts, the values, the text); `--loops` counts the event loop's
passes after each mark instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_latency import CACHE, K, _queries  # noqa: E402

# The server with marks: each is (name, perf_counter, thread_time), one list a request,
# written as JSON lines to OCP_BENCH_MARKS when the last request (a ping) comes. A measurement
# harness only.
MARKED_SERVER = """
import json, os, sys, time
import ocp_server.stdio as stdio
import ocp_server.tool_answers as answers
from ocp_server.cli import main
marks, now = [], []
# Written when the client's last request comes (DUMP_REQUEST), not at exit: the server's end
# gives exit handlers half a second (hard_exit), which a loaded machine's dump overran.
DUMP = os.environ["OCP_BENCH_DUMP"].encode()
def dump():
    with open(os.environ["OCP_BENCH_MARKS"], "w") as f:
        for m in marks:
            f.write(json.dumps(m) + "\\n")
def mark(name):
    now.append((name, time.perf_counter(), time.thread_time()))
def wrap_sync(owner, attr, before, after):
    fn = getattr(owner, attr)
    def wrapped(*a, **kw):
        mark(before)
        try:
            return fn(*a, **kw)
        finally:
            mark(after)
    setattr(owner, attr, wrapped)
def wrap_async(owner, attr, before, after):
    fn = getattr(owner, attr)
    async def wrapped(*a, **kw):
        if before:
            mark(before)
        try:
            return await fn(*a, **kw)
        finally:
            mark(after)
    setattr(owner, attr, wrapped)
feed = stdio._Lines.feed
def fed(self, chunk):
    if now:
        marks.append(list(now))
        now.clear()
    if DUMP in chunk:  # the client's last request: the marks so far, on disk before its answer
        dump()
    mark("read")
    return feed(self, chunk)
stdio._Lines.feed = fed
wrap_sync(stdio, "_answer_for", "check", "checked")
wrap_async(answers.ToolCallsInWireForm, "__call__", "middleware", "middleware done")
wrap_sync(stdio, "encode_message", "encode", "encoded")
wrap_async(stdio._Stdout, "write", "write", "written")
# the SDK's dispatch, and the checks before our tool runs
import mcp.shared.jsonrpc_dispatcher as dispatcher
import mcp.server.runner as runner
import mcp_types.methods as methods
import ocp_server.request_ids as request_ids
import ocp_server.server as server
wrap_async(request_ids._Requests, "receive", None, "sdk received")
wrap_async(dispatcher.JSONRPCDispatcher, "_handle_request", "sdk task", "sdk task done")
wrap_async(runner.ServerRunner, "_on_request", "sdk on_request", "sdk on_request done")
wrap_sync(methods, "validate_client_request", "sdk checks", "sdk checked")
wrap_sync(server, "resolve_workspace", "workspace", "workspace resolved")
def app_loaded():
    import ocp_server.app as app
    import ocp_server.index.workspace_search as ws
    wrap_async(app.AppState, "search_answer", "search_answer", "search_answer done")
    wrap_async(ws.WorkspaceSearch, "search", "index search", "index search done")
    if os.environ.get("OCP_BENCH_SEARCH_STAGES"):  # the search's own stages too
        import ocp_server.index.search as search
        wrap_sync(search, "parse_query", "parse_query", "parsed")
        wrap_sync(search, "rank", "rank", "ranked")
        wrap_async(search, "literal_chunks", "literal_chunks", "literal_chunks done")
        wrap_sync(search, "_picks", "_picks", "picked")
        wrap_async(search, "_rows", "_rows", "rows read")
        wrap_async(search, "_members", "_members", "members read")
        wrap_async(ws, "changed_on_disk", "changed_on_disk", "stat'ed")
    if os.environ.get("OCP_BENCH_FINE"):  # the search's checks around it and the answer's parts
        import ocp_server.views as views
        wrap_sync(views, "_search_structured", "structured", "structured done")
        wrap_sync(views, "redact_all", "redact_all", "redact_all done")
        wrap_sync(views, "search_text", "search_text", "search_text done")
        wrap_sync(views, "search_tokens_sent", "tokens_sent", "tokens_sent done")
        wrap_sync(search, "_matched_terms", "_matched_terms", "matched")
        wrap_sync(search, "_order", "_order", "ordered")
        wrap_sync(search, "_allowed", "_allowed", "allowed")
        wrap_sync(ws, "ignore_files_since", "ignore_files_since", "ignores listed")
        wrap_sync(ws, "moved_aside_note", "moved_aside", "moved_aside done")
        wrap_async(ws.WorkspaceSearch, "_meta", "_meta", "meta")
        wrap_async(ws.WorkspaceSearch, "_ignore_sources", "_ignore_sources", "sources")
        import ocp_server.index.githead as githead
        wrap_sync(githead.GitHead, "__call__", "_git_head", "head")
        wrap_sync(ws.WorkspaceSearch, "_ocpignore", "_ocpignore", "ocpignore")
        wrap_async(ws.WorkspaceSearch, "_snapshot_at", "_snapshot_at", "snapshot")
        wrap_sync(ws.WorkspaceSearch, "_status", "_status", "status")
        wrap_sync(ws.WorkspaceSearch, "_config_written", "_config_written", "config checked")
load = server._load_app
def loaded():
    out = load()
    app_loaded()
    return out
server._load_app = loaded
import asyncio.base_events as base_events
run_once = base_events.BaseEventLoop._run_once
def counted(self):  # each pass of the event loop, marked: the gaps show how many a stage takes
    mark("loop")
    return run_once(self)
if os.environ.get("OCP_BENCH_LOOPS"):
    base_events.BaseEventLoop._run_once = counted
sys.argv[0] = "ocp-server"
main()
"""


#: The id of the client's last request, a ping: the server writes its marks on reading it.
DUMP_REQUEST = "ocp-bench-dump-marks"


def _last_marks(ask: Callable[..., None], marks_file: Path) -> list[Any]:
    """The server's marks, one list a request: asked for by a last request (a ping), which
    the server answers once they are written, so that they do not wait for its exit."""
    ask("ping", {}, request_id=DUMP_REQUEST)
    return [json.loads(line) for line in marks_file.read_text().splitlines()]


def _run(
    cmd: str, root: Path, built: Path, queries: list[str], rounds: int, marks: dict[str, str]
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ocp-wall-") as tmp:
        db = Path(tmp) / "ocp.db"
        shutil.copy(built, db)
        marks_file = Path(tmp) / "marks.jsonl"
        env = {
            **os.environ,
            "OCP_WORKSPACE": str(root),
            "OCP_DB_PATH": str(db),
            "OCP_BENCH_MARKS": str(marks_file),
            "OCP_BENCH_DUMP": DUMP_REQUEST,
            **marks,
        }
        python = Path(cmd).resolve().parent / "python"
        proc = subprocess.Popen(
            [str(python), "-c", MARKED_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tmp,
        )
        assert proc.stdin is not None and proc.stdout is not None
        ids = iter(range(1, 1 << 30))
        client: list[dict[str, Any]] = []

        def ask(
            method: str, params: dict[str, Any], label: str = "", request_id: object = None
        ) -> None:
            rid = next(ids) if request_id is None else request_id
            line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
            t0 = time.perf_counter()
            proc.stdin.write(line.encode() + b"\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            got = proc.stdout.readline()  # type: ignore[union-attr]
            t1 = time.perf_counter()
            json.loads(got)
            client.append({"label": label, "sent": t0, "got": t1, "parsed": time.perf_counter()})

        ask(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench-wall-stages", "version": "1"},
            },
        )
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        proc.stdin.flush()
        time.sleep(0.5)  # read on its own, not in the cold search's chunk
        search = "tools/call"

        def params(q: str) -> dict[str, Any]:
            return {"name": "ocp_context_search", "arguments": {"query": q, "k": K}}

        ask(search, params(queries[0]), "cold")
        for q in queries[1:6]:
            ask(search, params(q), "warm-up")
        for r in range(rounds):
            for q in queries:
                ask(search, params(q), f"round {r}")
        server = _last_marks(ask, marks_file)
        proc.stdin.close()
        proc.wait(30)
    # the server's marks, one list a search (initialize and the notification have none)
    server = [m for m in server if any(name == "search_answer" for name, _, _ in m)]
    calls = [c for c in client if c["label"]]
    assert len(server) == len(calls), (len(server), len(calls))
    return [{**c, "marks": m} for c, m in zip(calls, server, strict=True)]


def _gaps(call: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(gap, wall ms, server thread CPU ms) between consecutive marks, client's included."""
    seen: dict[str, int] = {}
    points = [("client sent", call["sent"], None)]
    for name, t, cpu in call["marks"]:
        seen[name] = seen.get(name, 0) + 1
        points.append((name if seen[name] == 1 else f"{name} #{seen[name]}", t, cpu))
    points += [("client got", call["got"], None), ("client parsed", call["parsed"], None)]
    out = []
    for (a, ta, ca), (b, tb, cb) in zip(points, points[1:], strict=False):
        cpu = (cb - ca) * 1000 if ca is not None and cb is not None else float("nan")
        out.append((f"{a} -> {b}", (tb - ta) * 1000, cpu))
    return out


def _loops(name: str, calls: list[dict[str, Any]]) -> None:
    """How many passes of the event loop a search takes after each mark, mean a query."""
    after: Counter[str] = Counter()
    for call in calls:
        stage = "client sent"
        for mark, _, _ in call["marks"]:
            if mark == "loop":
                after[stage] += 1
            else:
                stage = mark
    print(f"\n{name}: passes of the event loop a query, {len(calls)} queries")
    for stage, n in after.most_common():
        print(f"| after {stage} | {n / len(calls):.2f} |")
    print(f"| all | {sum(after.values()) / len(calls):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cmd", default=".venv/bin/ocp-server")
    parser.add_argument("--corpus", default="pytest")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument(
        "--search-stages",
        action="store_true",
        help="mark the search's own stages too (parse_query, rank, the rows read, the stats)",
    )
    parser.add_argument(
        "--fine",
        action="store_true",
        help="--search-stages, and the checks around the search and the answer's parts",
    )
    parser.add_argument(
        "--loops",
        action="store_true",
        help="mark each pass of the event loop instead: `python -c` reads how many a stage takes",
    )
    args = parser.parse_args()
    marks = {"OCP_BENCH_SEARCH_STAGES": "1"} if args.search_stages or args.fine else {}
    if args.fine:
        marks["OCP_BENCH_FINE"] = "1"
    if args.loops:
        marks["OCP_BENCH_LOOPS"] = "1"
    cache = args.cache.expanduser()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    for name in args.corpus.split(","):
        root, built = cache / "corpora" / name, cache / "work" / "ocp" / name / "ocp.db"
        calls = _run(args.cmd, root, built, _queries(name), args.rounds, marks)
        if args.loops:
            _loops(name, [c for c in calls if c["label"].startswith("round")])
            continue
        groups = {"cold": [c for c in calls if c["label"] == "cold"]}
        for r in range(args.rounds):
            groups[f"round {r}"] = [c for c in calls if c["label"] == f"round {r}"]
        print(f"\n{name}: median ms a query, wall / server main-thread CPU")
        shapes = Counter(tuple(g for g, _, _ in _gaps(c)) for c in groups["round 0"])
        gaps = list(shapes.most_common(1)[0][0])
        print("| gap | " + " | ".join(groups) + " |")
        print("|---|" + "---|" * len(groups))
        for i, gap in enumerate(gaps + ["round trip (client)"]):
            cells = []
            for group in groups.values():
                if gap.startswith("round trip"):
                    wall = statistics.median((c["got"] - c["sent"]) * 1000 for c in group)
                    cells.append(f"{wall:.3f}")
                    continue
                rows = [_gaps(c) for c in group]
                rows = [row for row in rows if [g for g, _, _ in row] == gaps]
                if not rows:  # this group's marks came in another order (the cold search)
                    cells.append("-")
                    continue
                wall = statistics.median(row[i][1] for row in rows)
                cpu = statistics.median(row[i][2] for row in rows)
                cells.append(f"{wall:.3f} / {cpu:.3f}" if cpu == cpu else f"{wall:.3f}")
            print(f"| {gap} | " + " | ".join(cells) + " |")
        cold = groups["cold"][0]
        if [g for g, _, _ in _gaps(cold)] != gaps:  # its own marks, in their order
            print(f"\n{name}, the process's first search (cold): ms, wall / CPU")
            for gap, wall, cpu in _gaps(cold):
                print(f"| {gap} | {wall:.3f}" + (f" / {cpu:.3f} |" if cpu == cpu else " |"))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
