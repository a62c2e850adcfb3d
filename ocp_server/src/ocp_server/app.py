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
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

import ocp_wire as wire
from ocp_router import (
    AgentPayload,
    OCPRouter,
    PaidContext,
    PaidPrompt,
    RouteResult,
    RoutingFailed,
    parse_payload,
)
from ocp_router.calibration_file import CalibrationFile, calibration_path
from ocp_router.config import ReadSettings, RouterSettings, make_router
from ocp_router.errors import ConfigError
from ocp_router.payload import require_request
from ocp_router.redact import redact
from ocp_router.results import Attempt
from ocp_router.router import images_note
from ocp_router.tokens import estimate_tokens
from ocp_server import prompt as paid
from ocp_server import views
from ocp_server.answer_parts import answer_part
from ocp_server.brief import Brief, max_tokens_said
from ocp_server.db import moved_aside_note
from ocp_server.dry_run import dry_run, hands_back
from ocp_server.errors import CitationError, routing_error_text
from ocp_server.errors import RouteFailure as RouteFailure  # re-exported
from ocp_server.floors_elsewhere import watch_floors
from ocp_server.index.globs import scoped_glob
from ocp_server.index.lexicon import search_query
from ocp_server.index.models import SearchResponse, SearchResult
from ocp_server.ledger import WorkspaceLedger
from ocp_server.memory import DecisionIn, NoteIn, SaveOutcome
from ocp_server.off_loop import off_loop
from ocp_server.open_workspaces import OpenWorkspaces
from ocp_server.outcomes import learn, unlearned
from ocp_server.prompt import EnrichedPrompt
from ocp_server.proxy.own_address import asked_when_called, sorted_endpoints
from ocp_server.render import ToolAnswer, restore_tokens
from ocp_server.route_record import Answerer, RouteRecord, local_unreachable
from ocp_server.schema import SchemaTooNew
from ocp_server.sent_budget import fitted
from ocp_server.settings import ServerSettings, kept_index, workspace_scope
from ocp_server.workspaces import Workspace, folder_needed, open_workspace

logger = logging.getLogger(__name__)

# What a route the agent answers asks of it. Not "the prompt below": a client that reads the
# structured content (Claude Code, Codex) has `prompt` before `note` (render.route_answer).
AGENT_ANSWERS = "answer the enriched prompt that comes with this result yourself"


@dataclass(slots=True)
class WorkspaceContext:
    """The router's ContextProvider: workspace code and the session brief for a paid prompt."""

    state: AppState
    ws: Workspace | None
    budget: int
    scope: str | None = None  # the sub-folder a `workspace` argument named
    deadline: float | None = None  # the route's end (loop time): the first index's wait ends by it

    async def paid_context(self, payload: AgentPayload) -> PaidContext:
        enriched = await self.state.enriched_prompt(
            self.ws, payload.user_turn, self.budget, self.scope, self.deadline
        )
        return PaidContext(
            enriched.text, enriched.citations, enriched.context_tokens, enriched.known
        )


