"""Floors another process on the same database lifted reach a running server: two servers
(the MCP servers of two agents on one workspace, each its own router and connections) on one
database, with OCP_STICKY=upward, and the fake paid and local models."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from ocp_router import Tier
from ocp_router.sticky import TierFloors
from ocp_server import floors_elsewhere
from ocp_server.db import connect
from ocp_server.floors_elsewhere import FloorsElsewhere
from ocp_server.outcomes import FloorsRead
from tests.server.floors import EASY, HARD, routed
from tests.server.inproc import PaidServer

_ROUTE = (
    "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, decided_by, "
    "model, backend, task_type, complexity, prompt_tokens, completion_tokens, duration_ms, "
    "trace_json, tier) VALUES (?, 's', ?, '', '', 'top', '', '', '', '', 0, 0, 0, 0, ?, 'top')"
)


@pytest.mark.parametrize(("sticky", "lifted"), [("upward", True), ("off", False)])
async def test_a_conversation_another_running_server_routed_paid_stays_paid_here(
    paid_server: PaidServer, sticky: str, lifted: bool
) -> None:
    """Under OCP_STICKY=off the routes' tiers were no floors: nothing comes from them."""
    async with paid_server({"OCP_STICKY": sticky}) as here:
        await routed(here, EASY, "warm-up")  # its workspace (and reader) open before
        async with paid_server({"OCP_STICKY": sticky}) as elsewhere:
            assert (await routed(elsewhere, HARD, "t"))["decision"] == "paid"
        easy: dict[str, Any] = await routed(here, EASY, "t")
        fresh = await routed(here, EASY, "u")
    assert easy["decision"] == ("paid" if lifted else "local"), easy
    assert ("already needed it" in easy["decided_by"]) is lifted, easy
    assert fresh["decision"] == "local", fresh


async def test_a_wrong_local_answer_saved_by_another_running_server_lifts_here(
    paid_server: PaidServer,
) -> None:
    async with paid_server() as here:
        local = await routed(here, "what does git stash do", "task-1")
        assert local["decision"] == "local", local
        async with paid_server() as elsewhere:
            await elsewhere.call_tool(
                "ocp_result_save", {"trace_id": local["trace_id"], "outcome": "bad: it was wrong"}
            )
        same = await routed(here, "and git stash pop?", "task-1")
    assert same["decision"] == "paid" and "already needed it" in same["decided_by"], same


async def test_a_route_answers_past_a_row_another_process_stored_that_no_reader_expected(
    paid_server: PaidServer, workspace: Path
) -> None:
    """A route whose time is no number (another version's, or a damaged row): the running
    server routes on, a server started after it opens, and floors stored later lift."""
    async with paid_server({"OCP_STICKY": "upward"}) as here:
        await routed(here, EASY, "warm-up")  # its workspace (and reader) open before
        # waiting as the server's own connections do for its index's writes
        with sqlite3.connect(
            workspace.parent / "ocp.db", timeout=60, isolation_level=None
        ) as other:
            other.execute("PRAGMA foreign_keys = OFF")
            trace = json.dumps({"trace": {"session": "t"}})
            other.execute(_ROUTE, ("0" * 32, "not a time", trace))
        answered = await routed(here, EASY, "u")
        async with paid_server({"OCP_STICKY": "upward"}) as elsewhere:
            assert (await routed(elsewhere, HARD, "t"))["decision"] == "paid"
        easy = await routed(here, EASY, "t")
    assert answered["decision"] == "local", answered
    assert easy["decision"] == "paid" and "already needed it" in easy["decided_by"], easy


async def test_the_reader_skips_forced_and_unreadable_routes_and_reads_each_route_once(
    tmp_path: Path,
) -> None:
    """A forced route raised no floor; a trace that is not JSON lifts nothing and does not
    stop the routes after it; a route read is not read again."""
    path = tmp_path / "ocp.db"
    await (await connect(path)).close()
    reader = FloorsElsewhere(path, since=FloorsRead(), routes=True)
    floors = TierFloors()
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("PRAGMA foreign_keys = OFF")
        traces = [
            json.dumps({"trace": {"session": "forced", "forced": True}}),
            "{not json",
            json.dumps({"trace": {"session": "kept", "forced": False}}),
        ]
        for n, trace_json in enumerate(traces):
            other.execute(_ROUTE, (f"{n:032x}", time.time(), trace_json))
        reader.lift_floors(floors)
        assert floors.items() == [("kept", Tier.TOP)]
        floors.clear("kept")
        other.execute("UPDATE traces SET duration_ms = 1")  # a write: the reader looks again
        reader.lift_floors(floors)
    reader.close()
    assert floors.items() == []


