"""`ocp-server stats` lists the conversations a proxy or server opening the workspace now
keeps above the local tier, with when each floor lapses: in its --json, its text and its
--html page (OCP_STICKY=upward's from the routes; a wrong local answer's whatever the option)."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from pathlib import Path

from rich.console import Console

from ocp_router.config import RouterSettings
from ocp_server.cli_server import kept_above_local, print_stats
from ocp_server.db import connect
from ocp_server.report_html import render_html
from ocp_server.savings import FloorRow, savings_report
from ocp_server.trace_store import TraceStore
from tests.server.report_dom import Dom

HOUR = 3600.0


async def _stored(path: Path, now: float) -> None:
    """A local answer in conversation "wrong" an outcome called wrong two hours ago, and a
    route of conversation "hard" to the top tier an hour ago."""
    db = await connect(path)
    await db.execute("INSERT INTO sessions (id, workspace, started_at) VALUES ('s', 'w', 1.0)")
    for trace_id, session, tier, at in [
        ("a", "wrong", "local", now - 2 * HOUR),
        ("b", "hard", "top", now - HOUR),
    ]:
        facts = {"decision": tier, "answered_tier": tier, "session": session, "forced": False}
        await db.execute(
            "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
            "decided_by, model, backend, task_type, complexity, prompt_tokens, "
            "completion_tokens, duration_ms, trace_json, answered_by, tier, answered_tier) "
            "VALUES (?, 's', ?, '', ?, ?, 'd', 'm', 'b', 'debug', 0.5, 1, 1, 1.0, ?, ?, ?, ?)",
            (trace_id, at, tier, tier, json.dumps({"trace": facts}), tier, tier, tier),
        )
    await db.execute(
        "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
        "VALUES ('s', ?, 'outcome', 'bad: it was wrong', 'a', ?)",
        (now - 2 * HOUR, now - 2 * HOUR),
    )
    await db.commit()
    await db.close()


async def _kept(path: Path, env: dict[str, str]) -> list[dict[str, object]]:
    db = await connect(path)
    try:
        kept = await kept_above_local(TraceStore(db), RouterSettings.from_env(env))
    finally:
        await db.close()
    return [dict(row) for row in kept]


async def test_stats_list_each_conversation_kept_above_local_and_when_it_lapses(
    tmp_path: Path,
) -> None:
    path, now = tmp_path / "ocp.db", time.time()
    await _stored(path, now)
    kept = await _kept(path, {"OCP_STICKY": "upward"})
    assert [(k["session"], k["tier"]) for k in kept] == [("wrong", "mid"), ("hard", "top")]
    lapses = [float(str(k["lapses_at"])) for k in kept]
    assert abs(lapses[0] - (now + 22 * HOUR)) < 60 and abs(lapses[1] - (now + 23 * HOUR)) < 60


async def test_stats_text_and_page_show_the_conversations_kept_and_until_when(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ocp.db"
    await _stored(path, time.time())
    db = await connect(path)
    report = await savings_report(db, since=None)
    await db.close()
    until = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC).timestamp()
    report["floors"] = [
        FloorRow(session="hard", tier="top", lapses_at=until),
        FloorRow(session="wrong", tier="mid", lapses_at=None),
    ]
    out = io.StringIO()
    print_stats(report, Console(file=out, width=300), "underscore")
    text = out.getvalue()
    assert "conversations kept above the local tier" in text, text
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines()]
    assert ["hard", "top", "2026-01-02 03:04 UTC"] in cells, text
    assert ["wrong", "mid", "no age limit"] in cells, text
    page = Dom(render_html(report))  # `stats --html`
    assert "table-floors" in {attrs.get("id") for _, attrs in page.elements}
    shown = page.all_text()
    assert "hard top 2026-01-02 03:04 UTC" in shown and "wrong mid no age limit" in shown, shown


async def test_with_sticky_off_only_a_wrong_local_answer_keeps_its_conversation(
    tmp_path: Path,
) -> None:
    path, now = tmp_path / "ocp.db", time.time()
    await _stored(path, now)
    assert [k["session"] for k in await _kept(path, {"OCP_STICKY": "off"})] == ["wrong"]
    no_limit = await _kept(path, {"OCP_STICKY": "off", "OCP_FLOOR_HOURS": "0"})
    assert [k["lapses_at"] for k in no_limit] == [None]
