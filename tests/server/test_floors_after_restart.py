"""Floors a restarted server rebuilds from what it stored: a wrong local answer's lift lasts
OCP_FLOOR_HOURS from the outcome, not for ever; OCP_STICKY=upward's floors come back from
the stored routes as the outcomes' do. And a server lifts in-process as after a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mcp import Client

from ocp_router import MockBackend, OCPRouter
from ocp_server.server import build_server
from ocp_server.settings import ServerSettings
from tests.server.floors import EASY, HARD, routed
from tests.server.inproc import PaidServer


def _aged(workspace: Path, hours: float) -> None:
    """Every stored route and note dated `hours` earlier, as if saved that long ago."""
    with sqlite3.connect(workspace.parent / "ocp.db") as db:
        db.execute("UPDATE notes SET created_at = created_at - ?", (hours * 3600,))
        db.execute("UPDATE traces SET created_at = created_at - ?", (hours * 3600,))


@pytest.mark.parametrize(("hours_ago", "lifted"), [(2, True), (48, False)])
async def test_a_wrong_local_answers_lift_lasts_its_age_limit_across_a_restart(
    paid_server: PaidServer, workspace: Path, hours_ago: float, lifted: bool
) -> None:
    async with paid_server() as client:
        local = await routed(client, "what does git stash do", "task-1")
        assert local["decision"] == "local"
        await client.call_tool(
            "ocp_result_save", {"trace_id": local["trace_id"], "outcome": "bad: it was wrong"}
        )
    _aged(workspace, hours_ago)
    async with paid_server() as client:  # OCP_FLOOR_HOURS: 24 by default
        same = await routed(client, "and git stash pop?", "task-1")
    assert same["decision"] == ("paid" if lifted else "local"), same
    assert ("already needed it" in same["decided_by"]) is lifted, same


@pytest.mark.parametrize(("hours_ago", "lifted"), [(0, True), (48, False)])
async def test_sticky_upwards_floors_come_back_after_a_restart_within_their_age_limit(
    paid_server: PaidServer, workspace: Path, hours_ago: float, lifted: bool
) -> None:
    sticky = {"OCP_STICKY": "upward"}
    async with paid_server(sticky) as client:
        hard = await routed(client, HARD, "t")
    assert hard["decision"] == "paid"
    _aged(workspace, hours_ago)
    async with paid_server(sticky) as client:  # a new process: floors start empty in memory
        easy = await routed(client, EASY, "t")
        fresh = await routed(client, EASY, "u")
    assert easy["decision"] == ("paid" if lifted else "local"), easy
    assert ("already needed it" in easy["decided_by"]) is lifted, easy
    assert fresh["decision"] == "local", fresh


async def test_sticky_off_brings_back_no_floor_from_the_stored_routes(
    paid_server: PaidServer,
) -> None:
    async with paid_server({"OCP_STICKY": "upward"}) as client:
        assert (await routed(client, HARD, "t"))["decision"] == "paid"
    async with paid_server({"OCP_STICKY": "off"}) as client:  # (the env is the test's)
        assert (await routed(client, EASY, "t"))["decision"] == "local"


async def test_a_server_given_its_router_lifts_a_wrong_answers_conversation_as_after_a_restart(
    workspace: Path,
) -> None:
    """A router handed to build_server comes with no routing threshold, so no calibration
    to teach: the outcome still lifts the conversation (the lift is not the calibration's;
    the proxy lifts so, and this server did after a restart), and says it taught nothing."""
    settings = ServerSettings(workspace=workspace, db_path=workspace.parent / "ocp.db")

    def router() -> OCPRouter:
        return OCPRouter(
            local=MockBackend(lambda _: "it drops them", model="tiny"),
            paid=MockBackend(lambda _: "it keeps them", model="big"),
        )

    async with Client(build_server(settings, router=router()), mode="legacy") as client:
        local = await routed(client, "what does git stash do", "task-1")
        assert local["decision"] == "local", local
        await client.call_tool(
            "ocp_result_save", {"trace_id": local["trace_id"], "outcome": "bad: it was wrong"}
        )
        same = await routed(client, "and git stash pop?", "task-1")
        other = await routed(client, "and git stash pop?", "task-2")
    async with Client(build_server(settings, router=router()), mode="legacy") as client:
        restarted = await routed(client, "and git stash pop?", "task-1")
    assert other["decision"] == "local", other
    for lifted in (same, restarted):
        assert lifted["decision"] == "paid" and "already needed it" in lifted["decided_by"]
