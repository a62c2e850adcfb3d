"""An outcome saved by a paid answer's upstream request id (`req_…`, what the client's SDK
shows) names its proxied trace through TraceStore.full_trace_id. Every id that is not hex
is looked up so, a mistyped one or one no upstream gave too: the lookup reads an index of
those ids, not every trace's JSON newest first (a store keeps its traces)."""

from __future__ import annotations

from pathlib import Path

from ocp_server.db import connect
from ocp_server.trace_store import TraceStore


async def test_an_id_no_upstream_gave_is_looked_up_on_an_index_not_by_reading_every_trace(
    tmp_path: Path,
) -> None:
    db = await connect(tmp_path / "ocp.db")
    try:
        said: list[str] = []
        await db.set_trace_callback(said.append)
        assert await TraceStore(db).full_trace_id("req_nobody_gave_this") == "req_nobody_gave_this"
        lookups = [sql for sql in said if "upstream_request_id" in sql]
        assert lookups, said
        for sql in lookups:
            plan = [str(row[3]) for row in await db.execute_fetchall("EXPLAIN QUERY PLAN " + sql)]
            assert not any(step.startswith("SCAN traces") for step in plan), plan
    finally:
        await db.close()
