"""What the proxy pays per request to see outcomes other processes saved
(proxy/saved_outcomes.py): `lift_floors` when nothing was written since the last look (one
`PRAGMA data_version`), and after another connection's write (that, and the query for the
outcomes past the last one seen, none). Median µs over many calls.

    uv run python bench/bench_saved_outcomes.py
"""

from __future__ import annotations

import asyncio
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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ocp.db"
        asyncio.run(_database(path))
        saved, floors = SavedOutcomes(path), TierFloors()
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
    print(f"load {load:.1f}; lift_floors median over {ROUNDS} calls:")
    print(f"  nothing written since the last look: {statistics.median(unchanged) * 1e6:.1f} µs")
    print(f"  after another connection's write:    {statistics.median(written) * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
