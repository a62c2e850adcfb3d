"""Session memory: what earlier sessions left for the next one, and every route's trace.

Behind two MCP tools: `ocp_result_save` (MemoryStore.save) persists summaries, decisions,
versioned state, notes and open items, linked to a route trace when given; and
`ocp_session_restore` (MemoryStore.restore) hands back a token-budgeted brief of it. Every
model-route call stores its full trace (MemoryStore.record_trace).

Nothing is silently overwritten: a decision is only retired by superseding it by id (a second
decision with the same title stays beside the first, with a warning), a new state value is a
new version row (older ones stay), and every summary and outcome is also kept as a note.

A session is one server run, or an explicit session id a client keeps across runs.

Memory stays true. Decisions and notes may cite code (`path:start-end` or a symbol, see
citations.py); every restore first checks the citations whose files changed, so a memory is
served as a fact only while the code it cites is unchanged (valid) or was found elsewhere
(moved: the citation follows it). Stale ones are listed apart with what changed, or counted.
A memory expires when it has not been served while valid for the TTL (28 days by default);
`forget` retires one by id and erases its text; a near-identical save merges into the live
memory and says so.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import aiosqlite

from ocp_router._tokens import estimate_tokens
from ocp_server.citations import CitationError, CodeView, Located, Stored
from ocp_server.index.files import load_ocpignore, path_exclusion
from ocp_server.index.terms import body_terms, fts_query, query_terms
from ocp_server.savings import savings_report

__all__ = [
    "Brief",
    "CitationState",
    "DecisionBrief",
    "DecisionIn",
    "MemoryStore",
    "Merged",
    "NoteBrief",
    "NoteIn",
    "SaveResult",
    "SavedCitation",
    "SessionBrief",
    "StaleBrief",
    "StateChange",
    "SuggestedCitation",
    "TraceBrief",
    "TraceRecord",
]

CANDIDATES: Final = 200  # most recent rows per section considered for a brief
MATCHES: Final = 500  # FTS hits considered for a query
MAX_SESSION_ID: Final = 200
# Longest rendering of one item in a brief, in characters; longer text is cut with "…".
CAP_TITLE: Final = 160
CAP_DECISION: Final = 800
CAP_RATIONALE: Final = 500
CAP_TEXT: Final = 500
CAP_STATE: Final = 300
CAP_REQUEST: Final = 120
CAP_STALE: Final = 200  # a stale memory's own text
CAP_CHANGE: Final = 300  # what changed in its code
_FTS_TEXT: Final = 4000  # characters of a text indexed for relevance
DEFAULT_TTL_DAYS: Final = 28.0
RENEW_AFTER: Final = 3600.0  # a served memory's renewal is written at most hourly
NEAR_IDENTICAL: Final = 0.9  # word-sequence similarity at which a save merges
COMMON_SHARE: Final = 0.2  # query terms in more of the memory index than this are skipped
RECENCY_HALF_LIFE: Final = 14 * 86400.0  # seconds: how fast recency fades against relevance
FOOTER_RESERVE: Final = 60  # tokens kept for the line saying what was left out
UNINDEXED: Final = (-2, -2)  # the signature of a cited file the index no longer holds

StaleMode = Literal["list", "count"]
_LIVE: Final = "retired IS NULL"
_NOTABLE: Final = (
    "(answered_by IS NULL OR route_to != decision OR route_to = 'paid' OR outcome IS NOT NULL)"
)
_STORED: Final = (
    "SELECT id, path, start_line, end_line, symbol, whole, content_hash, content, cited, "
    "status, moved_from FROM memory_citations"
)

_NO_STATE: Final[Mapping[str, str]] = MappingProxyType({})


# ---- values --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One backend tried for a route, for per-backend latency."""

    tier: str
    backend: str
    model: str
    outcome: str
    duration_ms: float
    error_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceRecord:
    """One model-route call, as stored in `traces`. `trace_json` is the full trace.

    `answered_by` names who produced the answer (the backend/tier); None when no tier could
    answer, which makes the trace an error trace. `created_at` None: the store's clock.
    """

    id: str
    request: str
    route_to: str
    decision: str
    decided_by: str
    model: str
    backend: str
    task_type: str
    complexity: float
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    trace_json: str
    answered_by: str | None
    cost_usd: float | None = None
    counterfactual_usd: float | None = None
    outcome: str | None = None
    created_at: float | None = None
    tier: str | None = None
    answered_tier: str | None = None
    phase: str | None = None
    band: str | None = None
    phase2: str | None = None
    pin_state: str | None = None
    escalated: bool = False
    fell_back: bool = False
    budget_note: str | None = None
    estimated_usd: float | None = None
    counterfactual_model: str | None = None
    attempts: tuple[AttemptRecord, ...] = ()

    @property
    def failed(self) -> bool:
        return self.answered_by is None


@dataclass(frozen=True, slots=True)
class DecisionIn:
    """A decision to save. `supersedes`: the id of an earlier decision this one replaces.
    `citations`: the code it is about, as `path:start-end`, `path:symbol` or a symbol."""

    title: str
    decision: str
    rationale: str | None = None
    supersedes: int | None = None
    citations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NoteIn:
    """A note to save, with the code it is about (as for decisions)."""

    text: str
    citations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CitationState:
    """A memory's citation as checked: where the code is now and whether it still holds."""

    citation: str  # path:start-end now
    symbol: str | None
    status: str  # valid | moved | stale
    moved_from: str | None  # path:start-end before the last move
    change: str | None  # stale: what changed
    cited: str  # as saved (path:start-end then)


@dataclass(frozen=True, slots=True)
class Merged:
    """A save merged into a near-identical live memory instead of adding a duplicate."""

    field: str  # decisions[0], notes[1], open_items[2]
    into: int
    alike: float


@dataclass(frozen=True, slots=True)
class SavedCitation:
    field: str
    citation: str
    symbol: str | None


@dataclass(frozen=True, slots=True)
class SuggestedCitation:
    """A citation a saved text seems to want (it names a symbol the index defines once)."""

    field: str
    citation: str
    symbol: str
    kind: str


@dataclass(frozen=True, slots=True)
class StateChange:
    """A state key written by a save: its new version, and the value it replaced (if any)."""

    key: str
    value: str
    version: int
    previous: str | None


@dataclass(frozen=True, slots=True)
class SaveResult:
    session_id: str
    trace_id: str | None = None
    decision_ids: tuple[int, ...] = ()
    superseded: tuple[int, ...] = ()  # ids of the decisions retired by this save
    state: tuple[StateChange, ...] = ()  # keys whose value changed (unchanged ones are skipped)
    note_ids: tuple[int, ...] = ()
    open_item_ids: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    merged: tuple[Merged, ...] = ()
    citations: tuple[SavedCitation, ...] = ()  # as resolved
    suggested: tuple[SuggestedCitation, ...] = ()  # returned, never added
    forgotten: tuple[str, ...] = ()  # "decision #3", "note #7"

    @property
    def replaced(self) -> dict[str, str]:
        """key -> the value this save replaced (new keys are not listed)."""
        return {c.key: c.previous for c in self.state if c.previous is not None}


@dataclass(frozen=True, slots=True)
class SessionBrief:
    id: str
    workspace: str
    started_at: float
    ended_at: float | None
    summary: str


@dataclass(frozen=True, slots=True)
class DecisionBrief:
    """An active decision served as a fact: `verified` is valid, moved or uncited."""

    id: int
    title: str
    decision: str
    rationale: str | None
    created_at: float
    session_id: str
    trace_id: str | None
    verified: str = "uncited"
    citations: tuple[CitationState, ...] = ()
    renewed_at: float = 0.0


@dataclass(frozen=True, slots=True)
class NoteBrief:
    """A note or an open item (`kind` note, open_item or outcome)."""

    id: int
    kind: str
    text: str
    created_at: float
    session_id: str
    trace_id: str | None
    verified: str = "uncited"
    citations: tuple[CitationState, ...] = ()
    renewed_at: float = 0.0