async def test_a_look_after_a_write_that_saved_no_note_reads_no_notes(tmp_path: Path) -> None:
    """Notes of other kinds than outcomes (most of them) are passed over once: a look after a
    route's write does not scan them again (the table whole, where no outcome was saved)."""
    path = tmp_path / "ocp.db"
    await (await connect(path)).close()
    reader = FloorsElsewhere(path, since=FloorsRead(), routes=True)
    floors = TierFloors()
    read: list[str] = []
    reader._db.set_trace_callback(read.append)
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("PRAGMA foreign_keys = OFF")
        other.executemany(
            "INSERT INTO notes (session_id, created_at, kind, text) VALUES ('s', 0, 'note', ?)",
            [(f"note {n}",) for n in range(3)],
        )
        reader.lift_floors(floors)
        other.execute(_ROUTE, ("0" * 32, time.time(), json.dumps({"trace": {"session": "a"}})))
        read.clear()
        reader.lift_floors(floors)
    reader.close()
    assert floors.items() == [("a", Tier.TOP)]  # the route was read
    assert not [sql for sql in read if "FROM notes AS n" in sql], read


async def test_a_look_while_another_connection_locks_the_database_waits_not_and_reads_later(
    tmp_path: Path,
) -> None:
    """A look runs on the event loop before each route: one that finds the database locked
    (here a rollback-journal writer's `BEGIN EXCLUSIVE`, what WAL recovery also does) neither
    raises nor waits for the lock (busy timeout 0), and reads the floor once it is gone."""
    path = tmp_path / "ocp.db"
    await (await connect(path)).close()
    with sqlite3.connect(path, isolation_level=None) as other:
        assert other.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    reader = FloorsElsewhere(path, since=FloorsRead(), routes=True)
    floors = TierFloors()
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("PRAGMA foreign_keys = OFF")
        other.execute(_ROUTE, ("0" * 32, time.time(), json.dumps({"trace": {"session": "t"}})))
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            reader._db.execute("PRAGMA data_version")  # the lock makes a look busy
        reader.lift_floors(floors)
        assert floors.items() == []
        assert reader._db.execute("PRAGMA busy_timeout").fetchone() == (0,)  # it never waits
        other.execute("ROLLBACK")
        reader.lift_floors(floors)
    reader.close()
    assert floors.items() == [("t", Tier.TOP)]


async def test_a_stored_row_no_reader_expected_fails_no_look_and_is_read_past(
    tmp_path: Path,
) -> None:
    """A route whose time is no number (another version's, or a damaged row) lifts nothing
    and raises nothing into the route; the routes stored after it are read."""
    path = tmp_path / "ocp.db"
    await (await connect(path)).close()
    reader = FloorsElsewhere(path, since=FloorsRead(), routes=True)
    floors = TierFloors()
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("PRAGMA foreign_keys = OFF")
        trace = json.dumps({"trace": {"session": "bad"}})
        other.execute(_ROUTE, ("0" * 32, "not a time", trace))
        reader.lift_floors(floors)
        other.execute(_ROUTE, ("1" * 32, time.time(), json.dumps({"trace": {"session": "ok"}})))
        reader.lift_floors(floors)
    reader.close()
    assert floors.items() == [("ok", Tier.TOP)]


class _Failing(TierFloors):
    def lift(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a lift that fails")


async def test_an_error_while_lifting_never_leaves_the_look_and_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The look runs before each route: whatever fails in it is logged, not raised, and the
    rows it read are not read again at the next look."""
    path = tmp_path / "ocp.db"
    await (await connect(path)).close()
    reader = FloorsElsewhere(path, since=FloorsRead(), routes=True)
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("PRAGMA foreign_keys = OFF")
        other.execute(_ROUTE, ("0" * 32, time.time(), json.dumps({"trace": {"session": "t"}})))
    with caplog.at_level(logging.WARNING, logger=floors_elsewhere.__name__):
        reader.lift_floors(_Failing())
        reader.lift_floors(_Failing())
    reader.close()
    assert caplog.text.count("not all read") == 1, caplog.text
