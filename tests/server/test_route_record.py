"""The route record is the one definition of a route's facts: the wire trace and the traces
row are its views, by name (docs/architecture.md, "Add a trace field")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ocp_wire as wire
from ocp_server.db import connect
from ocp_server.route_record import RouteRecord
from ocp_server.trace_store import _COLUMNS, _FROM_RECORD, TraceRecord
from tests.server.route_records import route_record


def test_every_wire_trace_field_is_a_fact_of_the_record() -> None:
    facts = {f.name for f in dataclasses.fields(RouteRecord)}
    assert set(wire.RouteTrace.model_fields) <= facts


def test_the_wire_trace_is_the_record_by_name() -> None:
    record = route_record()
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
    record = route_record(request=f"use {secret} here")
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
