"""What the four tools do, independent of the MCP plumbing (server.py wires them up).

`AppState` lives for one server run: it is one session. It opens each workspace's index and
memory lazily and keeps the index fresh in the background (the first build never delays
`initialize` or a tool call: searches answer with what is indexed so far and say so).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
from pydantic import BaseModel

from ocp_router import (
    AgentPayload,
    Decision,
    GenerateRequest,
    OCPRouter,
    PaidContext,
    PaidPrompt,
    RouteResult,
    RoutingFailed,
    Tier,
    parse_payload,
)
from ocp_router._tokens import estimate_tokens
from ocp_router.boundary import redact_all
from ocp_router.calibration import (
    CalibrationFile,
    Learned,
    Outcome,
    calibration_path,
    parse_outcome,
)
from ocp_router.config import RouterSettings, make_router
from ocp_router.redact import RedactionResult, redact
from ocp_server import wire
from ocp_server.brief import (
    SECTION_NAMES,
    Brief,
    CitationState,
    DecisionBrief,
    NoteBrief,
    SessionBrief,
    StaleBrief,
    TraceBrief,
)
from ocp_server.db import connect
from ocp_server.index.models import SearchResponse
from ocp_server.index.workspace import WorkspaceIndex, default_db_path
from ocp_server.memory import (
    AttemptRecord,
    DecisionIn,
    MemoryStore,
    NoteIn,
    TraceRecord,
)
from ocp_server.prompt import EnrichedPrompt, build_prompt
from ocp_server.settings import ServerSettings, workspace_scope

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


@dataclass(slots=True)
class Workspace:
    """One workspace's open index and memory, and the task keeping the index fresh."""

    path: Path
    index: WorkspaceIndex
    memory: MemoryStore
    calibration: CalibrationFile | None = None  # routing thresholds learned from outcomes
    watcher: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None


@dataclass(slots=True)
class WorkspaceContext:
    """The router's ContextProvider: workspace code and the session brief for a paid prompt."""

    state: AppState
    ws: Workspace | None
    budget: int
    path_glob: str | None = None  # the sub-folder a `workspace` argument named

    async def paid_context(self, payload: AgentPayload) -> PaidContext:
        enriched = await self.state.enriched_prompt(
            self.ws, payload.user_turn, self.budget, self.path_glob
        )
        return PaidContext(
            enriched.text, enriched.citations, enriched.context_tokens + enriched.brief_tokens
        )


