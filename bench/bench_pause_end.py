"""What the collector does right after a body's pause (collector.collector_paused), A/B: a
fresh interpreter of each checkout parses a conversation of `--messages` short messages with
the collector paused, keeps it (as the proxy does while it forwards it), then allocates as a
request's later work does; the collections that run during that work, timed with gc.callbacks.

    uv run python bench/bench_pause_end.py --a .venv/bin/python \
        --b /work/main/.venv/bin/python [--runs 6] [--messages 60000]

The two checkouts alternate run by run (the machine's load falls on both alike); medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess

CHILD = """
import gc, json, sys, time
from ocp_server.collector import collector_paused
n = int(sys.argv[1])
raw = json.dumps({"messages": [
    {"role": "user", "content": [{"type": "text", "text": f"turn {i}"}]} for i in range(n)]})
took, start = [], [0.0]
def timed(phase, info):
    if phase == "start":
        start[0] = time.perf_counter()
    else:
        took.append(time.perf_counter() - start[0])
gc.collect()
with collector_paused():
    body = json.loads(raw)
gc.callbacks.append(timed)
later = [[i] for i in range(20000)]  # the request's later work
gc.callbacks.remove(timed)
print(json.dumps([len(took), 1000 * sum(took), 1000 * max(took, default=0.0)]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="the first checkout's python")
    parser.add_argument("--b", required=True, help="the second checkout's python")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--messages", type=int, default=60_000)
    args = parser.parse_args()
    rows: dict[str, list[list[float]]] = {"A": [], "B": []}
    for i in range(args.runs):
        sides = [("A", args.a), ("B", args.b)]
        for label, python in sides if i % 2 == 0 else sides[::-1]:
            argv = [python, "-c", CHILD, str(args.messages)]
            out = subprocess.run(argv, capture_output=True, text=True, check=True)
            rows[label].append(json.loads(out.stdout))
    print("| side | collections | their time ms | the longest ms |")
    print("|---|---|---|---|")
    for label, found in rows.items():
        count, total, longest = (statistics.median(r[k] for r in found) for k in range(3))
        print(f"| {label} | {count:g} | {total:.0f} | {longest:.0f} |")


if __name__ == "__main__":
    main()
