"""Event-loop CPU of a long line of routes waiting for a route slot (ocp_server.turns).

    uv run python bench/bench_turns.py [--routes 2000] [--limit 4] [--hold-ms 0,2] [--rounds 3]

`--routes` routes are started at once against `Turns(--limit)` with its default coalescing
and heartbeat; each holds its slot `--hold-ms` (0: the line moves as fast as the loop turns),
so the line moves `--routes` times. With tokens, each route carries a progress report (a
route whose call sent `_meta.progressToken`), which only counts what it is told. Reports the
wall time, the process's CPU time (the event loop's: nothing else runs) and the notices sent,
best of `--rounds`.

To time another version of the code, put its source first on the path:
`PYTHONPATH=/path/to/checkout/ocp_server/src uv run python bench/bench_turns.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from ocp_server import turns as turns_module
from ocp_server.turns import Turns


async def _drain(routes: int, limit: int, hold: float, tokens: bool) -> tuple[float, float, int]:
    line = Turns(limit)
    told = 0

    async def on_wait(ahead: int) -> None:
        nonlocal told
        told += 1

    async def route() -> None:
        async with line.turn(on_wait if tokens else None):
            await asyncio.sleep(hold)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(route() for _ in range(routes)))
    return time.perf_counter() - wall, time.process_time() - cpu, told


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--hold-ms", default="0,2", help="comma-separated, e.g. 0,2,10")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"turns.py: {turns_module.__file__}")
    print(f"{args.routes} routes, {args.limit} at once, best of {args.rounds}\n")
    print("| progress token | hold ms | wall s | event-loop CPU s | notices |")
    print("|---|---|---|---|---|")
    for tokens in (True, False):
        for hold_ms in (float(h) for h in args.hold_ms.split(",")):
            runs = [
                asyncio.run(_drain(args.routes, args.limit, hold_ms / 1000, tokens))
                for _ in range(args.rounds)
            ]
            wall, cpu, told = min(runs, key=lambda run: run[1])
            print(
                f"| {'yes' if tokens else 'no'} | {hold_ms:g} | {wall:.2f} | {cpu:.2f} | {told} |"
            )


if __name__ == "__main__":
    main()
