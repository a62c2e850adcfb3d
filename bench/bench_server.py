"""MCP server benchmark over real stdio (ocp_client drives ocp-server).

    uv run python bench/bench_server.py            # everything below
    uv run python bench/bench_server.py --start    # only the start rows (about a minute)
    uv run python bench/bench_server.py --start --no-bytecode  # ... compiling every module

Reports: server start to `initialize` answered (min, median and p95 of 15 starts), and the
CPU time the server's main thread spent until then (less noisy than wall time on a shared
machine); server start to the first tool's result (a search, and a restore, on an index
already built, so the figure is the start and the app's load, not indexing); a search tool
call's round trip on a warm index; route overhead excluding model time (tool round trip
minus the model's own time, with the fake Ollama answering, context assembly included for
paid routes in dry-run); restore latency with 1,000 saved traces, then with 10,000 traces
and 1,000 memories (decisions and notes, four in five citing a definition of this
repository, so every restore checks them). The first restore after the fill is reported
apart (cold); the rest alternate a query with none. The workspace is this repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiosqlite
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_client import OCPClient  # noqa: E402
from ocp_server.db import connect  # noqa: E402
from ocp_server.memory import DecisionIn, MemoryStore, NoteIn, TraceRecord  # noqa: E402
from tests.fakes import FakeOllama  # noqa: E402
from tests.server.raw_server import INITIALIZE, RawServer  # noqa: E402


async def add_traces(memory: MemoryStore, session: str, start: int, stop: int) -> None:
    for i in range(start, stop):
        await memory.record_trace(
            session,
            TraceRecord(
                id=f"bench-{i}",
                request=f"request number {i} about module {i % 37}",
                route_to="paid" if i % 3 == 0 else "local",
                decision="paid",
                decided_by="bench",
                model="m",
                backend="b",
                task_type="debug",
                complexity=0.6,
                prompt_tokens=100,
                completion_tokens=50,
                duration_ms=10.0,
                trace_json=json.dumps({"i": i}),
                answered_by="paid" if i % 3 == 0 else "local",
                cost_usd=0.001,
            ),
        )


async def add_memories(
    memory: MemoryStore, session: str, conn: aiosqlite.Connection, count: int
) -> None:
    """Decisions and notes, four in five citing a definition the index holds."""
    defs = list(
        await conn.execute_fetchall(
            "SELECT f.path, c.start_line, c.end_line, c.symbol FROM chunks c "
            "JOIN files f ON f.id = c.file_id WHERE c.symbol IS NOT NULL AND c.kind != 'section'"
        )
    )
    rnd = random.Random(16)
    words = "cache queue index router budget token session trace memory citation".split()
    for batch in range(0, count, 10):
        decisions, notes = [], []
        for n in range(batch, batch + 10):
            path, start, end, symbol = rnd.choice(defs)
            cites = (f"{path}:{start}-{end}",) if n % 5 else ()
            topic = " ".join(rnd.sample(words, 3))
            if n % 4:
                decisions.append(
                    DecisionIn(
                        f"{symbol} #{n}",
                        f"{symbol} keeps the {topic} rule {n}: {rnd.random():.8f}",
                        f"measured in run {n}",
                        citations=cites,
                    )
                )
            else:
                notes.append(NoteIn(f"note {n} on {symbol}: {topic} {rnd.random():.8f}", cites))
        await memory.save(session, decisions=decisions, notes=notes)


async def time_restores(
    env: dict[str, str], label: str, goal: str = ""
) -> tuple[str, str, str, str]:
    async with OCPClient(env=env) as client:
        await client.restore()  # warm: the server's first restore checks every cited file
        times = []
        for i in range(40):
            t0 = time.perf_counter()
            await client.restore(f"module {i}" if i % 2 else None)
            times.append((time.perf_counter() - t0) * 1000)
    return (
        label,
        f"{statistics.median(times):.1f}",
        f"{pct(times, 0.95):.1f}",
        f"ms, {len(times)} calls, half with a query{goal}",
    )


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def time_starts(env: dict[str, str], runs: int = 15) -> list[tuple[str, str, str, str]]:
    """Cold starts: a new server process each, timed from spawning it. The index is built
    first (by one server) so the first tool's result measures the start, not indexing."""
    async with OCPClient(env=env) as client:
        async with asyncio.timeout(120):
            while (await client.search("TaskClassifier")).index.building:
                await asyncio.sleep(0.2)
    starts: list[float] = []
    firsts: dict[str, list[float]] = {"search": [], "restore": []}
    for i in range(runs):
        t0 = time.perf_counter()
        async with OCPClient(env=env) as client:
            starts.append((time.perf_counter() - t0) * 1000)
            if i % 2:
                await client.search("TaskClassifier", k=5)
                firsts["search"].append((time.perf_counter() - t0) * 1000)
            else:
                await client.restore()
                firsts["restore"].append((time.perf_counter() - t0) * 1000)
    rows = [row("start to initialize answered", starts, "(<= 700 goal)")]
    if sys.platform == "linux":
        cpu = [start_cpu_ms(env) for _ in range(runs)]
        rows.append(row("  main thread's CPU until then", cpu))
    for tool, times in firsts.items():
        rows.append(row(f"start to first {tool} result (index built)", times))
    return rows


