"""What the four tools do, independent of the MCP plumbing (server.py wires them up).

`AppState` lives for one server run: it is one session. It opens each workspace's index and
memory lazily and keeps the index fresh in the background (the first build never delays
`initialize` or a tool call: searches answer with what is indexed so far and say so).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ocp_router import (
    AgentPayload,
    Decision,
    GenerateRequest,
    MemoryLedger,
    OCPRouter,
    RouteResult,
    RoutingFailed,
    parse_payload,
)
from ocp_router._tokens import estimate_tokens
from ocp_router.config import RouterSettings, make_router
from ocp_router.redact import redact
from ocp_server import wire
from ocp_server.db import connect
from ocp_server.index.models import SearchResponse
from ocp_server.index.workspace import WorkspaceIndex, default_db_path
from ocp_server.memory import AttemptRecord, DecisionIn, MemoryStore, TraceRecord
from ocp_server.prompt import EnrichedPrompt, build_prompt
from ocp_server.settings import ServerSettings

logger = logging.getLogger(__name__)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


@dataclass(slots=True)
class Workspace:
    """One workspace's open index and memory, and the task keeping the index fresh."""

    path: Path
    index: WorkspaceIndex
    memory: MemoryStore
    watcher: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None


class WorkspaceLedger:
    """The daily budget's ledger: what the trace stores say was spent today, or what this
    process spent, whichever is more (a trace is stored only after its call returns)."""

    def __init__(self) -> None:
        self.state: AppState | None = None
        self._process = MemoryLedger()

    async def spent_today(self) -> float:
        stored = await self.state.spent_today() if self.state is not None else 0.0
        return max(stored, await self._process.spent_today())

    async def add(self, usd: float) -> None:
        await self._process.add(usd)


