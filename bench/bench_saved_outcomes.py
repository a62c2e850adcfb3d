"""What the proxy pays per request to see outcomes other processes saved
(proxy/saved_outcomes.py): `lift_floors` when nothing was written since the last look (one
`PRAGMA data_version`), and after another connection's write (that, and the query for the
outcomes past the last one seen, none). Median µs over many calls. `--outcomes N`: N
outcomes saved before the proxy started (the look must not read them again).

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
from ocp_server.proxy.saved_outcomes import SavedOutcomes

ROUNDS = 2000


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
        saved, floors = SavedOutcomes(path, since=outcomes), TierFloors()
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("CREATE TABLE bench_writes (n INTEGER)")
        unchanged, written = [], []
        for n in range(ROUNDS):
            t = time.perf_counter()
            saved.lift_floors(floors)
            unchanged.append(time.perf_counter() - t)
            other.execute("INSERT INTO bench_writes VALUES (?)", (n,))
            t = time.perf_counter()
            saved.lift_floors(floors)
            written.append(time.perf_counter() - t)
        saved.close()
        other.close()
    load = os.getloadavg()[0]
    print(f"load {load:.1f}; {outcomes} outcomes before; lift_floors median, {ROUNDS} calls:")
    print(f"  nothing written since the last look: {statistics.median(unchanged) * 1e6:.1f} µs")
    print(f"  after another connection's write:    {statistics.median(written) * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
