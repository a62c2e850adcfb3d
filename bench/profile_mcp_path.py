"""Where a request's server CPU goes, by function, on the real stdio server: a sampling
profile of its main thread (the event loop, where requests are read, dispatched, answered and
written).

    uv run python bench/profile_mcp_path.py [--cmd .venv/bin/ocp-server] [--corpus pytest]
        [--rounds 2] [--cache DIR] [--mcp-only] [--top 40] [--interval-us 200]

It reuses the indexes `../shared/bench/retrieval/run.py` built (as bench_search_latency.py
does), on a copy. The server is the command's own, started through its Python with a sampler that
SIGUSR1 turns on and SIGUSR2 turns off and dumps: every `--interval-us` of the process's CPU
time (ITIMER_PROF, all threads; Linux checks it once a kernel tick, so in practice one sample
every 4 ms of CPU here: about 500 samples for `--rounds 30` of the MCP path alone on pytest,
2,000 for `--rounds 8` with the search) it records the main thread's stack, where Python runs
signal handlers. A tick of another thread's CPU lands where the main thread is (waiting in
`selectors`' select). cProfile hangs this server on its first profiled request (the main thread
found in anyio's `CancelScope.__exit__`). Every query of the corpus is asked once before the
sampler is on (warm-up); then `--rounds` passes over the queries are profiled.
With `--mcp-only` the search is answered from a memo (bench_search_latency.py's), so the
profile is the MCP path alone. Two tables: the functions the samples were in (self), and
those on the stack (inclusive), each as a share of the samples and as µs a request (the
share of the server's CPU a request). A signal is handled between bytecodes, so a C call's
time lands on the Python function that made it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_latency import CACHE, MEMO_SERVER, Server, _queries  # noqa: E402

PROFILED_SERVER = """
import collections, json, os, signal
stacks = collections.Counter()
def sample(_, frame):
    stack = []
    while frame is not None:
        code = frame.f_code
        stack.append(f"{code.co_filename}:{code.co_firstlineno}({code.co_name})")
        frame = frame.f_back
    stacks[tuple(stack)] += 1
def start(*_):
    stacks.clear()
    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
def stop(*_):
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    with open(os.environ["OCP_BENCH_PROFILE"], "w") as out:
        json.dump([[list(k), n] for k, n in stacks.items()], out)
signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
"""

PLAIN_SERVER = """
import sys
from ocp_server.cli import main
sys.argv[0] = "ocp-server"
main()
"""


def _site(name: str) -> str:
    """A frame's `file:line(function)`, its path from the package on."""
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in name:
            return name.split(marker, 1)[1]
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cmd", default=".venv/bin/ocp-server")
    parser.add_argument("--corpus", default="pytest")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--mcp-only", action="store_true", help="the search from a memo")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--interval-us", type=int, default=200)
    args = parser.parse_args()
    cache = args.cache.expanduser()
    root = cache / "corpora" / args.corpus
    built = cache / "work" / "ocp" / args.corpus / "ocp.db"
    queries = _queries(args.corpus)
    with tempfile.TemporaryDirectory(prefix="ocp-prof-") as tmp:
        db = Path(tmp) / "ocp.db"
        shutil.copy(built, db)
        out = Path(tmp) / "samples.json"
        os.environ["OCP_BENCH_PROFILE"] = str(out)
        code = f"INTERVAL = {args.interval_us / 1e6}\n" + PROFILED_SERVER
        code += MEMO_SERVER if args.mcp_only else PLAIN_SERVER
        server = Server(args.cmd, root, db, code=code)
        try:
            for q in queries:
                server.search(q)
            server.proc.send_signal(signal.SIGUSR1)
            cpu = server.cpu_seconds()
            for _ in range(args.rounds):
                for q in queries:
                    server.search(q)
            n = args.rounds * len(queries)
            cpu = (server.cpu_seconds() - cpu) * 1000 / n
            server.proc.send_signal(signal.SIGUSR2)
            for _ in range(100):  # written by the server's main thread
                if out.exists() and out.stat().st_size:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
        finally:
            server.close()
        samples = [(tuple(stack), count) for stack, count in json.loads(out.read_text())]
    total = sum(count for _, count in samples)
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for stack, count in samples:
        own[stack[0]] += count
        for site in set(stack):
            inclusive[site] += count
    print(f"load {os.getloadavg()[0]:.2f}; {n} requests; server CPU {cpu:.2f} ms a request")
    print(f"{total} samples of the main thread")
    for title, table in (("self", own), ("inclusive", inclusive)):
        print(f"\n| {title} | share | µs a request |\n|---|---|---|")
        for site, count in table.most_common(args.top):
            print(f"| {_site(site)} | {count / total:.1%} | {cpu * 1000 * count / total:.0f} |")


if __name__ == "__main__":
    main()
