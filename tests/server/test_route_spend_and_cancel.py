"""ocp_model_route's trace when money or the caller goes away: a paid answer the route could
not use is still billed in the stored trace, apart from the answer's cost (the savings report
measures savings on the answers and shows the failed spend beside them), and a route the
client cancels is recorded with the attempt that was in flight and an estimate of its bill."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest
from rich.console import Console

from ocp_server.cli_server import print_stats
from ocp_server.db import connect
from ocp_server.savings import savings_report
from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env, text_of

DESIGN = "design the architecture of our payment service: sharding, consistency, failover"


async def _stored(workspace: Path) -> list[tuple[str, float, str]]:
    db = await connect(workspace.parent / "ocp.db")
    try:
        async with db.execute(
            "SELECT route_to, cost_usd, trace_json FROM traces ORDER BY created_at"
        ) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]
    finally:
        await db.close()


@pytest.fixture
async def empty_paid_trace(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> dict[str, Any]:
    """The trace of a paid request whose two paid models spend their output on thinking and
    answer no text, so that the local model answers it."""
    fake_anthropic.add_steps(*[{"thinking": "deliberation " * 40, "text": ""}] * 2)
    async with inproc_client(workspace, monkeypatch, paid_env(fake_ollama, fake_anthropic)) as c:
        out = await c.call_tool("ocp_model_route", {"request": DESIGN, "max_context_tokens": 0})
    trace: dict[str, Any] = (out.structured_content or {})["trace"]
    return trace


async def test_an_empty_paid_answer_is_billed_in_the_stored_trace(
    workspace: Path, empty_paid_trace: dict[str, Any]
) -> None:
    trace = empty_paid_trace
    assert trace["route_to"] == "local"
    assert trace["cost_usd"] > 0
    [(route_to, cost, _)] = await _stored(workspace)
    assert route_to == "local" and cost == pytest.approx(trace["cost_usd"])
    # The local answer cost nothing; what the paid tries were billed is failed spend.
    assert trace["answer_cost_usd"] == 0 and not trace["cost_estimated"]
    assert trace["failed_cost_usd"] == pytest.approx(trace["cost_usd"])
    assert sum(a["cost_usd"] for a in trace["attempts"]) == pytest.approx(trace["cost_usd"])


async def test_a_paid_call_refused_says_it_cost_nothing_not_its_upper_bound(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # The answer's line showed the estimate the budget allowed ($0.06) beside "answered by
    # none", read as what the refused call cost; the trace said 0.
    fake_anthropic.fail_next(401, times=2)
    async with inproc_client(workspace, monkeypatch, paid_env(fake_ollama, fake_anthropic)) as c:
        out = await c.call_tool("ocp_model_route", {"request": DESIGN, "force": "paid"})
        dry = await c.call_tool("ocp_model_route", {"request": DESIGN, "dry_run": True})
    trace = (out.structured_content or {})["trace"]
    assert trace["cost_usd"] == 0 and trace["estimated_cost_usd"] > 0
    line = next(s for s in text_of(out).splitlines() if s.startswith("[route "))
    assert "answered by none" in line and line.endswith(", $0.0000]")
    estimate = (dry.structured_content or {})["trace"]["estimated_cost_usd"]
    assert f"up to ${estimate:.4f}]" in text_of(dry)


async def test_the_savings_report_keeps_failed_paid_spend_out_of_the_answers_savings(
    workspace: Path, empty_paid_trace: dict[str, Any]
) -> None:
    trace = empty_paid_trace
    db = await connect(workspace.parent / "ocp.db")
    try:
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    # The local answer saved all it would have cost on the top model; the failed paid
    # tries are paid for in the net figure, not hidden in the answer's savings.
    assert report["counterfactual_usd"] > 0
    assert report["savings_usd"] == pytest.approx(report["counterfactual_usd"])
    assert report["savings_pct"] == 100
    failed = trace["failed_cost_usd"]
    assert failed > 0 and report["failed_cost_usd"] == pytest.approx(failed)
    assert report["cost_usd"] == pytest.approx(failed) and report["answer_cost_usd"] == 0
    assert report["net_savings_usd"] == pytest.approx(report["counterfactual_usd"] - failed)
    assert report["by_tier"]["local"]["failed_cost_usd"] == pytest.approx(failed)
    console = Console(record=True, width=200)
    print_stats(report, console, "underscore")
    shown = console.export_text()
    assert f"saved ${report['savings_usd']:,.4f} (100.0%)" in shown
    assert f"failed paid attempts cost ${failed:,.4f}" in shown
    assert f"net saved ${report['net_savings_usd']:,.4f}" in shown


async def test_a_route_the_client_cancels_is_recorded_with_its_attempt_in_flight(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.delay = 30.0
    async with inproc_client(workspace, monkeypatch, paid_env(fake_ollama, fake_anthropic)) as c:
        with anyio.move_on_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    c.call_tool, "ocp_model_route", {"request": DESIGN, "max_context_tokens": 0}
                )
                while not fake_anthropic.message_requests():
                    await asyncio.sleep(0.02)
                tg.cancel_scope.cancel()
        # The server keeps serving, and the cancelled route is in the store.
        for _ in range(200):
            if await _stored(workspace):
                break
            await asyncio.sleep(0.05)
        again = await c.call_tool(
            "ocp_model_route", {"request": "explain this function", "force": "local"}
        )
    assert not again.is_error
    rows = await _stored(workspace)
    assert len(rows) == 2, rows
    assert rows[0][0] == "none" and '"cancelled"' in rows[0][2]
    # The provider read the prompt before the cancel: billed, as an estimate.
    assert rows[0][1] > 0 and '"cost_estimated": true' in rows[0][2]


async def test_a_route_answered_by_an_unpriced_model_after_a_failed_paid_try_adds_up(
    tmp_path: Path,
) -> None:
    """cost_usd is None when the model that answered has no known price, while the failed
    try before it was billed: the report's cost left that spend out and its failed cost
    counted it, so the answers' cost came out negative."""
    db = await connect(tmp_path / "ocp.db")
    try:
        await db.execute("INSERT INTO sessions (id, workspace, started_at) VALUES ('s', 'w', 0)")
        for n, (cost, failed, model) in enumerate([(0.05, 0.0, "priced"), (None, 0.02, "custom")]):
            await db.execute(
                "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
                "decided_by, model, backend, task_type, complexity, prompt_tokens, "
                "completion_tokens, duration_ms, cost_usd, counterfactual_usd, trace_json, "
                "answered_by, tier, answered_tier, failed_cost_usd) VALUES (?, 's', ?, 'r', "
                "'paid', 'paid', 'x', ?, 'anthropic', 'chat', 0.5, 10, 10, 1.0, ?, 0.1, '{}', "
                "?, 'mid', 'mid', ?)",
                (f"t{n}", 1000.0 + n, model, cost, model, failed),
            )
        await db.commit()
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    assert report["failed_cost_usd"] == pytest.approx(0.02)
    assert report["answer_cost_usd"] == pytest.approx(0.05)
    assert report["cost_usd"] == pytest.approx(0.07)
    assert report["unpriced"] == 1
