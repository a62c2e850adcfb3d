"""The composition root: build_server takes its router and clock from the caller, and the
route trace the tool returns is the one the trace store keeps."""

from __future__ import annotations

import json
from pathlib import Path

import aiosqlite
from mcp import Client
from mcp.types import TextContent

from ocp_router import GenerateRequest, MockBackend, OCPRouter
from ocp_server.server import build_server
from ocp_server.settings import ServerSettings


async def test_a_server_built_with_a_router_and_a_clock_routes_and_records_with_them(
    workspace: Path,
) -> None:
    asked: list[str] = []

    def local(request: GenerateRequest) -> str:
        asked.append(request.prompt)
        return "use a dict"

    router = OCPRouter(local=MockBackend(local, model="tiny"), paid=None)
    settings = ServerSettings(workspace=workspace, db_path=workspace.parent / "ocp.db")
    server = build_server(settings, router=router, clock=lambda: 1_000_000.0)
    async with Client(server, read_timeout_seconds=60, mode="legacy") as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": "rename x to count", "force": "local"}
        )
        assert not routed.is_error
        out = routed.structured_content
        # the answer once: to this client (not one that reads only the structured content),
        # as the text's last block
        last = routed.content[-1]
        assert out is not None and out["answer"] == ""
        assert isinstance(last, TextContent) and last.text == "use a dict"
        trace = out["trace"]
        assert (trace["model"], trace["tier"], trace["phase"]) == ("tiny", "local", "explicit")
        assert trace["band"] in ("LOCAL", "PAID", "AMBIGUOUS")
        assert asked == ["rename x to count"]
        restored = await client.call_tool("ocp_session_restore", {})
        assert restored.structured_content is not None
    # The store kept the same trace, at the injected clock's time.
    async with aiosqlite.connect(workspace.parent / "ocp.db") as db:
        rows = list(
            await db.execute_fetchall(
                "SELECT id, created_at, tier, phase, model, trace_json FROM traces"
            )
        )
    [(trace_id, created_at, tier, phase, model, trace_json)] = rows
    assert (trace_id, created_at, tier, phase, model) == (
        trace["trace_id"],
        1_000_000.0,
        "local",
        "explicit",
        "tiny",
    )
    assert json.loads(trace_json)["trace"] == trace
