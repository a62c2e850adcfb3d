"""What a process (the proxy, the MCP server) pays per request to see floors other processes
on its database lifted (floors_elsewhere.py): `lift_floors` when nothing was written since the
last look (one `PRAGMA data_version`), and after another connection stored a route (that,
the query for the outcomes past the last one seen, none, and with `routes` under
OCP_STICKY=upward the query for the routes past the last one, the one stored). Both
readers, outcomes alone (OCP_STICKY=off) and routes too, interleaved on one database.
Median µs over many calls. `--outcomes N`: N outcomes saved before the reader started (the
look must not read them again).

    uv run python bench/bench_saved_outcomes.py [--outcomes 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from ocp_router.sticky import TierFloors
from ocp_server.db import connect
from ocp_server.floors_elsewhere import FloorsElsewhere
from ocp_server.outcomes import FloorsRead

ROUNDS = 2000
#: A route as the proxy stores one (its trace as large as a typical one's), on conversation s.
_TRACE = {"trace": {"session": "s", "forced": False, "reason": "phase 1: " + "x" * 2000}}
_ROUTE = (
    "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, decided_by, "
    "model, backend, task_type, complexity, prompt_tokens, completion_tokens, duration_ms, "
    "trace_json, tier) VALUES (?, 's', ?, '', '', 'mid', '', '', '', '', 0, 0, 0, 0, ?, 'mid')"
)


async def _database(path: Path) -> None:
    db = await connect(path)  # migrated, in WAL mode, as the proxy's store opens it
    await db.close()


def _saved_before(path: Path, count: int) -> None:
    """`count` outcomes, each on a trace of its own (the sessions they name matter not)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("BEGIN")
    for n in range(count):
        db.execute(
            "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
            "decided_by, model, backend, task_type, complexity, prompt_tokens, "
            "completion_tokens, duration_ms, trace_json) "
            "VALUES (?, 's', 0, '', '', 'local', '', '', '', '', 0, 0, 0, 0, ?)",
            (f"{n:032x}", json.dumps({"trace": {"decision": "local"}})),
        )
        db.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
            "VALUES ('s', 0, 'outcome', 'good: it worked', ?, 0)",
            (f"{n:032x}",),
        )
    db.execute("COMMIT")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=0, help="saved before it starts")
    outcomes = parser.parse_args().outcomes
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ocp.db"
        asyncio.run(_database(path))
        _saved_before(path, outcomes)
        since = FloorsRead(outcomes, outcomes)
        readers = {
            "outcomes alone": FloorsElsewhere(path, since=since),
            "routes too": FloorsElsewhere(path, since=since, routes=True),
        }
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("PRAGMA foreign_keys = OFF")
        unchanged: dict[str, list[float]] = {name: [] for name in readers}
        written: dict[str, list[float]] = {name: [] for name in readers}
        for n in range(ROUNDS):
            other.execute(_ROUTE, (f"r{n:031x}", time.time(), json.dumps(_TRACE)))
            for name, reader in readers.items():  # each sees the write once
                floors = TierFloors()
                t = time.perf_counter()
                reader.lift_floors(floors)
                written[name].append(time.perf_counter() - t)
                t = time.perf_counter()
                reader.lift_floors(floors)
                unchanged[name].append(time.perf_counter() - t)
        for reader in readers.values():
            reader.close()
        other.close()
    load = os.getloadavg()[0]
    print(f"load {load:.1f}; {outcomes} outcomes before; lift_floors median, {ROUNDS} calls:")
    for name in readers:
        print(
            f"  {name}: nothing written since the last look "
            f"{statistics.median(unchanged[name]) * 1e6:.1f} µs, after a route stored "
            f"{statistics.median(written[name]) * 1e6:.1f} µs"
        )


if __name__ == "__main__":
    main()