def start_cpu_ms(env: dict[str, str]) -> float:
    """The server's main-thread CPU time (user + system) when its `initialize` answer arrives:
    what the start costs, whatever else the machine is doing (Linux /proc)."""
    server = RawServer(env)
    try:
        assert "result" in server.request(INITIALIZE, timeout=60)
        pid = server.proc.pid
        with open(f"/proc/{pid}/task/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        server.close_stdin_and_wait()
    finally:
        server.kill()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def row(label: str, times: list[float], goal: str = "") -> tuple[str, str, str, str]:
    return (
        label,
        f"{statistics.median(times):.0f}",
        f"{pct(times, 0.95):.0f}",
        f"ms, {len(times)} starts, min {min(times):.0f} {goal}".rstrip(),
    )


def print_rows(rows: list[tuple[str, str, str, str]]) -> None:
    table = Table(title="ocp-server over stdio")
    for col in ("measure", "p50", "p95", "unit / goal"):
        table.add_column(col, justify="right" if col in ("p50", "p95") else "left")
    for r in rows:
        table.add_row(*r)
    Console().print(table)


async def main(start_only: bool = False, no_bytecode: bool = False) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ocp-bench-server-"))
    db = tmp / "ocp.db"
    rows: list[tuple[str, str, str, str]] = []
    with FakeOllama() as ollama:
        env = {"OCP_WORKSPACE": str(ROOT), "OCP_DB_PATH": str(db), "OCP_OLLAMA_URL": ollama.url}
        if no_bytecode:  # as after an install that compiled nothing: every import compiles
            env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(tmp / "pyc")}

        rows += await time_starts(env)
        if start_only:
            print_rows(rows)
            return

        async with OCPClient(env=env) as client:
            async with asyncio.timeout(60):
                while (await client.search("TaskClassifier")).index.building:
                    await asyncio.sleep(0.2)
            queries = [
                "verify token",
                "TaskClassifier",
                "how does the router fall back",
                "redact secrets",
                "watchfiles",
                "migrations",
                "session restore brief",
            ]
            times = []
            for _ in range(10):
                for q in queries:
                    t0 = time.perf_counter()
                    await client.search(q, k=5)
                    times.append((time.perf_counter() - t0) * 1000)
            rows.append(
                (
                    "search round trip (warm)",
                    f"{statistics.median(times):.1f}",
                    f"{pct(times, 0.95):.1f}",
                    f"ms, {len(times)} calls (p50 <= 5 goal)",
                )
            )

            local, paid = [], []
            for _ in range(15):
                t0 = time.perf_counter()
                r = await client.route("explain the auth middleware")
                local.append((time.perf_counter() - t0) * 1000 - r.trace.duration_ms)
                t0 = time.perf_counter()
                await client.route(
                    "design the routing architecture across all modules", dry_run=True
                )
                paid.append((time.perf_counter() - t0) * 1000)
            rows.append(
                (
                    "route overhead, local (minus model time)",
                    f"{statistics.median(local):.1f}",
                    f"{pct(local, 0.95):.1f}",
                    "ms",
                )
            )
            rows.append(
                (
                    "route overhead, paid with context (dry run)",
                    f"{statistics.median(paid):.1f}",
                    f"{pct(paid, 0.95):.1f}",
                    "ms (<= 15 goal)",
                )
            )

        conn = await connect(db)
        memory = MemoryStore(conn, workspace=ROOT)
        session = await memory.start_session(str(ROOT), "bench-session")
        await add_traces(memory, session, 0, 1000)
        await conn.close()
        rows.append(await time_restores(env, "restore with 1,000 traces"))

        conn = await connect(db)
        memory = MemoryStore(conn, workspace=ROOT)
        await add_traces(memory, session, 1000, 10_000)
        await add_memories(memory, session, conn, 1000)
        await conn.close()
        async with OCPClient(env=env) as client:
            t0 = time.perf_counter()
            first = await client.restore()
            cold = (time.perf_counter() - t0) * 1000
        rows.append(
            (
                "restore, 1,000 memories + 10,000 traces, first (cold)",
                f"{cold:.1f}",
                "",
                f"ms, {first.tokens} tokens, {len(first.decisions)} decisions served",
            )
        )
        rows.append(
            await time_restores(
                env, "restore, 1,000 memories + 10,000 traces", goal=" (p50 <= 10 goal)"
            )
        )

    print_rows(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", action="store_true", help="only the start rows")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="servers find no compiled bytecode (the first start after an install without it)",
    )
    args = parser.parse_args()
    asyncio.run(main(start_only=args.start, no_bytecode=args.no_bytecode))
