"""A restore over the routing proxy's traces: do they cost a brief anything?

    uv run python bench/bench_restore_proxied.py [--proxied 20000] [--repeat 7]

One database holds PROXIED requests as the proxy stores them (proxy/recorder.py; each relayed
to the paid tier, so each would be a notable route were it the agent's), 200 memories and
20 routes of the agent's own. Then REPEAT times, in turn: cold, a new connection and store
and its first restore (as a new server's first; the OS's file cache is warm), and warm, 20
restores more on that store. Reported: the median wall time and CPU time (all threads of this
process: the database's too) of a cold and of a warm restore, and the routes the brief lists.

A before/after comparison runs this script in two checkouts in turn (interleaved), each
building its own database with its own code.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_server.db import connect  # noqa: E402
from ocp_server.memory import DecisionIn, MemoryStore, TraceRecord  # noqa: E402
from ocp_server.proxy.recorder import Attempted, ProxyRecord, Recorder  # noqa: E402

NOW = 2_000_000.0


def _proxied(n: int) -> ProxyRecord:
    return ProxyRecord(
        id=f"{n:032x}",
        started_at=NOW - 100_000 + n,
        dialect="anthropic",
        client="claude-cli/2.1",
        session=f"machine-{n // 500}",
        stream=False,
        requested_model="claude-opus-4",
        tier="top",
        answered_tier="top",
        model="claude-opus-4",
        backend="anthropic",
        reason="hard: agent loop",
        task_type="debug",
        input_tokens=4000,
        output_tokens=300,
        cost_usd=0.02,
        latency_ms=1500.0,
        status=200,
        attempts=[Attempted("top", "anthropic", "claude-opus-4", "ok", 1500.0, cost_usd=0.02)],
    )


def _own(n: int) -> TraceRecord:
    return TraceRecord(
        id=f"own{n:029x}",
        created_at=NOW - 50_000 + n * 100,
        request=f"design the cache layer for module {n}",
        route_to="paid",
        decision="paid",
        decided_by="hard",
        model="claude-sonnet",
        backend="anthropic",
        task_type="design",
        complexity=0.8,
        prompt_tokens=3000,
        completion_tokens=400,
        duration_ms=2000.0,
        cost_usd=0.01,
        trace_json='{"trace_id": "own"}',
        answered_by="paid",
    )


async def build(path: Path, proxied: int) -> None:
    db = await connect(path)
    try:
        store = MemoryStore(db, clock=lambda: NOW)
        recorder = Recorder(store, "/ws")
        recorder.start()
        for n in range(proxied):
            recorder.add(_proxied(n))
            if n % 1000 == 999:  # (the queue holds up to MAX_QUEUED)
                while recorder.written < n:
                    await asyncio.sleep(0.01)
        await recorder.aclose()
        sid = await store.start_session("/ws")
        for n in range(20):
            await store.record_trace(sid, _own(n))
        words = "cache queue index router budget token session trace memory citation".split()
        decisions = [
            DecisionIn(title=f"{words[n % 10]} {n}", decision=f"use {words[(n * 7) % 10]} {n}")
            for n in range(100)
        ]
        await store.save(
            sid, decisions=decisions, notes=[f"note {n} on {words[n % 10]}" for n in range(100)]
        )
    finally:
        await db.close()


async def measure(
    path: Path, repeat: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], int]:
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    listed = 0
    for _ in range(repeat):
        db = await connect(path)
        try:
            store = MemoryStore(db, clock=lambda: NOW)
            for n in range(21):
                t0, c0 = time.perf_counter(), time.process_time()
                brief = await store.restore(max_tokens=20_000)
                took = ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
                (cold if n == 0 else warm).append(took)
                listed = len(brief.traces)
        finally:
            await db.close()
    return cold, warm, listed


async def run(proxied: int, repeat: int) -> Table:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ocp.db"
        await build(path, proxied)
        cold, warm, listed = await measure(path, repeat)
    table = Table(
        title=f"restore (20,000 tokens) over {proxied:,} proxied requests, 200 memories and 20 "
        f"routes of the agent's; median of {repeat} cold and {repeat * 20} warm"
    )
    for column in ("restore", "wall, ms", "CPU, ms", "routes listed"):
        table.add_column(column, justify="right")
    for label, times in (("cold", cold), ("warm", warm)):
        table.add_row(
            label,
            f"{statistics.median(w for w, _ in times):.1f}",
            f"{statistics.median(c for _, c in times):.1f}",
            str(listed),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proxied", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    Console().print(asyncio.run(run(args.proxied, args.repeat)))


if __name__ == "__main__":
    main()
