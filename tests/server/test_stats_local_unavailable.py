"""`ocp-server stats` on a machine whose local model is down: a route handed back to the agent
because the local model could not be reached is counted as such (`local_unavailable`), not as
an escalation, in the report, its text and its HTML page. A local model that was reached and
failed (an error answer) and was handed back still escalated."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from ocp_server.cli_server import print_stats
from ocp_server.db import connect
from ocp_server.report_html import render_html
from ocp_server.savings import savings_report
from tests.fakes import FakeOllama
from tests.server.inproc import inproc_client, text_of
from tests.server.report_dom import Dom


async def _route(client: object, request: str) -> None:
    routed = await client.call_tool("ocp_model_route", {"request": request})  # type: ignore[attr-defined]
    assert not routed.is_error, text_of(routed)
    assert (routed.structured_content or {})["answered_by"] == "agent"


async def test_routes_the_agent_answered_because_the_local_model_was_down_are_not_escalations(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    async with inproc_client(workspace, monkeypatch, {"OCP_OLLAMA_URL": refused_url}) as client:
        await _route(client, "explain what verify_token does")
        await _route(client, "rename x to y in auth.py")
    db = await connect(workspace.parent / "ocp.db")
    try:
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    assert report["routes"] == 2 and report["errors"] == 0
    assert report["escalations"] == 0 and report["local_unavailable"] == 2
    assert report["fallbacks"] == 0
    out = io.StringIO()
    print_stats(report, Console(file=out, width=300), "underscore")
    assert "escalations 0 · local model unavailable 2 (answered by your agent)" in out.getvalue()
    page = Dom(render_html(report)).all_text()
    assert "Escalations 0" in page and "Local model unavailable 2 answered by your agent" in page


async def test_a_local_model_that_answered_with_an_error_still_escalated_to_the_agent(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    fake_ollama.fail_next(500)
    env = {"OCP_OLLAMA_URL": fake_ollama.url}
    async with inproc_client(workspace, monkeypatch, env) as client:
        await _route(client, "explain what verify_token does")
    db = await connect(workspace.parent / "ocp.db")
    try:
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    assert report["escalations"] == 1 and report["local_unavailable"] == 0
