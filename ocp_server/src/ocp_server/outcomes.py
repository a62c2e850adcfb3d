"""What an outcome saved on a routed request (`ocp_result_save` with a trace id) teaches: the
workspace's routing calibration (ocp_router.calibration), and, when a local answer was wrong,
a paid tier for the rest of its conversation."""

from __future__ import annotations

import asyncio
import json
import logging

from ocp_router import OCPRouter, Tier
from ocp_router.calibration import Learned, Outcome, parse_outcome
from ocp_server.workspaces import Workspace

logger = logging.getLogger(__name__)


async def learn(
    ws: Workspace, router: OCPRouter | None, trace_id: str, outcome: str | None
) -> Learned | None:
    """Feed the outcome to `ws`'s calibration (None: it has none, or the outcome says nothing
    about the tier), and on "that answer was wrong" for a local answer lift the conversation
    to a paid tier in `router` (None: this run routes nothing, a routing setting is invalid)."""
    kind = parse_outcome(outcome or "")
    if kind is None or ws.calibration is None:
        return None
    stored = await ws.memory.trace_json(trace_id)
    trace = (json.loads(stored) if stored else {}).get("trace") or {}
    if not trace or trace.get("forced") or trace.get("decision") not in ("local", "paid"):
        return None
    routed_paid = trace["decision"] == "paid"
    if not routed_paid and trace.get("answered_tier") != Tier.LOCAL:
        return None  # the local model never answered: the outcome judges another's answer
    lift = kind in (Outcome.BAD, Outcome.ESCALATED) and not routed_paid
    if lift and trace.get("session") and router is not None:
        router.floors.lift(str(trace["session"]), Tier.MID)
    score = trace.get("raw_score")
    if not isinstance(score, int | float):
        score = float(trace.get("complexity_score") or 0.0)
    learned = await asyncio.to_thread(
        ws.calibration.learn, str(trace.get("task_type")), score, routed_paid, kind
    )
    if learned is not None and learned.before != learned.after:
        logger.info("routing calibration: %s", learned)
    return learned


def unlearned(
    ws: Workspace, trace_id: str | None, outcome: str | None, why: str | None
) -> str | None:
    """The save's warning when an outcome on a route taught nothing because routing's
    settings are invalid (`why`, naming the one), else None."""
    if why and trace_id and ws.calibration is None and parse_outcome(outcome or ""):
        return f"routing did not learn from the outcome: {why}"
    return None
