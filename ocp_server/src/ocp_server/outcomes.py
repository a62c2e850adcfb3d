"""What an outcome saved on a routed request (`ocp_result_save` with a trace id) teaches: the
workspace's routing calibration (ocp_router.calibration), and, when a local answer was wrong,
a paid tier for the rest of its conversation."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ocp_router import OCPRouter, Tier
from ocp_router.calibration import Outcome, parse_outcome, wanted_paid
from ocp_router.calibration_file import NO_MODEL, Learned
from ocp_router.sticky import Sticky, TierFloors
from ocp_server.trace_store import RouteRow, TraceStore
from ocp_server.workspaces import Workspace

logger = logging.getLogger(__name__)


#: What an outcome must start with to teach routing (calibration.parse_outcome's words).
OUTCOME_WORDS = "good, bad (or wrong), escalated or overkill"
#: The tier a wrong local answer lifts the rest of its conversation to (`lifted_session`):
#: the cheapest paid one, in this process, the proxy's and after a restart alike.
LIFTED_TO = Tier.MID


def route_facts(
    *,
    decision: str,
    answered_tier: str | None,
    session: str | None,
    task_type: str,
    raw_score: float | None,
    complexity_score: float,
    local_model: str | None,
    forced: bool = False,
    unanswered: bool = False,
) -> dict[str, Any]:
    """What `learn` reads of a route's stored trace (its `trace`), by the names the route
    tool's trace gives them (wire.RouteTrace): the routing proxy stores its requests' so, and
    an outcome on one teaches as on a route of the tool's. `unanswered`: no answer reached
    anyone (the proxy's client left, its tier was refused or failed); a route the calling
    agent answers (paid, the tool's) is answered."""
    return {
        "decision": decision,
        "answered_tier": answered_tier,
        "session": session,
        "task_type": task_type,
        "raw_score": raw_score,
        "complexity_score": complexity_score,
        "local_model": local_model,
        "forced": forced,
        "unanswered": unanswered,
    }


async def learn(
    ws: Workspace,
    router: OCPRouter | None,
    trace_id: str | None,
    outcome: str | None,
) -> tuple[Learned | None, str | None]:
    """Feed the outcome to `ws`'s calibration, in place of the point the route taught before
    (the latest outcome is in force: that point is taken back, whatever this one says), and on
    "that answer was wrong" for a local answer lift the conversation to a paid tier in `router`
    (None: this run routes nothing, a routing setting is invalid). With what was learned
    (None: nothing), the save's warning when an outcome was given and taught nothing, saying
    why: saved without a word, it read as taught (None: it taught, or `ws` has no calibration,
    which `unlearned` explains)."""
    if not outcome:
        return None, None
    kind = parse_outcome(outcome)
    if ws.calibration is None:  # no threshold to teach; a wrong local answer still lifts
        await _lift(ws, router, trace_id, kind)
        return None, None
    if trace_id is None:
        return None, _nothing("no `trace_id` names the route it judges (pass the route's)")
    if kind is None:
        why = f"it does not start with {OUTCOME_WORDS}"
        return None, _nothing(why + await _taken_back(ws, trace_id))
    stored = await ws.memory.trace_json(trace_id)
    trace = (json.loads(stored) if stored else {}).get("trace") or {}
    if not trace:
        return None, _nothing(f"trace {trace_id[:8]} holds no route")
    if await ws.memory.is_dry_run(trace_id):  # nobody answered: nothing to judge
        return None, _nothing("its route was a dry run (no model answered)")
    if trace.get("forced"):
        return None, _nothing("its route was forced (`force`), not decided by routing")
    if trace.get("unanswered"):  # the outcome judges an answer that never existed
        return None, _nothing("nobody answered its route (its client left, or its tier failed)")
    if trace.get("decision") not in ("local", "paid"):
        return None, _nothing(f"its route decided {trace.get('decision')!r}, no tier")
    # The outcome judges the tier that answered: a paid route the local model answered in
    # its place (the paid tier blocked, OCP_PAID_FALLBACK=local) teaches as a local answer.
    routed_paid = trace["decision"] == "paid" and trace.get("answered_tier") != Tier.LOCAL
    if not routed_paid and trace.get("answered_tier") != Tier.LOCAL:
        # the outcome judges another's answer
        by = trace.get("answered_tier") or "your agent"
        return None, _nothing(f"the local model never answered its route (answered by {by})")
    if (session := lifted_session(trace, kind)) is not None and router is not None:
        router.floors.lift(session, LIFTED_TO)
    score = trace.get("raw_score")
    if not isinstance(score, int | float):
        score = float(trace.get("complexity_score") or 0.0)
    if wanted_paid(kind, routed_paid) is None:
        answer = "a paid route" if routed_paid else "a local answer"
        why = f"{kind.value!r} on {answer} says nothing about the tier"
        return None, _nothing(why + await _taken_back(ws, trace_id))
    # The model the route was decided against; a trace from before they were recorded: the
    # local model routing uses now (the likeliest), else none.
    model = trace.get("local_model") or (router.calibration_key if router else NO_MODEL)
    learned = await asyncio.to_thread(
        functools.partial(ws.calibration.learn, trace_id=trace_id, model=str(model)),
        str(trace.get("task_type")),
        score,
        routed_paid,
        kind,
    )
    if learned is not None and learned.before != learned.after:
        logger.info("routing calibration: %s", learned)
    if learned is not None:
        return learned, None
    return None, _nothing(ws.calibration.error or "its calibration file could not be written")


async def _lift(
    ws: Workspace, router: OCPRouter | None, trace_id: str | None, kind: Outcome | None
) -> None:
    """Lift `router`'s floor of the conversation whose local answer outcome `kind` on route
    `trace_id` says was wrong, as the proxy and a restart lift it (a dry run answered
    nothing: OUTCOMES_SINCE leaves it out)."""
    if router is None or trace_id is None or await ws.memory.is_dry_run(trace_id):
        return
    stored = await ws.memory.trace_json(trace_id)
    trace = (json.loads(stored) if stored else {}).get("trace") or {}
    if (session := lifted_session(trace, kind)) is not None:
        router.floors.lift(session, LIFTED_TO)


def lifted_session(trace: Mapping[str, Any], kind: Outcome | None) -> str | None:
    """The conversation whose floor outcome `kind` on the route `trace` (its stored
    `trace`, as `route_facts` gives it) lifts to the mid tier: "that answer was wrong"
    (bad, escalated) on an answer the local model gave (routed to it, or in place of a
    blocked paid tier); else None. What `learn`
    lifts in its own process, and other processes (floors_elsewhere.py) when this one saved
    the outcome."""
    if kind not in (Outcome.BAD, Outcome.ESCALATED) or trace.get("forced"):
        return None
    if trace.get("unanswered") or trace.get("decision") not in ("local", "paid"):
        return None
    session = trace.get("session")
    return str(session) if session and trace.get("answered_tier") == Tier.LOCAL else None


def lift_floors(floors: TierFloors, rows: Iterable[tuple[int, str, str, float]]) -> int:
    """Lift `floors` as each outcome of `rows` (trace_store.OUTCOMES_SINCE's, oldest first)
    lifts its conversation's (`lifted_session`), as of when it was saved; the last note id
    read (0: none)."""
    return _lift_each(floors, _outcome_lifts(rows))


def lift_routes(floors: TierFloors, rows: Iterable[RouteRow]) -> int:
    """Lift `floors` as OCP_STICKY=upward lifted them at each route of `rows`
    (trace_store.ROUTES_SINCE's, oldest first), as of when it was stored; the last rowid
    read (0: none)."""
    return _lift_each(floors, _route_lifts(rows))


def _lift_each(floors: TierFloors, lifts: Iterable[tuple[float, str | None, Tier, int]]) -> int:
    """Lift `floors` by each of `lifts` (when, conversation or None, tier, id) in its order;
    the last id read (0: none)."""
    last = 0
    for at, session, tier, read in lifts:
        last = read
        if session is not None:
            floors.lift(session, tier, at=at)
    return last


@dataclass(frozen=True, slots=True)
class FloorsRead:
    """How far the rebuild of floors read: the last outcome's note id, and the largest
    route's rowid when it read the routes (0: none). Where a reader of what is stored later
    starts (floors_elsewhere.py)."""

    outcomes: int = 0
    routes: int = 0


async def restore_floors(memory: TraceStore, floors: TierFloors, sticky: Sticky) -> FloorsRead:
    """Lift `floors` as what was stored before this process started lifted them
    in the process that stored it, each as of its time (a floor lapses OCP_FLOOR_HOURS after
    it): the outcomes saying a local answer was wrong, and with OCP_STICKY=upward the routes'
    tiers (the tier decided, or a higher one that answered), so a restarted proxy or server
    does not send a conversation's next request back to a tier it already outgrew. Bounded
    as floors are: the latest `max_sessions` outcomes and routes name at most as many
    conversations each. `sticky`: the router's OCP_STICKY (also what `ocp-server stats`
    shows)."""
    lifts = list(_outcome_lifts(await memory.recent_outcomes(floors.max_sessions)))
    outcomes = max((note_id for *_, note_id in lifts), default=0)
    routes, routes_read = await memory.recent_routes(floors.max_sessions, floors.oldest_alive())
    if sticky is Sticky.UPWARD:
        lifts += _route_lifts(routes)
    _lift_each(floors, sorted(lifts, key=lambda lift: lift[0]))
    return FloorsRead(outcomes, routes_read)


def _outcome_lifts(
    rows: Iterable[tuple[int, str, str, float]],
) -> Iterator[tuple[float, str | None, Tier, int]]:
    """(when, the conversation lifted or None, to what, note id) of each outcome row."""
    for note_id, text, trace_json, at in rows:
        try:
            trace = json.loads(trace_json).get("trace") or {}
            when = float(at)
        except (ValueError, TypeError, AttributeError):
            trace, when = None, 0.0  # lifts nothing
        session = (
            lifted_session(trace, parse_outcome(str(text))) if isinstance(trace, dict) else None
        )
        yield when, session, LIFTED_TO, int(note_id)


def _route_lifts(rows: Iterable[RouteRow]) -> Iterator[tuple[float, str | None, Tier, int]]:
    """(when, the conversation or None, the highest tier it reached, rowid) of each stored
    route: OCP_STICKY=upward raised its conversation's floor so when routing decided it (not
    forced)."""
    for rowid, at, tier, answered, facts in rows:
        session: str | None = None
        try:
            reached = max((Tier(t) for t in (tier, answered) if t), key=lambda t: t.rank)
            said, forced = json.loads(facts) if facts else (None, None)
            when = float(at)
        except (ValueError, TypeError):
            reached, when = Tier.LOCAL, 0.0  # lifts nothing
        else:
            session = str(said) if said and not forced else None
        yield when, session, reached, int(rowid)


async def _taken_back(ws: Workspace, trace_id: str) -> str:
    """Take back the point an earlier outcome on route `trace_id` taught (the latest outcome
    is in force, and this one says nothing about the tier); the words saying so, or ""."""
    if ws.calibration is None or not await asyncio.to_thread(ws.calibration.take_back, trace_id):
        return ""
    return "; the point its route's earlier outcome taught is taken back (the latest is in force)"


def _nothing(why: str) -> str:
    return f"the outcome taught routing nothing: {why}"


def unlearned(
    ws: Workspace, trace_id: str | None, outcome: str | None, why: str | None
) -> str | None:
    """The save's warning when an outcome on a route taught nothing because routing's
    settings are invalid (`why`, naming the one), else None."""
    if why and trace_id and ws.calibration is None and parse_outcome(outcome or ""):
        return f"routing did not learn from the outcome: {why}"
    return None