class AppState:
    def __init__(
        self, settings: ServerSettings, router: OCPRouter, router_settings: RouterSettings
    ) -> None:
        self.settings = settings
        self.router = router
        self.router_settings = router_settings
        self.session_id = uuid.uuid4().hex
        self._workspaces: dict[Path, Workspace] = {}
        self._open_lock = asyncio.Lock()

    @classmethod
    async def create(cls, settings: ServerSettings) -> AppState:
        router_settings = RouterSettings.from_env()
        ledger = WorkspaceLedger()
        state = cls(
            settings, await make_router(settings=router_settings, ledger=ledger), router_settings
        )
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
        for ws in self._workspaces.values():
            if ws.stop is not None:
                ws.stop.set()
            if ws.watcher is not None:
                ws.watcher.cancel()
                try:
                    await ws.watcher
                except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                    pass
            try:
                await ws.memory.end_session(self.session_id)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                logger.debug("could not close the session", exc_info=True)
            await ws.memory.db.close()
            await ws.index.close()
        self._workspaces.clear()
        await self.router.aclose()

    async def workspace(self, path: Path, *, watch: bool = True) -> Workspace:
        """The open workspace for `path`, opening it (and starting its indexer) on first use."""
        async with self._open_lock:
            if path in self._workspaces:
                return self._workspaces[path]
            db_path = self.settings.db_path or default_db_path(path)
            index = await WorkspaceIndex.open(
                path, db_path, max_file_bytes=self.settings.max_file_bytes
            )
            # Memory has its own connection: the indexer runs transactions on the index's.
            memory = MemoryStore(await connect(db_path))
            await memory.start_session(str(path), self.session_id)
            ws = Workspace(path, index, memory)
            if watch:
                ws.stop = asyncio.Event()
                ws.watcher = asyncio.create_task(self._keep_fresh(ws), name=f"index {path}")
            self._workspaces[path] = ws
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
        response = await ws.index.search(
            args.query,
            k=args.k,
            path_glob=args.path_glob,
            language=args.language,
            max_tokens=args.max_tokens or self.settings.search_tokens,
            refresh=not ws.index.building,
        )
        return _search_result(response)

    # ---- ocp_session_restore ----------------------------------------------------------
    async def restore(self, ws: Workspace, args: wire.RestoreArgs) -> wire.RestoreResult:
        brief = await ws.memory.restore(query=args.query, max_tokens=args.max_tokens)
        return wire.RestoreResult(
            brief=brief.text,
            decisions=[
                wire.DecisionOut(
                    id=d.id,
                    title=d.title,
                    decision=d.decision,
                    rationale=d.rationale,
                    decided_at=_iso(d.created_at) or "",
                )
                for d in brief.decisions
            ],
            state=dict(brief.state),
            open_items=[o.text for o in brief.open_items],
            notes=[n.text for n in brief.notes],
            sessions=[
                wire.SessionSummary(
                    session_id=s.id, started_at=_iso(s.started_at) or "", summary=s.summary
                )
                for s in brief.sessions
            ],
            traces=[
                wire.TraceSummary(
                    trace_id=t.id,
                    at=_iso(t.created_at) or "",
                    request=t.request,
                    route_to=t.route_to,
                    model=t.model,
                    outcome=t.outcome,
                )
                for t in brief.traces
            ],
            tokens=brief.tokens,
            truncated=brief.truncated,
            session_id=self.session_id,
        )

    # ---- ocp_result_save --------------------------------------------------------------
    async def save(self, ws: Workspace, args: wire.SaveArgs) -> wire.SaveResult:
        session = args.session_id or self.session_id
        if args.session_id:
            await ws.memory.start_session(str(ws.path), session)
        result = await ws.memory.save(
            session,
            trace_id=args.trace_id,
            outcome=args.outcome,
            summary=args.summary,
            decisions=[
                DecisionIn(d.title, d.decision, d.rationale, d.supersedes) for d in args.decisions
            ],
            state=args.state,
            notes=args.notes,
            open_items=args.open_items,
        )
        saved = {
            "decisions": len(result.decision_ids),
            "superseded": len(result.superseded),
            "state": len(result.state),
            "notes": len(result.note_ids),
            "open_items": len(result.open_item_ids),
            "outcome": int(bool(args.outcome)),
            "summary": int(bool(args.summary)),
        }
        return wire.SaveResult(
            session_id=session,
            saved=saved,
            decision_ids=list(result.decision_ids),
            warnings=list(result.warnings),
        )

    # ---- ocp_model_route --------------------------------------------------------------
    async def enriched_prompt(
        self, ws: Workspace | None, request: str, budget: int
    ) -> EnrichedPrompt:
        if ws is None or budget <= 0:
            return build_prompt(request, (), None)
        brief_budget = max(budget // 4, 100)
        response = await ws.index.search(
            request, k=12, max_tokens=max(budget - brief_budget, 100), refresh=not ws.index.building
        )
        brief = await ws.memory.restore(query=request, max_tokens=brief_budget)
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
        router = self.router
        source: str | list[dict[str, Any]] = (
            args.messages if args.messages is not None else (args.request or "")
        )
        payload = parse_payload(source, system=args.system, tools=args.tools)
        session = args.session_id or self.session_id
        decision = await router.plan(payload, force=args.force, model=args.model, session=session)
        request = payload.user_turn
        budget = (
            self.settings.context_tokens
            if args.max_context_tokens is None
            else args.max_context_tokens
        )
        paid = decision.tier.paid
        enriched = (
            await self.enriched_prompt(ws, request, budget)
            if paid
            else build_prompt(request, (), None)
        )
        # Everything that may reach a paid provider is redacted first: the enriched prompt,
        # the conversation before it and the system prompt, including when a local route
        # escalates to paid.
        redacted = redact(enriched.text if paid else request)
        # The conversation is redacted only when a paid backend could receive it.
        paid_payload, counts = _redacted(payload) if router.paid else (payload, Counter[str]())
        counts.update(redacted.counts)
        result: RouteResult | None = None
        failure: RoutingFailed | None = None
        answered_by: Literal["local", "paid", "agent", "none"] = "none"
        if args.dry_run:
            note = "dry run: decided and built the prompt; no model called"
        elif paid and router.paid is None:
            answered_by = "agent"
            note = (
                "No paid backend is configured (no API key), and you are already a strong "
                "model: answer the prompt below yourself. Nothing was sent anywhere."
            )
        else:
            try:
                result = await router.execute(
                    decision, payload, paid_prompt=redacted.text, paid_payload=paid_payload
                )
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
        out = wire.RouteResult(
            answer=result.text if result else None,
            answered_by=answered_by,
            prompt=redacted.text if answered_by in ("agent", "none") and not failure else None,
            note=note,
            trace=self._trace(
                decision, result, failure, enriched, counts, redacted.text, answered_by
            ),
        )
        if ws is not None:
            await self._record(ws, args, out, result, failure, request)
        return out

    def _trace(
        self,
        decision: Decision,
        result: RouteResult | None,
        failure: RoutingFailed | None,
        enriched: EnrichedPrompt,
        redactions: Counter[str],
        paid_text: str,
        answered_by: Literal["local", "paid", "agent", "none"],
    ) -> wire.RouteTrace:
        router = self.router
        a = decision.assessment
        c = a.classify
        verdict = decision.verdict
        attempts = result.attempts if result else failure.attempts if failure else ()
        estimate = result.estimated_usd if result else None
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
                )
                for t in attempts
            ],
            notes=list(result.notes if result else failure.notes if failure else ()),
            context_citations=list(enriched.citations),
            context_tokens=enriched.context_tokens + enriched.brief_tokens,
            redactions=dict(redactions),
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
            ),
        )


def new_id() -> str:
    return uuid.uuid4().hex


def _phase2_kind(phase2: wire.Phase2Out | None, phase: str) -> str | None:
    if phase == "cache":
        return "cache"
    if phase2 is None:
        return None
    return "fallback" if phase2.fallback else "llm"


def _redacted(payload: AgentPayload) -> tuple[AgentPayload, Counter[str]]:
    """The payload with every secret in its text redacted, and how many of each kind."""
    counts: Counter[str] = Counter()
    messages = []
    for message in payload.messages:
        r = redact(message.text) if message.text else None
        if r is not None:
            counts.update(r.counts)
        messages.append(dataclasses.replace(message, text=r.text) if r else message)
    system = redact(payload.system) if payload.system else None
    if system is not None:
        counts.update(system.counts)
    redacted = AgentPayload.of(
        system.text if system else "", tuple(messages), payload.tools, payload.tools_chars
    )
    return redacted, counts


def _search_result(response: SearchResponse) -> wire.SearchResult:
    status = response.status
    note = response.note
    if status.building:
        note = (
            f"the first index of this workspace is still being built ({status.files} files "
            "so far): results may be incomplete; ask again in a few seconds"
        )
    return wire.SearchResult(
        query=response.query,
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
                matched_terms=list(r.matched_terms),
                truncated=r.truncated,
                text=r.text,
            )
            for r in response.results
        ],
        index=wire.IndexState(
            workspace=status.workspace,
            files=status.files,
            chunks=status.chunks,
            last_update=_iso(status.last_update),
            building=status.building,
            stale=status.stale,
            indexer=status.indexer,
        ),
        note=note,
    )
