"""A RouteRecord to start from in the trace tests, with the fields a test names changed."""

from __future__ import annotations

import dataclasses
from typing import Any

from ocp_router import Band, Phase, PinState, Route, Tier
from ocp_router.results import Attempt
from ocp_server.route_record import Phase2Record, RouteRecord


def route_record(**changes: Any) -> RouteRecord:
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