class AppState:
    """One server run (one session): the open workspaces, the router and the four tools."""

    def __init__(
        self,
        settings: ServerSettings,
        router: OCPRouter | None,
        router_settings: RouterSettings | None = None,
        ledger: WorkspaceLedger | None = None,
    ) -> None:
        """Prefer `create`; `router_settings` are those the router was made from (None when
        the caller handed in a router of its own, or none)."""
        self.settings = settings
        self._router = router
        self.router_settings = router_settings
        self.ledger = ledger
        self.session_id = uuid.uuid4().hex
        self.workspaces = OpenWorkspaces(self.session_id, self._open)
        self.kept = kept_index(settings, self.workspaces.open_paths)  # a folder gone: its index
        self._restore_overhead: int | None = None
        # Why the router could not be made from its settings (a ConfigError's text), if so.
        self.routing_error: str | None = None
        # The MCP client's name (its initialize's clientInfo.name; "" before it is known):
        # a server run over stdio serves one client.
        self.client = ""
        # OCP_ROUTE_THRESHOLD, which the workspaces' calibrations learn around (None: none)
        self.base_threshold = router_settings.route_threshold if router_settings else None

    @classmethod
    async def create(
        cls,
        settings: ServerSettings,
        *,
        router: OCPRouter | None = None,
        router_settings: RouterSettings | None = None,
        routing: bool = True,
    ) -> AppState:
        """The state of one run. `router`: route with this one (closed with the state; its
        spend ledger is the caller's); else one is made from `router_settings` (read from the
        environment when None) with the trace stores as its daily ledger. `routing=False`:
        no router at all (the CLI's restore and stats). An invalid routing setting is held
        (`routing_error`): only the route raises ConfigError naming it."""
        if router is not None or not routing:
            return cls(settings, router)
        ledger = WorkspaceLedger()
        try:
            router_settings, unanswered = await sorted_endpoints(
                router_settings or RouterSettings.from_env()
            )
            router = await make_router(settings=router_settings, ledger=ledger)
            # a proxy started later where nothing listened yet is recognised when it answers
            router.paid = asked_when_called(router.paid, router_settings, unanswered)
        except ConfigError as exc:
            # Held for the route tool to answer with: searches, restores and saves read no
            # routing setting (a timeout's typo refused them all, leaving the user no tools).
            state = cls(settings, None)
            state.routing_error = str(exc)
            # Outcomes on earlier routes still teach routing, which needs the threshold alone
            # (valid in settings no router could be made of: a bad OCP_PRICES file).
            read = ReadSettings(router_settings) if router_settings else RouterSettings.read_env()
            state.base_threshold = read.kept("route_threshold")
            return state
        state = cls(settings, router, router_settings, ledger)
        ledger.state = state
        return state

    @property
    def router(self) -> OCPRouter:
        """The router; ConfigError naming the setting when routing's settings are invalid."""
        if self.routing_error is not None:
            raise ConfigError(routing_error_text(self.routing_error, self.settings.tool_names))
        if self._router is None:
            raise RuntimeError("this state was created without a router (routing=False)")
        return self._router

    async def spent_today(self) -> float:
        """Paid spend since local midnight, over every open workspace's trace store."""
        midnight = dt.datetime.combine(dt.date.today(), dt.time()).timestamp()
        return sum([await ws.memory.spent_since(midnight) for ws in self.workspaces.open_now()])

    async def aclose(self) -> None:
        """Stop indexing and close every database connection. Runs to the end even when the
        caller is being cancelled: a connection left open keeps its thread, and with it the
        whole process, alive."""
        with anyio.CancelScope(shield=True):
            await self.workspaces.aclose()
            if self._router is not None:
                await self._router.aclose()

    async def workspace(self, path: Path, *, watch: bool = True) -> Workspace:
        """The open workspace for `path`, opened on first use (OpenWorkspaces.get)."""
        return await self.workspaces.get(path, watch=watch)

    async def _open(self, path: Path, watch: bool) -> Workspace:
        ws = await open_workspace(self.settings, path, self.session_id, watch=watch)
        if self.base_threshold is not None:  # routing thresholds learned from outcomes
            ws.calibration = CalibrationFile(
                calibration_path(self.settings.db_path_for(path).parent), self.base_threshold
            )
        if self._router is not None:  # floors lifted by what is stored, and later stored
            await watch_floors(ws, self._router)
        return ws

    # ---- ocp_context_search -----------------------------------------------------------
    async def search(self, ws: Workspace, args: wire.SearchArgs) -> wire.SearchResult:
        """The search's answer as the model (callers in this process): the tool's own answer,
        validated, so what tests read here is what the agent is sent."""
        return wire.SearchResult.model_validate((await self.search_answer(ws, args)).structured)

    async def search_answer(self, ws: Workspace, args: wire.SearchArgs) -> ToolAnswer:
        """The search's answer in its wire form (the MCP tool's), its texts as sent (redacted)
        within `max_tokens` (`sent_budget.fitted`); for a client that refuses a larger result,
        its whole answer within what that client takes (views.search_for_client)."""
        waited = await self._first_index(ws)
        group_by_file = args.group_by == "file"

        async def search(budget: int) -> ToolAnswer:
            response = await self._search(ws, args, budget)
            return views.search_answer(response, waited, group_by_file=group_by_file)

        async def sent(answer: ToolAnswer) -> int:
            return views.search_tokens_sent(answer.structured)

        asked = args.max_tokens or self.settings.search_tokens
        answer = await fitted(search, sent, asked)
        return await views.search_for_client(
            answer, asked, self.client, lambda budget: fitted(search, sent, budget)
        )

    async def _search(self, ws: Workspace, args: wire.SearchArgs, budget: int) -> SearchResponse:
        # the index puts `path_glob` inside the sub-folder searched (an absolute glob is the
        # folder's own path: relative to it)
        scope = workspace_scope(ws.path, args.workspace)
        response = await ws.index.search(
            search_query(args.query),
            k=args.k,
            path_glob=args.path_glob,
            language=args.language,
            max_tokens=budget,
            refresh=not ws.index.building,
            group_by_file=args.group_by == "file",
            scope=scope,
        )
        return response

    async def _first_index(self, ws: Workspace, deadline: float | None = None) -> float | None:
        """Wait (up to OCP_FIRST_INDEX_WAIT, once: see `first_wait_left`; and until `deadline`,
        loop time, when given) for a workspace's first index to finish, so a one-call client
        does not get the empty answer of an index not built yet. The seconds waited (0 for a
        search that did not) when the index is still not complete, else None; None too when
        its build failed on storage, a full disk say (the search's note says so: it is not
        being built)."""
        if await ws.index.built():
            return None
        started = time.perf_counter()
        left = ws.index.first_wait_left(self.settings.first_index_wait)
        if deadline is not None:
            left = max(0.0, min(left, deadline - asyncio.get_running_loop().time()))
        if await ws.index.wait_built(left):
            return None
        if ws.index.storage_failure is not None:
            return None
        return time.perf_counter() - started if left else 0.0

    # ---- ocp_session_restore ----------------------------------------------------------
    async def restore(self, ws: Workspace, args: wire.RestoreArgs) -> wire.RestoreResult:
        """The brief, sized so that the tool's answer (`render.restore_answer`: the brief as
        its text block, the items as values; a client may show the model both) fits
        `max_tokens`. The model has the brief too. With `answer_of`, a part of a route's
        answer kept whole instead (answer_parts.py)."""
        if args.answer_of is not None:
            return await answer_part(ws.memory, args, self.client, self.session_id)
        if self._restore_overhead is None:
            # The result's fixed part, its counts at five digits; what `omitted` may say is
            # reserved by the brief's fitter, which knows what each section holds.
            empty = Brief(
                (), (), {}, (), (), (), "", 0, False, stale_count=99_999, expired=99_999
            )  # fmt: skip
            self._restore_overhead = estimate_tokens(
                views.restore_result(empty, self.session_id).model_dump_json(
                    exclude={"note", "answer", "kept_to"}
                )
            )  # (said with the room made for it: a note by restore_for_client, kept_to: Fitter)
        overhead = self._restore_overhead
        # edits no watcher saw first (else a file renamed then is reported deleted)
        await ws.index.catch_up(await ws.memory.cited_files())

        async def restore(budget: int, note: str | None = None) -> wire.RestoreResult:
            brief = await ws.memory.restore(
                query=args.query, max_tokens=budget, stale=args.stale, overhead=overhead,
                value_cost=views.value_tokens, said_budget=max_tokens_said(args.max_tokens),
                decision=args.decision, scope=workspace_scope(ws.path, args.workspace),
            )  # fmt: skip
            # Redacted before it is measured: a marker may be longer than what it hides.
            out = views.redacted_result(views.restore_result(brief, self.session_id, note))
            for _ in range(3):  # `tokens` counts itself: settle on a number that holds
                if (tokens := restore_tokens(out)) == out.tokens:
                    break
                out = out.model_copy(update={"tokens": tokens})
            return out

        async def sent(out: wire.RestoreResult) -> int:
            return out.tokens

        # Refitted into less while over (the parts' estimates ran short), by more each time.
        out = await fitted(restore, sent, args.max_tokens)
        out = await views.restore_for_client(out, args.max_tokens, self.client, restore, sent)
        if moved := moved_aside_note(ws.index.db_path):  # why earlier memory is missing
            note = "; ".join(filter(None, (moved, out.note)))
            out = out.model_copy(update={"note": note, "brief": f"Note: {moved}\n\n{out.brief}"})
        return out

    # ---- ocp_result_save --------------------------------------------------------------
    async def save(self, ws: Workspace, args: wire.SaveArgs) -> wire.SaveResult:
        session = args.session_id or self.session_id
        if args.cites_code:  # citations resolve against the index: wait as a search would
            folder_needed(ws.path, "citations are checked against its files")
        building = await self._first_index(ws) if args.cites_code else None  # not complete
        if args.session_id:
            await ws.memory.start_session(str(ws.path), session)
        # The short trace id shown everywhere (8 characters) names a trace as well as the
        # whole id, when it is unambiguous.
        trace_id = await ws.memory.full_trace_id(args.trace_id) if args.trace_id else None

        async def save() -> SaveOutcome:
            return await ws.memory.save(
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
                    n if isinstance(n, str) else NoteIn(n.text, tuple(n.citations))
                    for n in args.notes
                ],
                open_items=args.open_items,
                resolve=args.resolve,
                forget_decisions=args.forget_decisions,
                forget_notes=args.forget_notes,
                scope=workspace_scope(ws.path, args.workspace),  # citations relative to it too
            )

        try:
            result = await save()
        except CitationError as exc:  # nothing saved: again once the index caught up
            if building is not None and exc.not_indexed:  # not read by the first build yet
                said = views.first_build((await ws.index.status()).files)
                raise CitationError(f"{exc}; {said}: save again once it is done") from None
            # only code not indexed yet may resolve after an update (not lines 5-2, a big file)
            if not exc.not_indexed or not await ws.index.update_now():
                raise
            result = await save()
        learned, taught_nothing = await learn(ws, self._router, trace_id, args.outcome)
        unlearnt = unlearned(ws, trace_id, args.outcome, self.routing_error)
        saved = {
            "decisions": len(result.decision_ids),
            "superseded": len(result.superseded),
            "state": len(result.state),
            "notes": len(result.note_ids),
            "open_items": len(result.open_item_ids),
            "outcome": int(bool(args.outcome)),
            "summary": int(bool(args.summary)),
            "citations": len(result.citations),
            "merged": len(result.merged),
            "resolved": len(result.resolved),
            "forgotten": len(result.forgotten),
            "calibration": int(learned is not None),
        }
        out = wire.SaveResult(
            session_id=session,
            saved=saved,
            decision_ids=list(result.decision_ids),
            note_ids=list(result.note_ids),
            open_item_ids=list(result.open_item_ids),
            outcome_id=result.outcome_id,
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
            warnings=[
                *result.warnings,
                *(w for w in (unlearnt, taught_nothing, moved_aside_note(ws.index.db_path)) if w),
            ],
        )
        return views.redacted_result(out)  # warnings quote stored text: an earlier outcome

    # ---- ocp_model_route --------------------------------------------------------------
    async def enriched_prompt(
        self,
        ws: Workspace | None,
        request: str,
        budget: int,
        scope: str | None = None,
        deadline: float | None = None,
    ) -> EnrichedPrompt:
        """Workspace code and the session brief around `request` in `budget` tokens, both kept to
        the sub-folder `scope`; `deadline` (loop time): the route's end, a first index waits to."""
        if ws is None or budget <= 0:
            return paid.build_prompt(request, (), None)
        await self._first_index(ws, deadline)
        index, memory, query = ws.index, ws.memory, search_query(request)
        said, glob = paid.context_budget_said(budget), scoped_glob(scope, None)  # route's terms

        async def search(limit: int) -> tuple[SearchResult, ...]:
            response = await index.search(
                query, k=12, path_glob=glob, max_tokens=limit, refresh=not index.building
            )
            return response.results

        async def restore(cap: int) -> Brief:
            return await memory.restore(query=query, max_tokens=cap, said_budget=said, scope=scope)

        return await paid.enriched(request, budget, search, restore)

    async def route(self, ws: Workspace | None, args: wire.RouteArgs) -> wire.RouteResult:
        """Decide, answer and record one route. Raises RouteFailure (after recording it)
        when no model could answer."""
        router = self.router
        source: str | list[dict[str, Any]] = (
            args.messages if args.messages is not None else (args.request or "")
        )
        payload = await off_loop(
            _payload_chars(args), parse_payload, source, system=args.system, tools=args.tools
        )
        require_request(payload, "messages" if args.messages is not None else "request")
        # OCP_ROUTE_TIMEOUT bounds the whole route, phase 2's verdict included.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + router.total_timeout
        # Sticky sessions need a conversation: the caller's session id, else the router keys it
        # by its first user message (the server run is not one: an IDE's chats share it).
        if ws is not None and ws.floors_elsewhere is not None:  # lifted by other processes
            ws.floors_elsewhere.lift_floors(router.floors)
        decision = await router.plan(
            payload,
            force=args.force,
            model=args.model,
            session=args.session_id,
            calibration=ws.calibration_for(router.calibration_key) if ws else None,
        )
        request = payload.user_turn
        asked = args.max_context_tokens
        budget = self.settings.context_tokens if asked is None else asked
        # The router asks for the workspace context when, and only when, an attempt is paid
        # (a local route that escalates included), and redacts it with the rest.
        scope = workspace_scope(ws.path, args.workspace) if ws is not None else None
        context = WorkspaceContext(self, ws, budget, scope, deadline)
        planned = await dry_run(router, decision) if args.dry_run else None
        sent_to = planned.sent_to if planned else None  # a dry run's prompt, not handed back
        # A prompt handed back goes into this client's context: within what it accepts of a
        # result (a paid model's prompt keeps the whole budget, shown by a dry run or not).
        handed_budget = (
            budget if sent_to else views.route_context_for_client(budget, request, self.client)
        )
        handed = WorkspaceContext(self, ws, handed_budget, scope, deadline)
        paid = decision.tier.paid
        shown: PaidPrompt | None = None  # the paid prompt handed back instead of sent
        result: RouteResult | None = None
        failure: RoutingFailed | None = None
        answered_by: Answerer = "none"
        cancelled: BaseException | None = None
        if planned is not None:
            note = planned.note
            if planned.enriched:
                shown = await router.paid_prompt(payload, context=handed)
        elif paid and hands_back(router, decision):
            answered_by = "agent"
            note = (
                "No paid backend is configured (no API key), and you are already a strong "
                f"model: {AGENT_ANSWERS}. Nothing was sent anywhere."
            )
            shown = await router.paid_prompt(payload, context=handed)
        else:
            attempts: list[Attempt] = []
            try:
                result = await router.execute(
                    decision,
                    payload,
                    context=context,
                    timeout=max(0.0, deadline - loop.time()),
                    attempts=attempts,
                    effort=args.effort,
                )
            except RoutingFailed as exc:
                failure = exc
            except anyio.get_cancelled_exc_class() as exc:
                # The client gave up (MCP notifications/cancelled): the model call is cancelled
                # with it, and the route is still traced, with the attempt that was in flight.
                cancelled = exc
                failure = RoutingFailed(
                    "the client cancelled this route before a model answered",
                    tuple(attempts),
                    uuid.uuid4().hex,
                )
            if result is not None:
                answered_by = "paid" if result.tier.paid else "local"
                note = f"answered by the {result.tier} model {result.model}"
                if result.escalated and local_unreachable(
                    decision.tier, result.attempts, answered_by
                ):
                    note += " because the local model could not be reached"
                elif result.escalated:
                    note += " after escalating"
                elif result.fell_back:
                    note += " after a fallback"
                if payload.images:
                    note += f"; {images_note(payload.images)}."
            elif failure is not None and cancelled is None and hands_back(router, decision):
                # Without a paid key the calling agent is the paid tier: a local failure
                # climbs to it, with the context a paid model would get.
                answered_by = "agent"
                why = "; ".join(a.error for a in failure.attempts if a.error) or str(failure)
                note = (
                    f"The local model could not answer ({why.rstrip('.')}) and no paid backend "
                    f"is configured: {AGENT_ANSWERS}. Nothing was sent anywhere."
                )
                shown = await router.paid_prompt(payload, context=handed)
            else:
                note = str(failure)  # "no model could answer (...)", or the budget's reason
        if shown is not None and handed_budget != budget:
            note += " " + views.context_lowered_note(budget, handed_budget)
        sent = shown or (result.paid if result else failure.paid if failure else None)
        # What goes back to the agent reaches its cloud model too: redacted like a paid prompt.
        prompt: str | None = None
        hidden = 0
        if shown is not None:
            prompt, hidden = shown.prompt, shown.prompt_redactions
        elif args.dry_run:  # of a local route: the raw request, as the local model gets it
            local = redact(request)
            prompt, hidden = local.text, len(local.redactions)
        answer = redact(result.text) if result else None
        note_out = redact(note)
        hidden += len(note_out.redactions) + (len(answer.redactions) if answer else 0)
        record = RouteRecord.of_route(
            router,
            decision,
            result=result,
            failure=failure,
            sent=sent,
            route_to=answered_by,
            request=request,
            dry_run=args.dry_run,
            effort=args.effort,
        )
        if planned is not None and planned.model is not None:  # the local model is not there
            record = dataclasses.replace(record, model=planned.model, local_unavailable=True)
        # The trace quotes the caller's names (a forced model, the error a backend gave it).
        trace, in_trace = views.redacted_model(record.trace())
        out = wire.RouteResult(
            answer=answer.text if answer else None,
            answered_by=answered_by,
            prompt=prompt,
            note=note_out.text,
            trace=trace,
            redacted=hidden + in_trace,
        )
        kept_by = None
        if ws is not None:
            # Shielded: a cancelled route is recorded before its cancellation goes on.
            with anyio.CancelScope(shield=cancelled is not None):
                try:
                    if await self._record(ws, args, out, record):  # the whole answer kept
                        kept_by = wire.RESTORE.name_in(self.settings.tool_names)
                except SchemaTooNew as exc:
                    # The answer is the caller's (a paid one is paid for): it goes back,
                    # saying why it was not recorded.
                    out = out.model_copy(update={"note": f"{out.note} Not recorded: {exc}"})
        if cancelled is not None:
            raise cancelled
        if answered_by == "none" and failure is not None:
            raise RouteFailure(out)
        return views.route_for_client(out, self.client, kept_by, sent_to)  # what it accepts

    async def _record(
        self, ws: Workspace, args: wire.RouteArgs, out: wire.RouteResult, record: RouteRecord
    ) -> bool:
        """Store the route: with its answer whole when this client is sent it cut (True)."""
        cut = views.route_for_client(out, self.client).answer != out.answer
        answer = out.answer if cut else None
        session = args.session_id or self.session_id
        if args.session_id:
            await ws.memory.start_session(str(ws.path), session)
        trace_json = json.dumps(out.model_dump(mode="json", exclude={"answer", "prompt"}))
        if self.ledger is None:
            await ws.memory.record_route(session, record, trace_json, answer)
            return cut
        # A wasted paid answer costs too; the daily budget counts it once.
        async with self.ledger.storing(record.cost_usd):
            await ws.memory.record_route(session, record, trace_json, answer)
        return cut


def _payload_chars(args: wire.RouteArgs) -> int:
    if args.messages is None and args.tools is None:
        return len(args.request or "") + len(args.system or "")
    return wire.payload_chars(args.messages, args.system, args.tools)
