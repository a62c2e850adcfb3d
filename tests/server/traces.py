"""A stored route's trace, with defaults for every field a test does not care about."""

from __future__ import annotations

import dataclasses
import json
from typing import TypedDict, Unpack

from ocp_server.memory import TraceRecord


class TraceChanges(TypedDict, total=False):
    """The fields a test changes from `trace`'s defaults."""

    route_to: str
    decision: str
    model: str
    cost_usd: float | None
    answered_by: str | None


def trace(
    trace_id: str, request: str = "explain the router", **kw: Unpack[TraceChanges]
) -> TraceRecord:
    record = TraceRecord(
        id=trace_id,
        request=request,
        route_to="local",
        decision="local",
        decided_by="classifier",
        model="qwen2.5-coder:7b",
        backend="ollama",
        task_type="explain",
        complexity=0.2,
        prompt_tokens=100,
        completion_tokens=50,
        duration_ms=120.0,
        cost_usd=0.0,
        counterfactual_usd=0.002,
        answered_by="ollama",
        trace_json=json.dumps({"trace_id": trace_id, "attempts": []}),
    )
    return dataclasses.replace(record, **kw)