class WorkspaceLedger:
    """The daily budget's ledger: what the trace stores say was spent today (every process's
    routes), plus what this process spent that is not stored yet: a trace is stored after its
    call returns, and a route without a workspace is never stored."""

    def __init__(self, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.state: AppState | None = None
        self._today = today
        self._day = today()
        self._unrecorded = 0.0

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._unrecorded = today, 0.0

    async def spent_today(self) -> float:
        stored = await self.state.spent_today() if self.state is not None else 0.0
        self._roll()
        return stored + self._unrecorded

    async def add(self, usd: float) -> None:
        self._roll()
        self._unrecorded += usd

    def recorded(self, usd: float) -> None:
        """`usd` of this process's spend is now in a trace store."""
        self._roll()
        self._unrecorded = max(0.0, self._unrecorded - usd)


class RouteFailure(Exception):
    """No model could answer a route; `result` holds the trace and every attempt."""

    def __init__(self, result: wire.RouteResult) -> None:
        super().__init__(result.note)
        self.result = result


class AppState:
    def __init__(
        self,
        settings: ServerSettings,
        router: OCPRouter,
        router_settings: RouterSettings,
        ledger: WorkspaceLedger | None = None,
    ) -> None:
        self.settings = settings
        self.router = router
        self.router_settings = router_settings
        self.ledger = ledger
        self.session_id = uuid.uuid4().hex
        self._workspaces: dict[Path, Workspace] = {}
        self._open_lock = asyncio.Lock()
        self._restore_overhead: int | None = None
        self._closed = False

    @classmethod
    async def create(cls, settings: ServerSettings) -> AppState:
        """Raises ConfigError naming the variable when the environment is misconfigured."""
        router_settings = RouterSettings.from_env()
        ledger = WorkspaceLedger()
        router = await make_router(settings=router_settings, ledger=ledger)
        state = cls(settings, router, router_settings, ledger)
        ledger.state = state
        return state

    async def spent_today(self) -> float:
        """Paid spend since local midnight, over every open workspace's trace store."""
        midnight = dt.datetime.combine(dt.date.today(), dt.time()).timestamp()
        total = 0.0
        for ws in list(self._workspaces.values()):
            total += await ws.memory.spent_since(midnight)
        return total

    async def aclose(self) -> None:
        """Stop indexing and close every database connection. Runs to the end even when the
        caller is being cancelled: a connection left open keeps its thread, and with it the
        whole process, alive."""
        with anyio.CancelScope(shield=True):
            workspaces = list(self._workspaces.values())
            self._workspaces.clear()
            self._closed = True
            for ws in workspaces:
                _stop(ws)
            with anyio.move_on_after(1.0):  # the session's end is a nicety; closing is not
                for ws in workspaces:
                    try:
                        await ws.memory.end_session(self.session_id)
                    except Exception:  # noqa: BLE001 - best effort at shutdown
                        logger.debug("could not close the session", exc_info=True)
            for ws in workspaces:
                await _close(ws)
            await self.router.aclose()

    async def workspace(self, path: Path, *, watch: bool = True) -> Workspace:
        """The open workspace for `path`, opening it (and starting its indexer) on first use.
        Opening runs to the end even when the caller is cancelled, and what it opened is then
        closed again: no database connection is left open behind it."""
        async with self._open_lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            if path in self._workspaces:
                return self._workspaces[path]
            opening = asyncio.ensure_future(self._open(path, watch))
            try:
                ws = await asyncio.shield(opening)
            except asyncio.CancelledError:
                with anyio.CancelScope(shield=True):
                    try:
                        opened = await opening
                    except Exception:  # noqa: BLE001 - it failed to open: nothing to close
                        pass
                    else:
                        _stop(opened)
                        await _close(opened)
                raise
            self._workspaces[path] = ws
            return ws

    async def _open(self, path: Path, watch: bool) -> Workspace:
        db_path = self.settings.db_path or default_db_path(path)
        index = await WorkspaceIndex.open(
            path,
            db_path,
            max_file_bytes=self.settings.max_file_bytes,
            history_commits=self.settings.history_commits,
        )
        try:
            # Memory has its own connection: the indexer runs transactions on the index's.
            db = await connect(db_path)
            try:
                memory = MemoryStore(
                    db,
                    clock=self.settings.clock,
                    workspace=path,
                    ttl_days=self.settings.memory_ttl_days,
                )
                await memory.start_session(str(path), self.session_id)
            except BaseException:
                await db.close()
                raise
        except BaseException:
            await index.close()
            raise
        calibration = CalibrationFile(
            calibration_path(db_path.parent), self.router_settings.route_threshold
        )
        ws = Workspace(path, index, memory, calibration)
        if watch:
            ws.stop = asyncio.Event()
            ws.watcher = asyncio.create_task(self._keep_fresh(ws), name=f"index {path}")
        return ws

    async def _keep_fresh(self, ws: Workspace) -> None:
        assert ws.stop is not None
        try:
            await ws.index.watch(ws.stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the index watcher for %s stopped", ws.path)

    # ---- ocp_context_search -----------------------------------------------------------
    async def search(self, ws: Workspace, args: wire.SearchArgs) -> wire.SearchResult:
        waited = await self._first_index(ws)
        response = await ws.index.search(
            search_query(args.query),
            k=args.k,
            path_glob=_scoped_glob(workspace_scope(ws.path, args.workspace), args.path_glob),
            language=args.language,
            max_tokens=args.max_tokens or self.settings.search_tokens,
            refresh=not ws.index.building,
            group_by_file=args.group_by == "file",
        )
        result = _search_result(response, waited)
        if args.group_by == "file":
            result = _grouped(result)
        return result

    async def _first_index(self, ws: Workspace) -> float | None:
        """Wait (up to OCP_FIRST_INDEX_WAIT) for a workspace's first index to finish, so a
        one-call client does not get the empty answer of an index not built yet. The seconds
        waited when the index is still not complete, else None."""
        if await ws.index.built():
            return None
        started = time.perf_counter()
        if await ws.index.wait_built(self.settings.first_index_wait):
            return None
        return time.perf_counter() - started

    # ---- ocp_session_restore ----------------------------------------------------------
    async def restore(self, ws: Workspace, args: wire.RestoreArgs) -> wire.RestoreResult:
        """The brief, sized so that the whole result (the brief and the same items in
        structured form, which is all some clients show the model) fits `max_tokens`."""
        if self._restore_overhead is None:
            # The result's fixed part, with every section's left-out count at five digits.
            empty = Brief(
                (), (), {}, (), (), (), "", 0, False,
                omitted=dict.fromkeys(SECTION_NAMES, 99_999), stale_count=99_999, expired=99_999,
            )  # fmt: skip
            self._restore_overhead = estimate_tokens(self._restore_result(empty).model_dump_json())
        overhead = self._restore_overhead
        budget = args.max_tokens
        for _ in range(4):
            brief = await ws.memory.restore(
                query=args.query,
                max_tokens=budget,
                stale=args.stale,
                value_cost=_value_tokens,
                overhead=overhead,
            )
            # Redacted before it is measured: a marker may be longer than what it hides.
            out = _redacted_result(self._restore_result(brief))
            for _ in range(3):  # `tokens` counts itself: settle on a number that holds
                tokens = estimate_tokens(out.model_dump_json())
                if tokens == out.tokens:
                    break
                out = out.model_copy(update={"tokens": tokens})
            if out.tokens <= args.max_tokens:
                return out
            budget -= tokens - args.max_tokens  # estimates of the parts ran short: refit
        raise RuntimeError(f"the brief could not be fitted into max_tokens={args.max_tokens}")

    def _restore_result(self, brief: Brief) -> wire.RestoreResult:
        return wire.RestoreResult(
            brief=brief.text,
            decisions=[_decision_out(d) for d in brief.decisions],
            stale=[_stale_out(s) for s in brief.stale],
            stale_count=brief.stale_count,
            state=dict(brief.state),
            open_items=[_open_item_out(o) for o in brief.open_items],
            notes=[_note_out(n) for n in brief.notes],
            sessions=[_session_out(s) for s in brief.sessions],
            traces=[_trace_out(t) for t in brief.traces],
            omitted=brief.omitted,
            expired=brief.expired,
            tokens=brief.tokens,
            truncated=brief.truncated,
            session_id=self.session_id,
        )

    # ---- ocp_result_save --------------------------------------------------------------
    async def _learn(self, ws: Workspace, trace_id: str, outcome: str | None) -> Learned | None:
        """Feed an outcome on a routed request to the workspace's routing calibration, and on
        "that answer was wrong" for a local answer, lift the conversation to a paid tier."""
        kind = parse_outcome(outcome or "")
        if kind is None or ws.calibration is None:
            return None
        stored = await ws.memory.trace_json(trace_id)
        trace = (json.loads(stored) if stored else {}).get("trace") or {}
        if not trace or trace.get("forced") or trace.get("decision") not in ("local", "paid"):
            return None
        routed_paid = trace["decision"] == "paid"
        if kind in (Outcome.BAD, Outcome.ESCALATED) and not routed_paid and trace.get("session"):
            self.router.floors.lift(str(trace["session"]), Tier.MID)
        score = trace.get("raw_score")
        if not isinstance(score, int | float):
            score = float(trace.get("complexity_score") or 0.0)
        learned = await asyncio.to_thread(
            ws.calibration.learn, str(trace.get("task_type")), score, routed_paid, kind
        )
        if learned is not None and learned.before != learned.after:
            logger.info("routing calibration: %s", learned)
        return learned

    async def save(self, ws: Workspace, args: wire.SaveArgs) -> wire.SaveResult:
        session = args.session_id or self.session_id
        if args.session_id:
            await ws.memory.start_session(str(ws.path), session)
        # The short trace id shown everywhere (8 characters) names a trace as well as the
        # whole id, when it is unambiguous.
        trace_id = await ws.memory.full_trace_id(args.trace_id) if args.trace_id else None
        result = await ws.memory.save(
            session,
            trace_id=trace_id,
            outcome=args.outcome,
            summary=args.summary,
            decisions=[
                DecisionIn(d.title, d.decision, d.rationale, d.supersedes, tuple(d.citations))
                for d in args.decisions
            ],
            state=args.state,
            notes=[
                n if isinstance(n, str) else NoteIn(n.text, tuple(n.citations)) for n in args.notes
            ],
            open_items=args.open_items,
            resolve=args.resolve,
            forget_decisions=args.forget_decisions,
            forget_notes=args.forget_notes,
        )
        learned = await self._learn(ws, trace_id, args.outcome) if trace_id else None
        merged = len(result.merged)
        saved = {
            "decisions": len(result.decision_ids),
            "superseded": len(result.superseded),
            "state": len(result.state),
            "notes": len(result.note_ids),
            "open_items": len(result.open_item_ids),
            "outcome": int(bool(args.outcome)),
            "summary": int(bool(args.summary)),
            "citations": len(result.citations),
            "merged": merged,
            "resolved": len(result.resolved),
            "forgotten": len(result.forgotten),
            "calibration": int(learned is not None),
        }
        return wire.SaveResult(
            session_id=session,
            saved=saved,
            decision_ids=list(result.decision_ids),
            note_ids=list(result.note_ids),
            open_item_ids=list(result.open_item_ids),
            citations=[
                wire.SavedCitationOut(item=c.field, citation=c.citation, symbol=c.symbol)
                for c in result.citations
            ],
            suggested=[
                wire.SuggestionOut(item=s.field, citation=s.citation, symbol=s.symbol, kind=s.kind)
                for s in result.suggested
            ],
            merged=[
                wire.MergeOut(item=m.field, into=m.into, alike=round(m.alike, 3))
                for m in result.merged
            ],
            forgotten=list(result.forgotten),
            warnings=list(result.warnings),
        )

    # ---- ocp_model_route --------------------------------------------------------------
    async def enriched_prompt(
        self, ws: Workspace | None, request: str, budget: int, path_glob: str | None = None
    ) -> EnrichedPrompt:
        """Workspace code and the session brief around `request`, within `budget` tokens."""
        if ws is None or budget <= 0:
            return build_prompt(request, (), None)
        brief_budget = max(budget // 4, 100)
        await self._first_index(ws)
        response = await ws.index.search(
            search_query(request),
            k=12,
            path_glob=path_glob,
            max_tokens=max(budget - brief_budget, 100),
            refresh=not ws.index.building,
        )
        brief = await ws.memory.restore(query=search_query(request), max_tokens=brief_budget)
        remembered = (
            brief.decisions
            or brief.open_items
            or brief.state
            or brief.sessions
            or brief.notes
            or brief.traces
        )
        return build_prompt(request, response.results, brief.text if remembered else None)

    async def route(self, ws: Workspace | None, args: wire.RouteArgs) -> wire.RouteResult:
        """Decide, answer and record one route. Raises RouteFailure (after recording it)
        when no model could answer."""
        router = self.router
        source: str | list[dict[str, Any]] = (
            args.messages if args.messages is not None else (args.request or "")
        )
        payload = await _off_loop(
            _payload_chars(args), parse_payload, source, system=args.system, tools=args.tools
        )
        # Sticky sessions need a conversation: the caller's session id, else the router keys
        # the conversation by its first user message. (The server run is not a conversation:
        # an IDE sends every chat's routes through one server.)
        decision = await router.plan(
            payload,
            force=args.force,
            model=args.model,
            session=args.session_id,
            calibration=ws.calibration.current() if ws and ws.calibration else None,
        )
        request = payload.user_turn
        budget = (
            self.settings.context_tokens
            if args.max_context_tokens is None
            else args.max_context_tokens
        )
        # The router asks for the workspace context when, and only when, an attempt is paid
        # (a local route that escalates included), and redacts it with the rest.
        scope = workspace_scope(ws.path, args.workspace) if ws is not None else None
        context = WorkspaceContext(self, ws, budget, _scoped_glob(scope, None))
        paid = decision.tier.paid
        shown: PaidPrompt | None = None  # the paid prompt handed back instead of sent
        result: RouteResult | None = None
        failure: RoutingFailed | None = None
        answered_by: Literal["local", "paid", "agent", "none"] = "none"
        if args.dry_run:
            note = "dry run: decided and built the prompt; no model called"
            if paid:
                shown = await router.paid_prompt(payload, context=context)
        elif paid and router.paid is None:
            answered_by = "agent"
            note = (
                "No paid backend is configured (no API key), and you are already a strong "
                "model: answer the prompt below yourself. Nothing was sent anywhere."
            )
            shown = await router.paid_prompt(payload, context=context)
        else:
            try:
                result = await router.execute(decision, payload, context=context)
            except RoutingFailed as exc:
                failure = exc
            if result is not None:
                answered_by = "paid" if result.tier.paid else "local"
                note = f"answered by the {result.tier} model {result.model}"
                if result.escalated:
                    note += " after escalating"
                elif result.fell_back:
                    note += " after a fallback"
            else:
                note = f"no model could answer: {failure}"
        sent = shown or (result.paid if result else failure.paid if failure else None)
        # What goes back to the agent reaches its cloud model too: redacted like a paid prompt.
        prompt: str | None = None
        hidden = 0
        if answered_by in ("agent", "none") and not failure:
            if shown is not None:
                prompt, hidden = shown.prompt, shown.prompt_redactions
            else:  # a dry run of a local route: the raw request, as the local model gets it
                local = redact(request)
                prompt, hidden = local.text, len(local.redactions)
        answer = redact(result.text) if result else None
        note_out = redact(note)
        hidden += len(note_out.redactions) + (len(answer.redactions) if answer else 0)
        enriched = sent.context if sent is not None else None
        out = wire.RouteResult(
            answer=answer.text if answer else None,
            answered_by=answered_by,
            prompt=prompt,
            note=note_out.text,
            trace=self._trace(decision, result, failure, sent, enriched, answered_by, request),
            redacted=hidden,
        )
        if ws is not None:
            await self._record(ws, args, out, result, failure, request)
        if failure is not None:
            raise RouteFailure(out)
        return out

    def _trace(
        self,
        decision: Decision,
        result: RouteResult | None,
        failure: RoutingFailed | None,
        sent: PaidPrompt | None,
        context: PaidContext | None,
        answered_by: Literal["local", "paid", "agent", "none"],
        request: str,
    ) -> wire.RouteTrace:
        router = self.router
        a = decision.assessment
        c = a.classify
        verdict = decision.verdict
        attempts = result.attempts if result else failure.attempts if failure else ()
        estimate = result.estimated_usd if result else None
        paid_text = sent.prompt if sent is not None else request
        if result is None and decision.tier.paid:
            estimate = router.estimate(
                decision.model,
                GenerateRequest(paid_text, max_tokens=router.paid_max_tokens),
            )
        return wire.RouteTrace(
            trace_id=result.trace_id if result else failure.trace_id if failure else new_id(),
            decision=decision.route.value,
            tier=decision.tier.value,
            answered_tier=result.tier.value if result else None,
            decided_by=decision.reason,
            phase=decision.phase.value,
            forced=decision.forced,
            band=a.band.value,
            band_confidence=a.confidence,
            reasons=[*a.forced, *(str(s) for s in a.signals)],
            phase2=(
                wire.Phase2Out(
                    tier=verdict.tier.value,
                    reason=verdict.reason,
                    duration_ms=verdict.duration_ms,
                    fallback=verdict.fallback,
                )
                if verdict
                else None
            ),
            pin_state=decision.pin_state.value,
            route_to=answered_by,
            escalated=bool(result and result.escalated),
            fell_back=bool(result and result.fell_back and not result.escalated),
            complexity_score=c.complexity_score,
            raw_score=a.raw_score,
            session=decision.session,
            threshold=c.threshold,
            confidence=c.confidence,
            task_type=c.task_type.value,
            signals=[str(s) for s in c.signals if s.weight],
            turns=a.turns,
            context_chars=a.total_chars,
            model=result.model if result else decision.model,
            backend=result.backend if result else None,
            prompt_tokens=result.prompt_tokens if result else estimate_tokens(paid_text),
            completion_tokens=result.completion_tokens if result else 0,
            duration_ms=result.duration_ms if result else 0.0,
            estimated_cost_usd=estimate,
            cost_usd=result.cost_usd if result else 0.0,
            counterfactual_usd=result.counterfactual_usd if result else None,
            attempts=[
                wire.AttemptOut(
                    tier=t.tier.value,
                    backend=t.backend,
                    model=t.model,
                    outcome=t.outcome,
                    duration_ms=t.duration_ms,
                    error=t.error,
                    error_type=t.error_type,
                )
                for t in attempts
            ],
            notes=list(result.notes if result else failure.notes if failure else ()),
            context_citations=list(context.citations if context else ()),
            context_tokens=context.context_tokens if context else 0,
            redactions=dict(sent.redactions if sent else {}),
        )

    async def _record(
        self,
        ws: Workspace,
        args: wire.RouteArgs,
        out: wire.RouteResult,
        result: RouteResult | None,
        failure: RoutingFailed | None,
        request: str,
    ) -> None:
        t = out.trace
        session = args.session_id or self.session_id
        if args.session_id:
            await ws.memory.start_session(str(ws.path), session)
        attempts = result.attempts if result else failure.attempts if failure else ()
        request = request or f"({t.turns} messages)"
        await ws.memory.record_trace(
            session,
            TraceRecord(
                id=t.trace_id,
                created_at=None,
                request=redact(request).text[:2000],
                route_to=t.route_to,
                decision=t.decision,
                decided_by=t.decided_by,
                model=t.model or "",
                backend=t.backend or "",
                answered_by=t.route_to if t.route_to in ("local", "paid", "agent") else None,
                task_type=t.task_type,
                complexity=t.complexity_score,
                prompt_tokens=t.prompt_tokens,
                completion_tokens=t.completion_tokens,
                duration_ms=t.duration_ms,
                cost_usd=t.cost_usd,
                counterfactual_usd=t.counterfactual_usd,
                trace_json=json.dumps(out.model_dump(mode="json", exclude={"answer", "prompt"})),
                tier=t.tier,
                answered_tier=t.answered_tier,
                phase=t.phase,
                band=t.band,
                phase2=_phase2_kind(t.phase2, t.phase),
                pin_state=t.pin_state,
                escalated=t.escalated,
                fell_back=t.fell_back,
                budget_note=next((n for n in t.notes if n.startswith("budget")), None),
                estimated_usd=t.estimated_cost_usd,
                counterfactual_model=self.router.counterfactual_model,
                attempts=tuple(
                    AttemptRecord(
                        a.tier.value, a.backend, a.model, a.outcome, a.duration_ms, a.error_type
                    )
                    for a in attempts
                ),
                dry_run=args.dry_run,
            ),
        )
        if self.ledger is not None and t.cost_usd and t.route_to == "paid":
            self.ledger.recorded(t.cost_usd)


def new_id() -> str:
    return uuid.uuid4().hex


# ---- restore's items on the wire -------------------------------------------------------
def _citation_out(c: CitationState) -> wire.CitationOut:
    return wire.CitationOut(
        citation=c.citation,
        symbol=c.symbol,
        status=c.status,
        moved_from=c.moved_from,
        change=c.change if c.status == "stale" else None,
    )


def _decision_out(d: DecisionBrief) -> wire.DecisionOut:
    return wire.DecisionOut(
        id=d.id,
        title=d.title,
        decision=d.decision,
        rationale=d.rationale,
        decided_at=_iso(d.created_at) or "",
        verified=d.verified,
        citations=[_citation_out(c) for c in d.citations],
    )


def _note_out(n: NoteBrief) -> wire.NoteOut:
    return wire.NoteOut(
        id=n.id,
        text=n.text,
        noted_at=_iso(n.created_at) or "",
        verified=n.verified,
        citations=[_citation_out(c) for c in n.citations],
    )


def _open_item_out(n: NoteBrief) -> wire.OpenItemOut:
    return wire.OpenItemOut(id=n.id, text=n.text)


def _stale_out(s: StaleBrief) -> wire.StaleOut:
    return wire.StaleOut(
        kind=s.kind,
        id=s.id,
        title=s.title,
        text=s.text,
        citations=[_citation_out(c) for c in s.citations],
    )


def _session_out(s: SessionBrief) -> wire.SessionSummary:
    return wire.SessionSummary(
        session_id=s.id, started_at=_iso(s.started_at) or "", summary=s.summary
    )


def _trace_out(t: TraceBrief) -> wire.TraceSummary:
    return wire.TraceSummary(
        trace_id=t.id,
        at=_iso(t.created_at) or "",
        request=t.request,
        route_to=t.route_to,
        model=t.model,
        outcome=t.outcome,
    )


def _value_tokens(value: object) -> int:
    """What one brief item adds to the structured result, in tokens (and a separator).
    Built without validation: it is only measured, and the fields are ours."""
    out: BaseModel | None = None
    if isinstance(value, DecisionBrief):
        out = wire.DecisionOut.model_construct(
            id=value.id,
            title=value.title,
            decision=value.decision,
            rationale=value.rationale,
            decided_at=_iso(value.created_at) or "",
            verified=value.verified,
            citations=[_citation_construct(c) for c in value.citations],
        )
    elif isinstance(value, StaleBrief):
        out = wire.StaleOut.model_construct(
            kind=value.kind,
            id=value.id,
            title=value.title,
            text=value.text,
            citations=[_citation_construct(c) for c in value.citations],
        )
    elif isinstance(value, NoteBrief) and value.kind == "open_item":
        out = wire.OpenItemOut.model_construct(id=value.id, text=value.text)
    elif isinstance(value, NoteBrief):
        out = wire.NoteOut.model_construct(
            id=value.id,
            text=value.text,
            noted_at=_iso(value.created_at) or "",
            verified=value.verified,
            citations=[_citation_construct(c) for c in value.citations],
        )
    elif isinstance(value, SessionBrief | TraceBrief):
        out = _session_out(value) if isinstance(value, SessionBrief) else _trace_out(value)
    if out is not None:
        return estimate_tokens(out.model_dump_json()) + 1
    key, text = value if isinstance(value, tuple) else ("", "")  # a state key and its value
    return estimate_tokens(json.dumps({key: text}, ensure_ascii=False)) + 1


def _citation_construct(c: CitationState) -> wire.CitationOut:
    return wire.CitationOut.model_construct(
        citation=c.citation,
        symbol=c.symbol,
        status=c.status,
        moved_from=c.moved_from,
        change=c.change if c.status == "stale" else None,
    )


def _stop(ws: Workspace) -> None:
    if ws.stop is not None:
        ws.stop.set()
    if ws.watcher is not None:
        ws.watcher.cancel()


async def _close(ws: Workspace) -> None:
    """Close a stopped workspace's connections (callers shield this from cancellation)."""
    if ws.watcher is not None:
        await asyncio.wait([ws.watcher], timeout=2.0)
    try:
        await ws.memory.db.close()
    finally:
        await ws.index.close()


def _phase2_kind(phase2: wire.Phase2Out | None, phase: str) -> str | None:
    if phase == "cache":
        return "cache"
    if phase2 is None:
        return None
    return "fallback" if phase2.fallback else "llm"


_Out = TypeVar("_Out", bound=BaseModel)


def _redacted_result(out: _Out) -> _Out:
    """`out` with every string in it redacted, and `redacted` set to how many distinct secret
    values were hidden (the brief repeats the decisions: one value, counted once)."""
    hidden: set[str] = set()
    update = {name: _redacted_value(getattr(out, name), hidden) for name in type(out).model_fields}
    update["redacted"] = len(hidden)
    return out.model_copy(update=update)


def _redacted_value(value: Any, hidden: set[str], key: str | None = None) -> Any:
    if isinstance(value, str):
        # A map's key is the value's context: {"db_password": "hunter2"} reads as an assignment.
        prefix = f"{key}: " if key else ""
        text = prefix + value
        r = redact(text)
        hidden.update(text[x.start : x.end] for x in r.redactions)
        if not r.redactions:
            return value
        if r.text.startswith(prefix):
            return r.text[len(prefix) :]
        return redact(value).text
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return value.model_copy(
            update={name: _redacted_value(getattr(value, name), hidden) for name in fields}
        )
    if isinstance(value, list):
        return [_redacted_value(v, hidden) for v in value]
    if isinstance(value, dict):
        return {k: _redacted_value(v, hidden, str(k)) for k, v in value.items()}
    return value


def _scoped_glob(scope: str | None, path_glob: str | None) -> str | None:
    """`path_glob` inside the sub-folder a `workspace` argument named (GLOB-escaped)."""
    if scope is None:
        return path_glob
    folder = re.sub(r"([*?\[])", r"[\1]", scope)
    return f"{folder}/{path_glob or '*'}"


def _values(text: str, result: RedactionResult) -> list[str]:
    return [text[r.start : r.end] for r in result.redactions if r.end > r.start]


def _grouped(result: wire.SearchResult) -> wire.SearchResult:
    """The hits (which come file by file, best file first) as files with their chunks."""
    files: dict[str, wire.FileHits] = {}
    for hit in result.results:
        group = files.get(hit.path)
        if group is None:
            group = files[hit.path] = wire.FileHits(
                path=hit.path, language=hit.language, score=hit.score, hits=[]
            )
        group.hits.append(hit)
    return result.model_copy(update={"results": [], "files": list(files.values())})


# What a search reads of a query: query_terms reads 4,000 characters, and no identifier or
# file name is longer than MAX_TOKEN_CHARS. Bounding both before the search's regexes keeps a
# pasted 400 KB request (or one unbroken 40,000-character token) from stalling the server.
QUERY_CHARS = 4_000
MAX_TOKEN_CHARS = 256


def search_query(text: str) -> str:
    """`text` as a search reads it: its first QUERY_CHARS characters, long tokens cut (the
    words are what a search uses; the spacing between them is not)."""
    head = text[:QUERY_CHARS]
    if all(len(token) <= MAX_TOKEN_CHARS for token in head.split()):
        return head
    return " ".join(token[:MAX_TOKEN_CHARS] for token in head.split())


# Payloads above this many characters are parsed and judged in a worker thread, so a huge
# request does not hold up other tools' calls on the event loop.
OFF_LOOP_CHARS = 50_000


def _payload_chars(args: wire.RouteArgs) -> int:
    if args.messages is None and args.tools is None:
        return len(args.request or "") + len(args.system or "")
    return wire.payload_chars(args.messages, args.system, args.tools)


async def _off_loop(size: int, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if size < OFF_LOOP_CHARS:
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


def _search_result(response: SearchResponse, waited: float | None = None) -> wire.SearchResult:
    status = response.status
    note = response.note
    if status.building or waited is not None:
        waited_text = f"; waited {waited:.1f}s for it" if waited else ""
        note = (
            f"the first index of this workspace is still being built ({status.files} files "
            f"so far{waited_text}): results may be incomplete; ask again in a few seconds"
        )
    # One pass over the query and every chunk: a secret found in a chunk is hidden in the
    # query echoed back too (an agent that searched for a value learns nothing new).
    query, *texts = redact_all([response.query, *(r.text for r in response.results)])
    hits = list(zip(response.results, texts, strict=True))
    hidden = {v.lower() for r, red in hits for v in _values(r.text, red)}
    return wire.SearchResult(
        query=query.text,
        results=[
            wire.SearchHit(
                citation=r.citation,
                path=r.path,
                start_line=r.start_line,
                end_line=r.end_line,
                symbol=r.symbol,
                kind=r.kind,
                scope=r.scope,
                language=r.language,
                score=r.score,
                matched_terms=[
                    t for t in r.matched_terms if not any(t.lower() in v for v in hidden)
                ],
                truncated=r.truncated,
                text=red.text,
                redactions=len(red.redactions),
            )
            for r, red in hits
        ],
        index=wire.IndexState(
            workspace=status.workspace,
            files=status.files,
            chunks=status.chunks,
            last_update=_iso(status.last_update),
            building=status.building,
            stale=status.stale,
            indexer=status.indexer,
            watcher=status.watcher,
            watcher_error=status.watcher_error,
        ),
        note=note,
        redacted=sum(len(red.redactions) for _, red in hits),
    )