@dataclass(frozen=True, slots=True)
class StaleBrief:
    """A decision or note whose cited code changed: not a fact until checked again."""

    kind: str  # decision | note
    id: int
    title: str | None
    text: str
    created_at: float
    citations: tuple[CitationState, ...]


@dataclass(frozen=True, slots=True)
class TraceBrief:
    """A notable route in short form; `why` says what made it notable."""

    id: str
    created_at: float
    why: tuple[str, ...]  # of: error, fallback, paid, outcome
    decision: str
    route_to: str
    model: str
    task_type: str
    cost_usd: float | None
    request: str  # the start of the request
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Brief:
    """What `restore` hands out: only the items that fit the budget, as values and as `text`."""

    decisions: tuple[DecisionBrief, ...]
    open_items: tuple[NoteBrief, ...]
    state: Mapping[str, str]
    sessions: tuple[SessionBrief, ...]
    notes: tuple[NoteBrief, ...]
    traces: tuple[TraceBrief, ...]
    text: str
    tokens: int
    truncated: bool  # something was left out or cut short to fit max_tokens
    query: str | None = None
    matched: int = 0  # items in the brief that matched the query
    omitted: dict[str, int] = field(default_factory=dict)  # section -> items left out
    stale: tuple[StaleBrief, ...] = ()
    stale_count: int = 0  # live memories with a stale citation, listed or not
    expired: int = 0  # memories this restore found expired


# ---- helpers -------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cap(text: str, limit: int) -> tuple[str, bool]:
    """One line of at most `limit` characters; True when it was cut."""
    line = _one_line(text)
    if len(line) <= limit:
        return line, False
    return line[: limit - 1].rstrip() + "…", True


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.4f}"


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


@dataclass(slots=True)
class _Item:
    """One candidate line of a brief, with how it ranks; rendered only when considered."""

    section: str
    row: Any
    created_at: float
    seq: int
    score: float | None  # bm25 (lower is better); None: did not match the query
    render: Callable[[_Item], tuple[Any, str, bool]]  # -> (value, line, cut short)
    taken: bool = False
    made_: tuple[Any, str, bool] | None = None

    def made(self) -> tuple[Any, str, bool]:
        if self.made_ is None:
            self.made_ = self.render(self)
        return self.made_


_SECTIONS: Final = (
    ("decisions", "## Active decisions (supersede or forget by id)"),
    ("stale", "## Stale: the code they cite changed (not facts; check, then supersede or forget)"),
    ("open_items", "## Open items"),
    ("state", "## State"),
    ("sessions", "## Earlier sessions"),
    ("notes", "## Notes (forget by id)"),
    ("traces", "## Notable routes"),
)
SECTION_NAMES: Final = tuple(name for name, _ in _SECTIONS)
_NOUNS: Final = {
    "decisions": "decisions",
    "stale": "stale memories",
    "open_items": "open items",
    "state": "state keys",
    "sessions": "session summaries",
    "notes": "notes",
    "traces": "notable routes",
}
_TITLE: Final = "# Session memory"
_EMPTY: Final = "Nothing saved by earlier sessions yet."


