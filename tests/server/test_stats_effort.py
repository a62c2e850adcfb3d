"""`ocp-server stats` breaks routes down by the effort (thinking) their caller asked (m049's
column): what thinking cost, in the report, its --json, its text and its --html page; a
report in which no caller asked an effort shows no such table."""

from __future__ import annotations

import io
from pathlib import Path

import aiosqlite
from rich.console import Console

from ocp_server.cli_server import print_stats
from ocp_server.db import connect
from ocp_server.report_html import render_html
from ocp_server.savings import SavingsReport, savings_report
from tests.server.report_dom import Dom


async def _row(
    db: aiosqlite.Connection, trace_id: str, effort: str | None, out: int, cost: float
) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO sessions (id, workspace, started_at) VALUES ('s', 'w', 1.0)"
    )
    await db.execute(
        "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
        "decided_by, model, backend, task_type, complexity, prompt_tokens, completion_tokens, "
        "duration_ms, cost_usd, trace_json, answered_by, effort) VALUES (?, 's', 2.0, '', "
        "'paid', 'paid', 'd', 'm', 'b', 'debug', 0.5, 10, ?, 1.0, ?, '{}', 'paid', ?)",
        (trace_id, out, cost, effort),
    )


async def _report(path: Path, rows: list[tuple[str, str | None, int, float]]) -> SavingsReport:
    db = await connect(path)
    try:
        for row in rows:
            await _row(db, *row)
        await db.commit()
        return await savings_report(db, since=None)
    finally:
        await db.close()


def _printed(report: SavingsReport) -> str:
    out = io.StringIO()
    print_stats(report, Console(file=out, width=300), "underscore")
    return out.getvalue()


async def test_stats_break_routes_and_their_cost_down_by_the_effort_asked(tmp_path: Path) -> None:
    report = await _report(
        tmp_path / "ocp.db",
        [("a", "high", 900, 0.09), ("b", "high", 100, 0.01), ("c", "low", 50, 0.002)]
        + [("d", None, 40, 0.001)],
    )
    assert report["by_effort"] == {
        "high": {"routes": 2, "completion_tokens": 1000, "cost_usd": 0.1},
        "low": {"routes": 1, "completion_tokens": 50, "cost_usd": 0.002},
        "none": {"routes": 1, "completion_tokens": 40, "cost_usd": 0.001},
    }
    text = _printed(report)
    assert "by effort asked" in text
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines()]
    assert ["high", "2", "1,000", "$0.1000"] in cells, text
    page = Dom(render_html(report))  # `stats --html`: the same table, drawn by the server
    assert "table-efforts" in {attrs.get("id") for _, attrs in page.elements}
    shown = page.all_text()
    assert "By effort asked" in shown and "high 2 1,000 $0.1000" in shown, shown
    assert "low 1 50 $0.0020" in shown and "none 1 40 $0.0010" in shown, shown


async def test_stats_where_no_caller_asked_an_effort_print_no_effort_table(
    tmp_path: Path,
) -> None:
    report = await _report(tmp_path / "ocp.db", [("a", None, 40, 0.001)])
    assert report["by_effort"] == {
        "none": {"routes": 1, "completion_tokens": 40, "cost_usd": 0.001}
    }
    assert "by effort asked" not in _printed(report)
    assert "By effort asked" not in Dom(render_html(report)).all_text()
