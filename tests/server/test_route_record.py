"""The route record is the one definition of a route's facts: the wire trace and the traces
row are its views, by name (docs/architecture.md, "Add a trace field")."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import ocp_wire as wire
from ocp_router import Band, Phase, PinState, Route, Tier
from ocp_router.results import Attempt
from ocp_server.db import connect
from ocp_server.route_record import Phase2Record, RouteRecord
from ocp_server.trace_store import _COLUMNS, _FROM_RECORD, TraceRecord


def _record(**changes: Any) -> RouteRecord:
    base = RouteRecord(
        trace_id="t" * 32,
        request="rename x",
        decision=Route.PAID,
        tier=Tier.MID,
        answered_tier=Tier.TOP,
        decided_by="phase 2",
        phase=Phase.LLM_CLASSIFIER,
        forced=False,
        band=Band.AMBIGUOUS,
        band_confidence=0.5,
        reasons=("long",),
        phase2=Phase2Record(Tier.MID, "needs reasoning", 12.0, False),
        pin_state=PinState.NONE,
        route_to="paid",
        escalated=True,
        local_unavailable=False,
        fell_back=False,
        complexity_score=0.7,
        raw_score=0.62,
        session="conversation-1",
        threshold=0.5,
        confidence=0.8,
        task_type="debug",
        signals=("stack trace",),
        turns=1,
        context_chars=8,
        model="claude-opus-4-6",
        backend="anthropic",
        prompt_tokens=100,
        completion_tokens=20,
        duration_ms=900.0,
        estimated_cost_usd=0.02,
        cost_usd=0.012,
        answer_cost_usd=0.01,
        failed_cost_usd=0.002,
        cost_estimated=True,
        counterfactual_usd=0.01,
        counterfactual_model="claude-opus-4-6",
        attempts=(
            Attempt(
                Tier.MID,
                "anthropic",
                "claude-sonnet-4-5",
                "error",
                5.0,
                "boom",
                "BackendTimeout",
                0.002,
                True,
            ),
            Attempt(Tier.TOP, "anthropic", "claude-opus-4-6", "ok", 895.0, cost_usd=0.01),
        ),
        notes=("budget: fine",),
        context_citations=("a.py:1-3",),
        context_tokens=40,
        redactions={"aws_access_key": 1},
    )
    return dataclasses.replace(base, **changes)


def test_every_wire_trace_field_is_a_fact_of_the_record() -> None:
    facts = {f.name for f in dataclasses.fields(RouteRecord)}
    assert set(wire.RouteTrace.model_fields) <= facts


def test_the_wire_trace_is_the_record_by_name() -> None:
    record = _record()
    trace = record.trace().model_dump(mode="json")
    assert trace["tier"] == "mid" and trace["answered_tier"] == "top"
    assert trace["phase"] == "llm_classifier" and trace["band"] == "AMBIGUOUS"
    assert trace["phase2"] == {
        "tier": "mid",
        "reason": "needs reasoning",
        "duration_ms": 12.0,
        "fallback": False,
    }
    assert [a["error_type"] for a in trace["attempts"]] == ["BackendTimeout", None]
    assert trace["redactions"] == {"aws_access_key": 1}


def test_the_traces_row_is_the_record_by_column_name_with_the_request_redacted() -> None:
    secret = "AKIA" + "Q3EGQ7W2EXAMPLEZ"
    record = _record(request=f"use {secret} here")
    row = TraceRecord.of(record, trace_json="{}")
    assert (row.id, row.complexity, row.estimated_usd, row.phase2) == (
        record.trace_id,
        0.7,
        0.02,
        "llm",
    )
    assert (row.tier, row.answered_tier, row.phase, row.band) == (
        "mid",
        "top",
        "llm_classifier",
        "AMBIGUOUS",
    )
    assert row.budget_note == "budget: fine" and row.answered_by == "paid"
    assert secret not in row.request
    assert [a.tier for a in row.attempts] == ["mid", "top"]


async def test_every_traces_row_field_is_a_column_of_the_migrated_table(tmp_path: Path) -> None:
    db = await connect(tmp_path / "ocp.db")
    try:
        columns = {row[1] for row in await db.execute_fetchall("PRAGMA table_info(traces)")}
    finally:
        await db.close()
    assert set(_COLUMNS) <= columns
    facts = {f.name for f in dataclasses.fields(RouteRecord)} | {
        "budget_note",
        "phase2_kind",
        "answered_by",
    }
    assert set(_FROM_RECORD.values()) <= facts