# ---- the store -----------------------------------------------------------------------------
class MemoryStore:
    """Session memory on an open connection (from `ocp_server.db.connect`).

    Writes run one transaction each (`BEGIN IMMEDIATE`); a brief is read in one transaction
    too, so it is a consistent snapshot. Calls on one store are serialised by `lock`: pass the
    lock of anything else that runs transactions on the same connection.
    """

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        clock: Callable[[], float] = time.time,
        lock: asyncio.Lock | None = None,
        workspace: Path | None = None,
        ttl_days: float = DEFAULT_TTL_DAYS,
    ) -> None:
        """`workspace`: where cited code lives (None: citations are refused). `ttl_days`:
        memories not served while valid for that long expire (0: never)."""
        self.db = db
        self.clock = clock
        self.workspace = workspace
        self.ttl_seconds = ttl_days * 86400.0
        self._lock = lock or asyncio.Lock()

    # ---- transactions ---------------------------------------------------------------------
    @asynccontextmanager
    async def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> AsyncIterator[None]:
        async with self._lock:
            await self.db.execute(begin)
            try:
                yield
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _fetch(self, sql: str, args: Iterable[Any] | Mapping[str, Any] = ()) -> list[Any]:
        params = args if isinstance(args, Mapping) else tuple(args)
        return list(await self.db.execute_fetchall(sql, params))

    async def _insert(self, sql: str, args: Iterable[Any]) -> int:
        cursor = await self.db.execute(sql, tuple(args))
        rowid = cursor.lastrowid
        await cursor.close()
        assert rowid is not None
        return rowid

    async def _index(self, kind: str, ref_id: str | int, text: str) -> None:
        await self.db.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES (?, ?, ?)",
            (kind, str(ref_id), body_terms(text[:_FTS_TEXT])),
        )

    async def _unindex(self, kind: str, ref_id: str | int) -> None:
        await self.db.execute(
            "DELETE FROM memory_fts WHERE kind = ? AND ref_id = ?", (kind, str(ref_id))
        )

    async def _require_session(self, session_id: str) -> None:
        if not await self._fetch("SELECT 1 FROM sessions WHERE id = ?", (session_id,)):
            raise ValueError(f"session_id: no session {session_id!r} (start_session first)")

    # ---- sessions -------------------------------------------------------------------------
    async def start_session(self, workspace: str, session_id: str | None = None) -> str:
        """Open a session and return its id: a new uuid hex, or `session_id`. Starting an
        existing session again changes nothing (an explicit id continues that session)."""
        if session_id is not None:
            session_id = session_id.strip()
            if not session_id or len(session_id) > MAX_SESSION_ID:
                raise ValueError(f"session_id: must be 1 to {MAX_SESSION_ID} characters")
        sid = session_id or uuid.uuid4().hex
        async with self._transaction():
            await self.db.execute(
                "INSERT INTO sessions (id, workspace, started_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO NOTHING",
                (sid, workspace, self.clock()),
            )
        return sid

    async def end_session(self, session_id: str, summary: str | None = None) -> None:
        async with self._transaction():
            await self._require_session(session_id)
            now = self.clock()
            await self.db.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ?", (now, session_id)
            )
            if summary is not None and summary.strip():
                await self._summarise(session_id, summary.strip(), now, None)

    async def _summarise(
        self, session_id: str, summary: str, now: float, trace_id: str | None
    ) -> None:
        """The session's summary is the latest one; each is also kept as a note."""
        await self.db.execute("UPDATE sessions SET summary = ? WHERE id = ?", (summary, session_id))
        await self.db.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id) "
            "VALUES (?, ?, 'summary', ?, ?)",
            (session_id, now, summary, trace_id),
        )
        await self._unindex("session", session_id)
        await self._index("session", session_id, summary)

    # ---- traces ---------------------------------------------------------------------------
    async def record_trace(self, session_id: str, trace: TraceRecord) -> None:
        """Store one route's full trace. A trace id is recorded once."""
        try:
            json.loads(trace.trace_json)
        except ValueError as exc:
            raise ValueError(f"trace_json: not valid JSON ({exc})") from exc
        async with self._transaction():
            await self._require_session(session_id)
            if await self._fetch("SELECT 1 FROM traces WHERE id = ?", (trace.id,)):
                raise ValueError(f"trace_id: trace {trace.id!r} is already recorded")
            created = self.clock() if trace.created_at is None else trace.created_at
            await self.db.execute(
                "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
                "decided_by, model, backend, task_type, complexity, prompt_tokens, "
                "completion_tokens, duration_ms, cost_usd, counterfactual_usd, outcome, "
                "trace_json, answered_by, tier, answered_tier, phase, band, phase2, pin_state, "
                "escalated, fell_back, budget_note, estimated_usd, counterfactual_model) "
                f"VALUES ({_placeholders(30)})",
                (
                    trace.id,
                    session_id,
                    created,
                    trace.request,
                    trace.route_to,
                    trace.decision,
                    trace.decided_by,
                    trace.model,
                    trace.backend,
                    trace.task_type,
                    trace.complexity,
                    trace.prompt_tokens,
                    trace.completion_tokens,
                    trace.duration_ms,
                    trace.cost_usd,
                    trace.counterfactual_usd,
                    trace.outcome,
                    trace.trace_json,
                    trace.answered_by,
                    trace.tier,
                    trace.answered_tier,
                    trace.phase,
                    trace.band,
                    trace.phase2,
                    trace.pin_state,
                    int(trace.escalated),
                    int(trace.fell_back),
                    trace.budget_note,
                    trace.estimated_usd,
                    trace.counterfactual_model,
                ),
            )
            await self.db.executemany(
                "INSERT INTO route_attempts (trace_id, n, created_at, tier, backend, model, "
                "outcome, duration_ms, error_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        trace.id,
                        n,
                        created,
                        a.tier,
                        a.backend,
                        a.model,
                        a.outcome,
                        a.duration_ms,
                        a.error_type,
                    )
                    for n, a in enumerate(trace.attempts)
                ],
            )
            if trace.outcome:
                await self.db.execute(
                    "INSERT INTO notes (session_id, created_at, kind, text, trace_id) "
                    "VALUES (?, ?, 'outcome', ?, ?)",
                    (session_id, created, trace.outcome, trace.id),
                )
            await self._index("trace", trace.id, f"{trace.request}\n{trace.outcome or ''}")

    async def trace_json(self, trace_id: str) -> str | None:
        """The full stored trace, or None when there is no such trace."""
        rows = await self._fetch("SELECT trace_json FROM traces WHERE id = ?", (trace_id,))
        return str(rows[0][0]) if rows else None

    # ---- save -----------------------------------------------------------------------------
    async def save(
        self,
        session_id: str,
        *,
        trace_id: str | None = None,
        outcome: str | None = None,
        summary: str | None = None,
        decisions: Sequence[DecisionIn] = (),
        state: Mapping[str, str] = _NO_STATE,
        notes: Sequence[str | NoteIn] = (),
        open_items: Sequence[str] = (),
        resolve: Sequence[int] = (),
        forget_decisions: Sequence[int] = (),
        forget_notes: Sequence[int] = (),
    ) -> SaveResult:
        """Persist what the next session should know, all in one transaction.

        `outcome` is set on the trace (`trace_id` required for that) and kept as a note.
        `resolve`: ids of open items that are done. Citations on decisions and notes are
        resolved first; a decision or note near-identical to a live one merges into it (and
        says so). `forget_*` retire memories by id and erase their text. An unknown id, or a
        citation that cannot be resolved, raises ValueError naming the field, and nothing is
        saved.
        """
        _check_decisions(decisions)
        note_ins = [n if isinstance(n, NoteIn) else NoteIn(n) for n in notes]
        for key in state:
            if not isinstance(key, str) or not key.strip():
                raise ValueError("state: keys must be non-empty strings")
        cited, suggested = await self._cite(decisions, note_ins)
        warnings: list[str] = []
        out = _SaveOut()
        async with self._transaction():
            await self._require_session(session_id)
            now = self.clock()
            if trace_id is not None:
                rows = await self._fetch("SELECT outcome FROM traces WHERE id = ?", (trace_id,))
                if not rows:
                    raise ValueError(f"trace_id: no trace {trace_id!r} is recorded")
                if outcome and outcome.strip():
                    previous = rows[0][0]
                    if previous and previous != outcome.strip():
                        warnings.append(
                            f"trace {trace_id} already had an outcome ({_cap(previous, 80)[0]!r}); "
                            "the new one is current, the old one stays as a note"
                        )
                    await self.db.execute(
                        "UPDATE traces SET outcome = ? WHERE id = ?", (outcome.strip(), trace_id)
                    )
            out.forgotten = await self._forget(now, forget_decisions, forget_notes, warnings)
            if outcome and outcome.strip():
                out.note_ids.append(
                    await self._note(session_id, now, "outcome", outcome.strip(), trace_id)
                )
            if summary and summary.strip():
                await self._summarise(session_id, summary.strip(), now, trace_id)
            await self._decide(session_id, now, trace_id, decisions, cited, warnings, out)
            changes = await self._set_state(session_id, now, state)
            for n, note in enumerate(note_ins):
                if note.text.strip():
                    await self._remember(
                        session_id, now, "note", note.text.strip(), trace_id,
                        cited.get(f"notes[{n}]", ()), f"notes[{n}]", warnings, out,
                    )  # fmt: skip
            for n, text in enumerate(open_items):
                if text.strip():
                    await self._remember(
                        session_id, now, "open_item", text.strip(), trace_id, (),
                        f"open_items[{n}]", warnings, out,
                    )  # fmt: skip
            resolved = await self._resolve(resolve, warnings)
        return SaveResult(
            session_id=session_id,
            trace_id=trace_id,
            decision_ids=tuple(out.decision_ids),
            superseded=tuple(out.superseded),
            state=tuple(changes),
            note_ids=tuple(out.note_ids),
            open_item_ids=tuple(out.open_item_ids),
            resolved=tuple(resolved),
            warnings=tuple(warnings),
            merged=tuple(out.merged),
            citations=tuple(
                SavedCitation(field, c.citation, c.symbol)
                for field, cs in cited.items()
                for c in cs
            ),
            suggested=tuple(suggested),
            forgotten=tuple(out.forgotten),
        )

    async def _cite(
        self, decisions: Sequence[DecisionIn], notes: Sequence[NoteIn]
    ) -> tuple[dict[str, tuple[Located, ...]], list[SuggestedCitation]]:
        """Resolve every citation (ValueError naming the first that fails) and suggest
        citations for identifiers the texts name; both read the index and the files."""
        wanted = [
            (f"decisions[{n}]", d.citations, f"{d.title}\n{d.decision}\n{d.rationale or ''}")
            for n, d in enumerate(decisions)
        ] + [(f"notes[{n}]", note.citations, note.text) for n, note in enumerate(notes)]
        if not any(c for _, c, _ in wanted) and self.workspace is None:
            return {}, []
        if self.workspace is None:
            field = next(f for f, c, _ in wanted if c)
            raise ValueError(f"{field}.citations: this memory has no workspace to cite from")
        view = CodeView(self.db, self.workspace)
        cited: dict[str, tuple[Located, ...]] = {}
        suggested: list[SuggestedCitation] = []
        async with self._lock:
            for field, raws, text in wanted:
                found: dict[tuple[str, int, int], Located] = {}
                for k, raw in enumerate(raws):
                    try:
                        located = await view.resolve(raw)
                    except CitationError as exc:
                        raise ValueError(f"{field}.citations[{k}]: {exc}") from None
                    found.setdefault((located.path, located.start_line, located.end_line), located)
                if found:
                    cited[field] = tuple(found.values())
                symbols = [c.symbol or "" for c in found.values()]
                spans = {c.citation for c in found.values()}
                for s in await view.suggest(text, symbols):
                    if s.citation not in spans:
                        suggested.append(SuggestedCitation(field, s.citation, s.symbol, s.kind))
        return cited, suggested

    async def _note(
        self, session_id: str, now: float, kind: str, text: str, trace_id: str | None
    ) -> int:
        note_id = await self._insert(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, now, kind, text, trace_id, now),
        )
        if kind != "outcome" or trace_id is None:  # a trace's outcome is indexed with it
            await self._index("note" if kind == "outcome" else kind, note_id, text)
        else:
            await self._unindex("trace", trace_id)
            rows = await self._fetch("SELECT request FROM traces WHERE id = ?", (trace_id,))
            await self._index("trace", trace_id, f"{rows[0][0]}\n{text}")
        return note_id

    async def _remember(
        self,
        session_id: str,
        now: float,
        kind: str,
        text: str,
        trace_id: str | None,
        citations: Sequence[Located],
        field: str,
        warnings: list[str],
        out: _SaveOut,
    ) -> None:
        """A note or an open item: new, or merged into a near-identical live one."""
        same = await self._near_duplicate(kind, text, citations)
        ids = out.note_ids if kind == "note" else out.open_item_ids
        if same is not None:
            into, alike = same
            added = await self._add_citations("note", into, citations, now)
            await self.db.execute("UPDATE notes SET renewed_at = ? WHERE id = ?", (now, into))
            out.merged.append(Merged(field, into, alike))
            warnings.append(_merge_warning(field, kind.replace("_", " "), into, alike, added))
            ids.append(into)
            return
        note_id = await self._insert(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, now, kind, text, trace_id, now),
        )
        await self._add_citations("note", note_id, citations, now)
        await self._index(kind, note_id, _indexed_text(text, citations))
        ids.append(note_id)

    async def _decide(
        self,
        session_id: str,
        now: float,
        trace_id: str | None,
        decisions: Sequence[DecisionIn],
        cited: Mapping[str, tuple[Located, ...]],
        warnings: list[str],
        out: _SaveOut,
    ) -> None:
        for n, d in enumerate(decisions):
            title = d.title.strip()
            field = f"decisions[{n}]"
            citations = cited.get(field, ())
            if d.supersedes is not None:
                rows = await self._fetch(
                    "SELECT status, superseded_by, retired FROM decisions WHERE id = ?",
                    (d.supersedes,),
                )
                if not rows or rows[0][2] == "forgotten":
                    raise ValueError(
                        f"supersedes: decisions[{n}] supersedes #{d.supersedes}, "
                        "which does not exist"
                    )
                if rows[0][0] != "active":
                    raise ValueError(
                        f"supersedes: decision #{d.supersedes} is already superseded by "
                        f"#{rows[0][1]}; supersede that one instead"
                    )
            else:
                text = f"{title}\n{d.decision.strip()}"
                same = await self._near_duplicate("decision", text, citations)
                if same is not None:
                    into, alike = same
                    added = await self._add_citations("decision", into, citations, now)
                    await self.db.execute(
                        "UPDATE decisions SET renewed_at = ?, rationale = coalesce(rationale, ?) "
                        "WHERE id = ?",
                        (now, (d.rationale or "").strip() or None, into),
                    )
                    out.merged.append(Merged(field, into, alike))
                    warnings.append(_merge_warning(field, "decision", into, alike, added))
                    out.decision_ids.append(into)
                    continue
            same_title = await self._fetch(
                "SELECT id FROM decisions WHERE title = ? COLLATE NOCASE AND status = 'active' "
                f"AND {_LIVE} AND id IS NOT ? ORDER BY id",
                (title, d.supersedes),
            )
            new_id = await self._insert(
                "INSERT INTO decisions (session_id, created_at, title, decision, rationale, "
                "trace_id, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    now,
                    title,
                    d.decision.strip(),
                    (d.rationale or "").strip() or None,
                    trace_id,
                    now,
                ),
            )
            if same_title:
                others = ", ".join(f"#{r[0]}" for r in same_title)
                warnings.append(
                    f"decision #{new_id} {title!r} has the same title as active decision(s) "
                    f"{others}: both stay active. To replace one, save again with "
                    "supersedes=<its id>."
                )
            if d.supersedes is not None:
                await self.db.execute(
                    "UPDATE decisions SET status = 'superseded', superseded_by = ? WHERE id = ?",
                    (new_id, d.supersedes),
                )
                await self._retire_citations("decision_id", [d.supersedes])
                out.superseded.append(d.supersedes)
            await self._add_citations("decision", new_id, citations, now)
            text = f"{title}\n{d.decision}\n{d.rationale or ''}"
            await self._index("decision", new_id, _indexed_text(text, citations))
            out.decision_ids.append(new_id)

    async def _near_duplicate(
        self, kind: str, text: str, citations: Sequence[Located]
    ) -> tuple[int, float] | None:
        """A live memory of this kind whose text is near-identical (and which cites the same
        code, or one of the two cites none): its id and how alike they are."""
        words = _words(text)
        terms = await self._selective(list(dict.fromkeys(words)), keep=4)
        if not terms:
            return None
        matches = await self._fetch(
            "SELECT ref_id FROM memory_fts WHERE memory_fts MATCH ? AND kind = ? "
            "ORDER BY rank LIMIT 20",
            (fts_query(terms), kind),
        )
        ids = [int(r[0]) for r in matches]
        if not ids:
            return None
        if kind == "decision":
            sql = (
                "SELECT id, title || char(10) || decision FROM decisions WHERE status = 'active' "
                f"AND {_LIVE} AND id IN ({_placeholders(len(ids))})"
            )
        else:
            sql = (
                f"SELECT id, text FROM notes WHERE kind = ? AND resolved = 0 AND {_LIVE} "
                f"AND id IN ({_placeholders(len(ids))})"
            )
        rows = await self._fetch(sql, ids if kind == "decision" else (kind, *ids))
        best: tuple[int, float] | None = None
        for row_id, other in rows:
            alike = difflib.SequenceMatcher(None, words, _words(str(other))).ratio()
            if alike >= NEAR_IDENTICAL and (best is None or alike > best[1]):
                if await self._same_scope(kind, int(row_id), citations):
                    best = (int(row_id), alike)
        return best

    async def _same_scope(self, kind: str, row_id: int, citations: Sequence[Located]) -> bool:
        owner = "decision_id" if kind == "decision" else "note_id"
        rows = await self._fetch(
            f"SELECT path, symbol FROM memory_citations WHERE {owner} = ? AND active = 1",
            (row_id,),
        )
        if not rows or not citations:
            return True
        theirs = {str(r[0]) for r in rows} | {str(r[1]) for r in rows if r[1]}
        return any(c.path in theirs or (c.symbol and c.symbol in theirs) for c in citations)

    async def _add_citations(
        self, kind: str, owner: int, citations: Sequence[Located], now: float
    ) -> int:
        """Store citations not already on this memory; how many were new."""
        column = "decision_id" if kind == "decision" else "note_id"
        have = {
            (str(r[0]), int(r[1]), int(r[2]))
            for r in await self._fetch(
                f"SELECT path, start_line, end_line FROM memory_citations WHERE {column} = ? "
                "AND active = 1",
                (owner,),
            )
        }
        new = [c for c in citations if (c.path, c.start_line, c.end_line) not in have]
        if not new:
            return 0
        assert self.workspace is not None
        seen = await self._index_seen()
        await self.db.executemany(
            f"INSERT INTO memory_citations ({column}, cited, path, start_line, end_line, symbol, "
            "whole, content_hash, content, index_seen, checked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    owner,
                    c.citation,
                    c.path,
                    c.start_line,
                    c.end_line,
                    c.symbol,
                    int(c.whole),
                    c.content_hash,
                    c.content,
                    seen,
                    now,
                )
                for c in new
            ],
        )
        view = CodeView(self.db, self.workspace)
        await self._sign([(c.path, view.stat(c.path)) for c in new])
        return len(new)

    async def _sign(self, signatures: Sequence[tuple[str, tuple[int, int]]]) -> None:
        """Record each cited file's size and mtime as checked."""
        await self.db.executemany(
            "INSERT INTO memory_files (path, size, mtime_ns) VALUES (?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns",
            [(path, size, mtime) for path, (size, mtime) in signatures],
        )

    async def _retire_citations(self, column: str, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            await self.db.execute(
                f"UPDATE memory_citations SET active = 0 WHERE {column} IN "
                f"({_placeholders(len(chunk))})",
                chunk,
            )
        await self.db.execute(
            "DELETE FROM memory_files WHERE NOT EXISTS (SELECT 1 FROM memory_citations c "
            "WHERE c.path = memory_files.path AND c.active = 1)"
        )

    async def _forget(
        self,
        now: float,
        decisions: Sequence[int],
        notes: Sequence[int],
        warnings: list[str],
    ) -> list[str]:
        """Retire memories by id and erase their text and citations."""
        done: list[str] = []
        for arg, table, ids in (
            ("forget_decisions", "decisions", decisions),
            ("forget_notes", "notes", notes),
        ):
            kind = "decision" if table == "decisions" else "note"
            for item in ids:
                extra = " AND kind IN ('note', 'open_item', 'outcome')" if kind == "note" else ""
                rows = await self._fetch(
                    f"SELECT retired FROM {table} WHERE id = ?{extra}", (item,)
                )
                if not rows:
                    raise ValueError(f"{arg}: no {kind} #{item}")
                if rows[0][0] == "forgotten":
                    warnings.append(f"{kind} #{item} was already forgotten")
                    continue
                if table == "decisions":
                    await self.db.execute(
                        "UPDATE decisions SET title = '(forgotten)', decision = '', "
                        "rationale = NULL, retired = 'forgotten', retired_at = ? WHERE id = ?",
                        (now, item),
                    )
                else:
                    await self.db.execute(
                        "UPDATE notes SET text = '', retired = 'forgotten', retired_at = ? "
                        "WHERE id = ?",
                        (now, item),
                    )
                await self.db.execute(f"DELETE FROM memory_citations WHERE {kind}_id = ?", (item,))
                await self.db.execute(
                    "DELETE FROM memory_fts WHERE ref_id = ? AND kind IN (?, ?)",
                    (str(item), kind, "open_item" if kind == "note" else kind),
                )
                done.append(f"{kind} #{item}")
        if done:
            await self._retire_citations("id", [])
        return done

    async def _set_state(
        self, session_id: str, now: float, state: Mapping[str, str]
    ) -> list[StateChange]:
        changes = []
        for raw_key, raw_value in state.items():
            key, value = raw_key.strip(), str(raw_value)
            rows = await self._fetch(
                "SELECT version, value FROM state WHERE key = ? ORDER BY version DESC LIMIT 1",
                (key,),
            )
            version, previous = (int(rows[0][0]), str(rows[0][1])) if rows else (0, None)
            if previous == value:
                continue
            await self.db.execute(
                "INSERT INTO state (key, version, value, session_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, version + 1, value, session_id, now),
            )
            await self._unindex("state", key)
            await self._index("state", key, f"{key}: {value}")
            changes.append(StateChange(key, value, version + 1, previous))
        return changes

    async def _resolve(self, ids: Sequence[int], warnings: list[str]) -> list[int]:
        done = []
        for item in ids:
            rows = await self._fetch(
                "SELECT resolved FROM notes WHERE id = ? AND kind = 'open_item'", (item,)
            )
            if not rows:
                raise ValueError(f"resolve: no open item #{item}")
            if rows[0][0]:
                warnings.append(f"open item #{item} was already resolved")
                continue
            await self.db.execute("UPDATE notes SET resolved = 1 WHERE id = ?", (item,))
            done.append(item)
        return done

    async def state_history(self, key: str) -> list[tuple[int, str, float, str]]:
        """Every version of a state key, newest first: (version, value, updated_at, session)."""
        rows = await self._fetch(
            "SELECT version, value, updated_at, session_id FROM state WHERE key = ? "
            "ORDER BY version DESC",
            (key,),
        )
        return [(int(r[0]), str(r[1]), float(r[2]), str(r[3])) for r in rows]

    # ---- verification ---------------------------------------------------------------------
    async def _index_seen(self) -> str:
        rows = await self._fetch("SELECT value FROM meta WHERE key = 'last_update'")
        return str(rows[0][0]) if rows else ""

    async def verify(self) -> int:
        """Check every live citation whose file changed since its last check, and every stale
        one a re-indexed file may now hold; store what was found. Returns how many were
        checked. Unchanged files are only stat'ed, never read."""
        if self.workspace is None:
            return 0
        view = CodeView(self.db, self.workspace)
        async with self._transaction("BEGIN"):
            signed = await self._fetch("SELECT path, size, mtime_ns FROM memory_files")
            seen = await self._index_seen()
            stale = await self._fetch(
                "SELECT id, symbol, index_seen FROM memory_citations WHERE status = 'stale' "
                "AND active = 1 AND index_seen IS NOT ?",
                (seen,),
            )
            recheck = await self._stale_to_recheck(stale)
            # A file the index dropped (deleted, ignored, now secret) is checked again.
            unindexed = {
                str(r[0])
                for r in await self._fetch(
                    "SELECT m.path FROM memory_files m LEFT JOIN files f ON f.path = m.path "
                    "AND f.skip_reason IS NULL WHERE f.id IS NULL"
                )
            }
        ignore = load_ocpignore(self.workspace)
        changed = {}
        for path, size, mtime in signed:
            excluded = path in unindexed or path_exclusion(path, ignore) is not None
            sig = UNINDEXED if excluded else view.stat(path)
            if sig != (size, mtime):
                changed[path] = sig
        if not changed and not stale:
            return 0
        async with self._transaction():
            rows = []
            paths = list(changed)
            for start in range(0, len(paths), 400):
                chunk = paths[start : start + 400]
                rows += await self._fetch(
                    f"{_STORED} WHERE active = 1 AND path IN ({_placeholders(len(chunk))})",
                    chunk,
                )
            for start in range(0, len(recheck), 400):
                chunk = recheck[start : start + 400]
                rows += await self._fetch(
                    f"{_STORED} WHERE id IN ({_placeholders(len(chunk))})", chunk
                )
            checked = {}
            for row in rows:
                stored = Stored(
                    row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7]
                )
                if stored.id not in checked:
                    checked[stored.id] = await view.check(stored)
            now = self.clock()
            moved_to: list[tuple[str, tuple[int, int]]] = []
            updates = []
            for row in rows:
                result = checked.pop(row[0], None)
                if result is None:
                    continue
                where, status = result.where, result.status
                if status == "stale" or where is None:
                    updates.append(
                        (
                            "stale", row[1], row[2], row[3], row[4], row[5], row[10],
                            result.change, seen, now, row[0],
                        )
                    )  # fmt: skip
                    continue
                moved_from = f"{row[1]}:{row[2]}-{row[3]}" if status == "moved" else None
                updates.append(
                    (
                        status, where.path, where.start_line, where.end_line, where.symbol,
                        int(where.whole), moved_from, None, seen, now, row[0],
                    )
                )  # fmt: skip
                if where.path != row[1]:
                    moved_to.append((where.path, view.stat(where.path)))
            await self.db.executemany(
                "UPDATE memory_citations SET status = ?, path = ?, start_line = ?, end_line = ?, "
                "symbol = ?, whole = ?, moved_from = ?, change = ?, index_seen = ?, "
                "checked_at = ? WHERE id = ?",
                updates,
            )
            if recheck or stale:
                await self.db.execute(
                    "UPDATE memory_citations SET index_seen = ? WHERE status = 'stale' "
                    "AND active = 1",
                    (seen,),
                )
            await self._sign([*changed.items(), *moved_to])
            await self._retire_citations("id", [])
        return len(updates)

    async def _stale_to_recheck(self, stale: Sequence[Any]) -> list[int]:
        """Stale citations whose symbol a file indexed since their last check defines."""
        if not stale:
            return []
        since = min(_float(r[2]) for r in stale)
        fresh = {
            str(r[0])
            for r in await self._fetch(
                "SELECT DISTINCT c.symbol FROM files f JOIN chunks c ON c.file_id = f.id "
                "WHERE f.indexed_at > ? AND c.symbol IS NOT NULL",
                (since,),
            )
        }
        return [int(r[0]) for r in stale if r[1] and str(r[1]).rsplit(".", 1)[-1] in fresh]

    # ---- restore --------------------------------------------------------------------------
    async def restore(
        self,
        *,
        query: str | None = None,
        max_tokens: int = 2000,
        exclude_session: str | None = None,
        stale: StaleMode = "list",
        value_cost: Callable[[Any], int] | None = None,
        overhead: int = 0,
    ) -> Brief:
        """A brief of what earlier sessions left, never over `max_tokens` (estimated).

        Every cited memory is checked first (`verify`): valid and moved ones are served as
        facts with their citations, stale ones are listed apart with what changed
        (`stale="list"`) or only counted (`stale="count"`), uncited ones are marked. Items
        matching `query` come first in every section (best match, then the newest), then the
        rest, newest first; sections fill in order (active decisions, stale, open items,
        state, session summaries, notes, notable routes). What did not fit is counted in
        `omitted` and said in the text. `value_cost` prices each item's structured form
        too, `overhead` the fixed rest of the caller's result, so that the whole result
        fits. Serving a memory that is not stale renews it; memories not renewed for the
        TTL expire here. `exclude_session` (usually the current one) leaves out that
        session's summary, notes and routes.
        """
        if max_tokens < 0:
            raise ValueError("max_tokens: must be 0 or more")
        if stale not in ("list", "count"):
            raise ValueError("stale: expected 'list' or 'count'")
        query = query.strip() if query and query.strip() else None
        await self.verify()
        now = self.clock()
        cutoff = now - self.ttl_seconds if self.ttl_seconds else float("-inf")
        async with self._transaction("BEGIN"):
            scores = await self._match(query) if query else {}
            decisions, notes = await self._memories(scores, cutoff, exclude_session)
            items = (
                decisions
                + await self._open_item_items(scores.get("open_item", {}), cutoff)
                + await self._state_items(scores.get("state", {}))
                + await self._session_items(scores.get("session", {}), exclude_session)
                + notes
                + await self._trace_items(scores.get("trace", {}), exclude_session)
            )
            totals = await self._totals(cutoff, exclude_session)
            expired = await self._expired(cutoff)
        if stale == "count":
            items = [i for i in items if i.section != "stale"]
        brief = _fit(
            items, max_tokens, query, totals,
            value_cost=value_cost, overhead=overhead, stale_mode=stale, expired=len(expired),
        )  # fmt: skip
        await self._renew(brief, now, expired)
        return brief

    async def _expired(self, cutoff: float) -> list[tuple[str, int]]:
        if cutoff == float("-inf"):
            return []
        rows = await self._fetch(
            f"SELECT 'decision', id FROM decisions WHERE status = 'active' AND {_LIVE} "
            "AND renewed_at < ? UNION ALL "
            f"SELECT 'note', id FROM notes WHERE kind IN ('note', 'open_item', 'outcome') "
            f"AND {_LIVE} AND renewed_at < ?",
            (cutoff, cutoff),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    async def _renew(self, brief: Brief, now: float, expired: Sequence[tuple[str, int]]) -> None:
        """Renew what was served as a fact (not stale) and not renewed lately; retire what
        expired. Skipped entirely when there is nothing to write."""
        due = now - RENEW_AFTER
        decisions = [d.id for d in brief.decisions if d.renewed_at < due]
        notes = [n.id for n in (*brief.notes, *brief.open_items) if n.renewed_at < due]
        if not (decisions or notes or expired):
            return
        async with self._transaction():
            for table, ids in (("decisions", decisions), ("notes", notes)):
                if ids:
                    marks = _placeholders(len(ids))
                    await self.db.execute(
                        f"UPDATE {table} SET renewed_at = ? WHERE id IN ({marks})", (now, *ids)
                    )
            for kind, column in (("decision", "decision_id"), ("note", "note_id")):
                ids = [i for k, i in expired if k == kind]
                if not ids:
                    continue
                table = f"{kind}s"
                for start in range(0, len(ids), 400):
                    chunk = ids[start : start + 400]
                    await self.db.execute(
                        f"UPDATE {table} SET retired = 'expired', retired_at = ? "
                        f"WHERE id IN ({_placeholders(len(chunk))}) AND retired IS NULL",
                        (now, *chunk),
                    )
                await self._retire_citations(column, ids)

    async def _selective(self, terms: list[str], keep: int | None = None) -> list[str]:
        """The terms worth matching: those in at most COMMON_SHARE of the memory index (all
        present ones if none is that rare), the `keep` rarest when given."""
        if not terms:
            return []
        rows = await self._fetch(
            f"SELECT term, doc FROM memory_vocab WHERE term IN ({_placeholders(len(terms))})",
            terms,
        )
        df = {str(r[0]): int(r[1]) for r in rows}
        present = sorted((t for t in terms if df.get(t)), key=lambda t: df[t])
        if not present:
            return []
        total = int((await self._fetch("SELECT count(*) FROM memory_fts"))[0][0]) or 1
        rare = [t for t in present if df[t] <= total * COMMON_SHARE] or present[:3]
        return rare[:keep] if keep else rare

    async def _match(self, query: str) -> dict[str, dict[str, float]]:
        terms = await self._selective(query_terms(query))
        if not terms:
            return {}
        rows = await self._fetch(
            "SELECT kind, ref_id, bm25(memory_fts) FROM memory_fts WHERE memory_fts MATCH ? "
            "ORDER BY rank LIMIT ?",
            (fts_query(terms), MATCHES),
        )
        out: dict[str, dict[str, float]] = {}
        for kind, ref_id, score in rows:
            out.setdefault(str(kind), {})[str(ref_id)] = float(score)
        return out

    async def _rows(
        self,
        select: str,
        where: str,
        order: str,
        key: str,
        matched: Mapping[str, float],
        args: Sequence[Any] = (),
    ) -> list[Any]:
        """The most recent CANDIDATES rows plus every matched one, without duplicates."""
        rows = await self._fetch(
            f"{select} WHERE {where} ORDER BY {order} LIMIT ?", (*args, CANDIDATES)
        )
        seen = {str(r[0]) for r in rows}
        wanted = [m for m in matched if m not in seen]
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            rows += await self._fetch(
                f"{select} WHERE {where} AND {key} IN ({_placeholders(len(chunk))})",
                (*args, *chunk),
            )
        return rows

    async def _memories(
        self, scores: Mapping[str, Mapping[str, float]], cutoff: float, exclude: str | None
    ) -> tuple[list[_Item], list[_Item]]:
        """Decisions and notes, each with its citations' states: a memory with a stale
        citation goes to the stale section."""
        matched_d = scores.get("decision", {})
        matched_n = scores.get("note", {})
        decisions = await self._rows(
            "SELECT id, title, decision, rationale, created_at, session_id, trace_id, "
            "renewed_at FROM decisions",
            f"status = 'active' AND {_LIVE} AND renewed_at >= ?",
            "created_at DESC, id DESC",
            "id",
            matched_d,
            (cutoff,),
        )
        where = (
            f"(kind = 'note' OR (kind = 'outcome' AND trace_id IS NULL)) AND {_LIVE} "
            "AND renewed_at >= ?" + (" AND session_id != ?" if exclude else "")
        )
        notes = await self._rows(
            "SELECT id, kind, text, created_at, session_id, trace_id, renewed_at FROM notes",
            where,
            "created_at DESC, id DESC",
            "id",
            matched_n,
            (cutoff, exclude) if exclude else (cutoff,),
        )
        cites = await self._citations("decision_id", [r[0] for r in decisions])
        note_cites = await self._citations("note_id", [r[0] for r in notes])
        items = []
        for r in decisions:
            states = cites.get(r[0], ())
            section = "stale" if any(c.status == "stale" for c in states) else "decisions"
            items.append(
                _Item(section, (r, states), r[4], r[0], matched_d.get(str(r[0])), _decision)
            )
        note_items = []
        for r in notes:
            states = note_cites.get(r[0], ())
            section = "stale" if any(c.status == "stale" for c in states) else "notes"
            note_items.append(
                _Item(section, (r, states), r[3], r[0], matched_n.get(str(r[0])), _note_line)
            )
        return items, note_items

    async def _citations(
        self, column: str, ids: Sequence[int]
    ) -> dict[int, tuple[CitationState, ...]]:
        out: dict[int, list[CitationState]] = {}
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            for r in await self._fetch(
                f"SELECT {column}, path, start_line, end_line, symbol, status, moved_from, "
                f"change, cited FROM memory_citations WHERE active = 1 AND {column} IN "
                f"({_placeholders(len(chunk))}) ORDER BY id",
                chunk,
            ):
                out.setdefault(int(r[0]), []).append(
                    CitationState(f"{r[1]}:{r[2]}-{r[3]}", r[4], r[5], r[6], r[7], r[8])
                )
        return {k: tuple(v) for k, v in out.items()}

    async def _totals(self, cutoff: float, exclude: str | None) -> dict[str, int]:
        """How many items each section holds in all (for what was left out)."""
        ex = exclude or ""
        stale_d = (
            "EXISTS (SELECT 1 FROM memory_citations c WHERE c.decision_id = decisions.id "
            "AND c.active = 1 AND c.status = 'stale')"
        )
        stale_n = (
            "EXISTS (SELECT 1 FROM memory_citations c WHERE c.note_id = notes.id "
            "AND c.active = 1 AND c.status = 'stale')"
        )
        live_d = f"status = 'active' AND {_LIVE} AND renewed_at >= :cut"
        live_n = (
            f"(kind = 'note' OR (kind = 'outcome' AND trace_id IS NULL)) AND {_LIVE} "
            "AND renewed_at >= :cut AND session_id != :ex"
        )
        row = (
            await self._fetch(
                f"SELECT (SELECT count(*) FROM decisions WHERE {live_d}), "
                f"(SELECT count(*) FROM decisions WHERE {live_d} AND {stale_d}), "
                f"(SELECT count(*) FROM notes WHERE {live_n}), "
                f"(SELECT count(*) FROM notes WHERE {live_n} AND {stale_n}), "
                "(SELECT count(*) FROM notes WHERE kind = 'open_item' AND resolved = 0 "
                f"AND {_LIVE} AND renewed_at >= :cut), "
                "(SELECT count(DISTINCT key) FROM state), "
                "(SELECT count(*) FROM sessions WHERE summary IS NOT NULL AND id != :ex), "
                f"(SELECT count(*) FROM traces WHERE {_NOTABLE} AND session_id != :ex)",
                {"cut": cutoff, "ex": ex},
            )
        )[0]
        return {
            "decisions": row[0] - row[1],
            "stale": row[1] + row[3],
            "notes": row[2] - row[3],
            "open_items": row[4],
            "state": row[5],
            "sessions": row[6],
            "traces": row[7],
        }

    async def _open_item_items(self, matched: Mapping[str, float], cutoff: float) -> list[_Item]:
        rows = await self._rows(
            "SELECT id, kind, text, created_at, session_id, trace_id, renewed_at FROM notes",
            f"kind = 'open_item' AND resolved = 0 AND {_LIVE} AND renewed_at >= ?",
            "created_at DESC, id DESC",
            "id",
            matched,
            (cutoff,),
        )
        return [
            _Item("open_items", (r, ()), r[3], r[0], matched.get(str(r[0])), _open_item_line)
            for r in rows
        ]

    async def _state_items(self, matched: Mapping[str, float]) -> list[_Item]:
        # SQLite takes the bare columns from the row holding max(version).
        select = (
            "SELECT key, value, updated_at, seq FROM (SELECT key, value, updated_at, "
            "rowid AS seq, max(version) FROM state GROUP BY key)"
        )
        rows = await self._rows(select, "1", "updated_at DESC, seq DESC", "key", matched)
        return [_Item("state", r, r[2], r[3], matched.get(r[0]), _state_line) for r in rows]

    async def _session_items(
        self, matched: Mapping[str, float], exclude: str | None
    ) -> list[_Item]:
        where = "summary IS NOT NULL" + (" AND id != ?" if exclude else "")
        rows = await self._rows(
            "SELECT id, workspace, started_at, ended_at, summary, rowid FROM sessions",
            where,
            "started_at DESC, rowid DESC",
            "id",
            matched,
            (exclude,) if exclude else (),
        )
        return [_Item("sessions", r, r[2], r[5], matched.get(r[0]), _session_line) for r in rows]

    async def _trace_items(self, matched: Mapping[str, float], exclude: str | None) -> list[_Item]:
        where = _NOTABLE + (" AND session_id != ?" if exclude else "")
        rows = await self._rows(
            "SELECT id, created_at, decision, route_to, model, task_type, cost_usd, "
            "substr(request, 1, 1000), outcome, answered_by, rowid FROM traces",
            where,
            "created_at DESC, rowid DESC",
            "id",
            matched,
            (exclude,) if exclude else (),
        )
        return [_Item("traces", r, r[1], r[10], matched.get(r[0]), _trace_line) for r in rows]

    # ---- stats ----------------------------------------------------------------------------
    async def stats(
        self, since: float | None = None, *, workspace: str = "", counterfactual_model: str = ""
    ) -> dict[str, Any]:
        """The savings report (see savings.py) over the traces since `since` (all when None)."""
        return await savings_report(
            self.db,
            since=since,
            workspace=workspace,
            counterfactual_model=counterfactual_model,
            now=self.clock(),
        )

    async def spent_since(self, since: float) -> float:
        """What paid routes have cost since `since` (the daily budget's ledger)."""
        rows = await self._fetch(
            "SELECT coalesce(sum(cost_usd), 0) FROM traces WHERE created_at >= ?", (since,)
        )
        return float(rows[0][0])


# ---- save helpers --------------------------------------------------------------------------
@dataclass(slots=True)
class _SaveOut:
    decision_ids: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    note_ids: list[int] = field(default_factory=list)
    open_item_ids: list[int] = field(default_factory=list)
    merged: list[Merged] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _indexed_text(text: str, citations: Sequence[Located]) -> str:
    """A memory is found by what it says and by the code it cites."""
    cited = " ".join(f"{c.path} {c.symbol or ''}" for c in citations)
    return f"{text}\n{cited}" if cited else text


def _merge_warning(field: str, what: str, into: int, alike: float, added: int) -> str:
    extra = f"; {added} new citation(s) added to it" if added else ""
    return (
        f"{field} is near-identical to live {what} #{into} ({alike:.0%} alike): merged into it "
        f"instead of saving a duplicate{extra}"
    )


def _check_decisions(decisions: Sequence[DecisionIn]) -> None:
    for n, d in enumerate(decisions):
        if not d.title.strip():
            raise ValueError(f"decisions[{n}].title: must not be empty")
        if not d.decision.strip():
            raise ValueError(f"decisions[{n}].decision: must not be empty")
        if d.supersedes is not None and (
            isinstance(d.supersedes, bool) or not isinstance(d.supersedes, int)
        ):
            raise ValueError(f"supersedes: decisions[{n}].supersedes must be a decision id")


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


# ---- rendering -----------------------------------------------------------------------------
def _citation_tag(states: Sequence[CitationState]) -> str:
    """` [valid: a.py:1-3]`, ` [moved: a.py:1-3 → b.py:4-6]`, ` [uncited]`."""
    if not states:
        return " [uncited]"
    parts = []
    for c in states:
        if c.status == "moved" and c.moved_from:
            parts.append(f"moved: {c.moved_from} → {c.citation}")
        else:
            parts.append(f"{c.status}: {c.citation}")
    return " [" + "; ".join(parts) + "]"


def _verified(states: Sequence[CitationState]) -> str:
    if not states:
        return "uncited"
    return "moved" if any(c.status == "moved" for c in states) else "valid"


def _decision(item: _Item) -> tuple[Any, str, bool]:
    r, states = item.row
    title, cut1 = _cap(r[1], CAP_TITLE)
    decision, cut2 = _cap(r[2], CAP_DECISION)
    rationale, cut3 = _cap(r[3], CAP_RATIONALE) if r[3] else (None, False)
    cut = cut1 or cut2 or cut3
    if item.section == "stale":
        text, cut4 = _cap(f"{title}: {decision}", CAP_STALE)
        stale = StaleBrief("decision", r[0], title, decision, r[4], tuple(states))
        return stale, f"- decision #{r[0]} **{text}**{_stale_tag(states)}", cut or cut4
    value = DecisionBrief(
        r[0], title, decision, rationale, r[4], r[5], r[6], _verified(states), tuple(states), r[7]
    )
    why = f" — why: {rationale}" if rationale else ""
    line = f"- #{r[0]} **{title}**: {decision}{why} ({_when(r[4])}){_citation_tag(states)}"
    return value, line, cut


def _stale_tag(states: Sequence[CitationState]) -> str:
    parts = []
    for c in states:
        if c.status == "stale":
            change, _ = _cap(c.change or "changed", CAP_CHANGE)
            parts.append(f"cites {c.cited}: {change}")
    return " — " + "; ".join(parts)


def _note_line(item: _Item) -> tuple[Any, str, bool]:
    r, states = item.row
    text, cut = _cap(r[2], CAP_TEXT)
    if item.section == "stale":
        short, cut2 = _cap(r[2], CAP_STALE)
        stale = StaleBrief("note", r[0], None, short, r[3], tuple(states))
        return stale, f"- note #{r[0]}: {short}{_stale_tag(states)}", cut or cut2
    value = NoteBrief(r[0], r[1], text, r[3], r[4], r[5], _verified(states), tuple(states), r[6])
    return value, f"- #{r[0]} {text} ({_when(r[3])}){_citation_tag(states)}", cut


def _open_item_line(item: _Item) -> tuple[Any, str, bool]:
    r, _ = item.row
    text, cut = _cap(r[2], CAP_TEXT)
    value = NoteBrief(r[0], r[1], text, r[3], r[4], r[5], "uncited", (), r[6])
    return value, f"- #{r[0]} {text} ({_when(r[3])})", cut


def _state_line(item: _Item) -> tuple[Any, str, bool]:
    key, raw = item.row[0], item.row[1]
    value, cut = _cap(raw, CAP_STATE)
    return (key, value), f"- `{_one_line(key)}` = {value}", cut


def _session_line(item: _Item) -> tuple[Any, str, bool]:
    r = item.row
    summary, cut = _cap(r[4], CAP_TEXT)
    value = SessionBrief(r[0], r[1], r[2], r[3], summary)
    return value, f"- {_when(r[2])} `{r[0][:12]}`: {summary}", cut


def _trace_line(item: _Item) -> tuple[Any, str, bool]:
    r = item.row
    why = tuple(
        name
        for name, on in (
            ("error", r[9] is None),
            ("fallback", r[2] != r[3]),
            ("paid", r[3] == "paid"),
            ("outcome", r[8] is not None),
        )
        if on
    )
    request, _ = _cap(r[7], CAP_REQUEST)
    outcome, cut = _cap(r[8], CAP_TEXT) if r[8] else (None, False)
    value = TraceBrief(r[0], r[1], why, r[2], r[3], r[4], r[5], r[6], request, outcome)
    route = r[3] if r[2] == r[3] else f"{r[2]}->{r[3]}"
    cost = f", {_usd(r[6])}" if r[3] == "paid" else ""
    line = (
        f"- {_when(r[1])} `{r[0][:8]}` [{', '.join(why)}] {route} {r[4]} "
        f"({r[5]}{cost}): {request}" + (f" → {outcome}" if outcome else "")
    )
    return value, line, cut


# ---- fitting -------------------------------------------------------------------------------
def _ranked(items: list[_Item], now: float) -> list[_Item]:
    """Matches first, best blended with recent; then the rest, newest first."""
    best = min((i.score for i in items if i.score is not None), default=0.0) or -1.0

    def key(i: _Item) -> tuple[int, float, float, int]:
        if i.score is None:
            return (1, 0.0, -i.created_at, -i.seq)
        relevance = i.score / best  # bm25: lower is better; the best match is 1.0
        recency = 0.5 ** (max(0.0, now - i.created_at) / RECENCY_HALF_LIFE)
        return (0, -(0.8 * relevance + 0.2 * recency), -i.created_at, -i.seq)

    return sorted(items, key=key)


def _fit(
    items: list[_Item],
    max_tokens: int,
    query: str | None,
    totals: Mapping[str, int],
    *,
    value_cost: Callable[[Any], int] | None = None,
    overhead: int = 0,
    stale_mode: StaleMode = "list",
    expired: int = 0,
) -> Brief:
    """Fill the sections within the budget, matches first, then the rest; never over it."""
    now = max((i.created_at for i in items), default=0.0)
    by_section: dict[str, list[_Item]] = {s: [] for s, _ in _SECTIONS}
    for item in items:
        by_section[item.section].append(item)
    ranked = {s: _ranked(v, now) for s, v in by_section.items()}
    budget = max_tokens - overhead
    used = estimate_tokens(_TITLE) + 1 + FOOTER_RESERVE
    chosen: list[_Item] = []
    opened: set[str] = set()
    full: set[str] = set()
    passes = (True, False) if query else (None,)
    for matched_pass in passes:
        for section, header in _SECTIONS:
            if section in full:
                continue
            for item in ranked[section]:
                if item.taken or (
                    matched_pass is not None and (item.score is not None) != matched_pass
                ):
                    continue
                value, line, _ = item.made()
                # +1 per line covers the newline and the rounding of per-line estimates.
                cost = estimate_tokens(line) + 1
                if value_cost is not None:
                    cost += value_cost(value)
                if section not in opened:
                    cost += estimate_tokens(header) + 2  # and the blank line before it
                if used + cost > budget:
                    full.add(section)
                    break
                item.taken = True
                opened.add(section)
                chosen.append(item)
                used += cost
    order = {s: n for n, (s, _) in enumerate(_SECTIONS)}
    chosen.sort(key=lambda i: order[i.section])
    # Sort within sections by rank again: pass two may have added after pass one.
    position = {id(i): n for s in ranked for n, i in enumerate(ranked[s])}
    chosen.sort(key=lambda i: (order[i.section], position[id(i)]))

    def omitted_now(kept: Sequence[_Item]) -> dict[str, int]:
        counts = {s: totals.get(s, len(by_section[s])) for s, _ in _SECTIONS}
        if stale_mode == "count":
            counts["stale"] = 0
        for i in kept:
            counts[i.section] -= 1
        return {s: n for s, n in counts.items() if n > 0}

    omitted = omitted_now(chosen)
    text = _render(
        chosen, _footer(omitted, max_tokens, totals.get("stale", 0), stale_mode, expired)
    )

    def total(text: str, kept: Sequence[_Item]) -> int:
        extra = sum(value_cost(i.made()[0]) for i in kept) if value_cost else 0
        return estimate_tokens(text) + extra + overhead

    while chosen and total(text, chosen) > max_tokens:  # a safety net; not expected
        chosen.pop()
        omitted = omitted_now(chosen)
        text = _render(
            chosen, _footer(omitted, max_tokens, totals.get("stale", 0), stale_mode, expired)
        )
    if not items and not any(totals.values()):
        text = _EMPTY if estimate_tokens(_EMPTY) + overhead <= max_tokens else ""
    elif total(text, chosen) > max_tokens:
        text = ""
    truncated = bool(omitted) or any(i.made()[2] for i in chosen)

    def values(section: str) -> tuple[Any, ...]:
        return tuple(i.made()[0] for i in chosen if i.section == section)

    return Brief(
        decisions=values("decisions"),
        open_items=values("open_items"),
        state=dict(values("state")),
        sessions=values("sessions"),
        notes=values("notes"),
        traces=values("traces"),
        stale=values("stale"),
        text=text,
        tokens=estimate_tokens(text),
        truncated=truncated,
        query=query,
        matched=sum(1 for i in chosen if i.score is not None),
        omitted=omitted,
        stale_count=totals.get("stale", 0),
        expired=expired,
    )


def _footer(
    omitted: Mapping[str, int], max_tokens: int, stale: int, stale_mode: StaleMode, expired: int
) -> str:
    """What the brief left out, in one line (empty when nothing was)."""
    parts = [f"{n:,} {_NOUNS[s]}" for s, n in omitted.items()]
    notes = []
    if parts:
        notes.append(f"left out to fit max_tokens={max_tokens:,}: {', '.join(parts)}")
    if stale_mode == "count" and stale:
        notes.append(f"{stale:,} stale memories (their cited code changed) not listed")
    if expired:
        notes.append(f"{expired:,} memories expired (not served and valid for the TTL)")
    if not notes:
        return ""
    return "_" + "; ".join(notes).capitalize() + "._"


def _render(chosen: Sequence[_Item], footer: str) -> str:
    if not chosen and not footer:
        return ""
    lines = [_TITLE]
    for section, header in _SECTIONS:
        items = [i for i in chosen if i.section == section]
        if items:
            lines += ["", header]
            lines += [i.made()[1] for i in items]
    if footer:
        lines += ["", footer]
    return "\n".join(lines)
