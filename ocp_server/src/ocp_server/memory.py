"""Session memory: what earlier sessions left for the next one, and every route's trace.

Behind two MCP tools: `ocp_result_save` (MemoryStore.save) persists summaries, decisions,
versioned state, notes and open items, linked to a route trace when given; and
`ocp_session_restore` (MemoryStore.restore) hands back a token-budgeted brief of it. Every
model-route call stores its full trace (MemoryStore.record_trace).

Nothing is silently overwritten: a decision is only retired by superseding it by id (a second
decision with the same title stays beside the first, with a warning), a new state value is a
new version row (older ones stay), and every summary and outcome is also kept as a note.

A session is one server run, or an explicit session id a client keeps across runs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import aiosqlite

from ocp_router._tokens import estimate_tokens
from ocp_server.index.terms import body_terms, fts_query, query_terms
from ocp_server.savings import savings_report

__all__ = [
    "Brief",
    "DecisionBrief",
    "DecisionIn",
    "MemoryStore",
    "NoteBrief",
    "SaveResult",
    "SessionBrief",
    "StateChange",
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
_FTS_TEXT: Final = 4000  # characters of a text indexed for relevance

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
    """A decision to save. `supersedes`: the id of an earlier decision this one replaces."""

    title: str
    decision: str
    rationale: str | None = None
    supersedes: int | None = None


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
    id: int
    title: str
    decision: str
    rationale: str | None
    created_at: float
    session_id: str
    trace_id: str | None


@dataclass(frozen=True, slots=True)
class NoteBrief:
    """A note or an open item (`kind` note, open_item or outcome)."""

    id: int
    kind: str
    text: str
    created_at: float
    session_id: str
    trace_id: str | None


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
    """One candidate line of a brief, with how it ranks."""

    section: str
    value: Any
    line: str
    created_at: float
    seq: int
    score: float | None  # bm25 (lower is better); None: did not match the query
    cut: bool

    def order(self) -> tuple[int, float, float, int]:
        matched = self.score is not None
        return (0 if matched else 1, self.score or 0.0, -self.created_at, -self.seq)


_SECTIONS: Final = (
    ("decisions", "## Active decisions (supersede by id)"),
    ("open_items", "## Open items"),
    ("state", "## State"),
    ("sessions", "## Earlier sessions"),
    ("notes", "## Notes"),
    ("traces", "## Notable routes"),
)
_TITLE: Final = "# Session memory"
_EMPTY: Final = "Nothing saved by earlier sessions yet."


def _render(chosen: Sequence[_Item]) -> str:
    if not chosen:
        return ""
    lines = [_TITLE]
    for section, header in _SECTIONS:
        items = [i for i in chosen if i.section == section]
        if items:
            lines += ["", header]
            lines += [i.line for i in items]
    return "\n".join(lines)


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
    ) -> None:
        self.db = db
        self.clock = clock
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

    async def _fetch(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        return list(await self.db.execute_fetchall(sql, tuple(args)))

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
        notes: Sequence[str] = (),
        open_items: Sequence[str] = (),
        resolve: Sequence[int] = (),
    ) -> SaveResult:
        """Persist what the next session should know, all in one transaction.

        `outcome` is set on the trace (`trace_id` required for that) and kept as a note.
        `resolve`: ids of open items that are done. An unknown `trace_id`, `supersedes` or
        `resolve` id raises ValueError naming the field, and nothing is saved.
        """
        _check_decisions(decisions)
        for key in state:
            if not isinstance(key, str) or not key.strip():
                raise ValueError("state: keys must be non-empty strings")
        warnings: list[str] = []
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
            note_ids: list[int] = []
            if outcome and outcome.strip():
                note_ids.append(
                    await self._note(session_id, now, "outcome", outcome.strip(), trace_id)
                )
            if summary and summary.strip():
                await self._summarise(session_id, summary.strip(), now, trace_id)
            decision_ids, superseded = await self._decide(
                session_id, now, trace_id, decisions, warnings
            )
            changes = await self._set_state(session_id, now, state)
            for text in notes:
                if text.strip():
                    note_ids.append(
                        await self._note(session_id, now, "note", text.strip(), trace_id)
                    )
            open_ids = [
                await self._note(session_id, now, "open_item", text.strip(), trace_id)
                for text in open_items
                if text.strip()
            ]
            resolved = await self._resolve(resolve, warnings)
        return SaveResult(
            session_id=session_id,
            trace_id=trace_id,
            decision_ids=tuple(decision_ids),
            superseded=tuple(superseded),
            state=tuple(changes),
            note_ids=tuple(note_ids),
            open_item_ids=tuple(open_ids),
            resolved=tuple(resolved),
            warnings=tuple(warnings),
        )

    async def _note(
        self, session_id: str, now: float, kind: str, text: str, trace_id: str | None
    ) -> int:
        note_id = await self._insert(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (session_id, now, kind, text, trace_id),
        )
        if kind != "outcome" or trace_id is None:  # a trace's outcome is indexed with it
            await self._index("note" if kind == "outcome" else kind, note_id, text)
        else:
            await self._unindex("trace", trace_id)
            rows = await self._fetch("SELECT request FROM traces WHERE id = ?", (trace_id,))
            await self._index("trace", trace_id, f"{rows[0][0]}\n{text}")
        return note_id

    async def _decide(
        self,
        session_id: str,
        now: float,
        trace_id: str | None,
        decisions: Sequence[DecisionIn],
        warnings: list[str],
    ) -> tuple[list[int], list[int]]:
        ids: list[int] = []
        superseded: list[int] = []
        for n, d in enumerate(decisions):
            title = d.title.strip()
            if d.supersedes is not None:
                rows = await self._fetch(
                    "SELECT status, superseded_by FROM decisions WHERE id = ?", (d.supersedes,)
                )
                if not rows:
                    raise ValueError(
                        f"supersedes: decisions[{n}] supersedes #{d.supersedes}, "
                        "which does not exist"
                    )
                if rows[0][0] != "active":
                    raise ValueError(
                        f"supersedes: decision #{d.supersedes} is already superseded by "
                        f"#{rows[0][1]}; supersede that one instead"
                    )
            same = await self._fetch(
                "SELECT id FROM decisions WHERE title = ? COLLATE NOCASE AND status = 'active' "
                "AND id IS NOT ? ORDER BY id",
                (title, d.supersedes),
            )
            new_id = await self._insert(
                "INSERT INTO decisions (session_id, created_at, title, decision, rationale, "
                "trace_id) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    now,
                    title,
                    d.decision.strip(),
                    (d.rationale or "").strip() or None,
                    trace_id,
                ),
            )
            if same:
                others = ", ".join(f"#{r[0]}" for r in same)
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
                superseded.append(d.supersedes)
            text = f"{title}\n{d.decision}\n{d.rationale or ''}"
            await self._index("decision", new_id, text)
            ids.append(new_id)
        return ids, superseded

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

    # ---- restore --------------------------------------------------------------------------
    async def restore(
        self,
        *,
        query: str | None = None,
        max_tokens: int = 2000,
        exclude_session: str | None = None,
    ) -> Brief:
        """A brief of what earlier sessions left, never over `max_tokens` (estimated).

        Sections fill in priority order (active decisions, open items, state, session
        summaries, notes, notable routes); within each, items matching `query` come first
        (best bm25 first), then the most recent. `exclude_session` (usually the current one)
        leaves out that session's summary, notes and routes; decisions, open items and state
        are current whichever session wrote them.
        """
        if max_tokens < 0:
            raise ValueError("max_tokens: must be 0 or more")
        query = query.strip() if query and query.strip() else None
        async with self._transaction("BEGIN"):
            scores = await self._match(query) if query else {}
            items = (
                await self._decision_items(scores.get("decision", {}))
                + await self._open_item_items(scores.get("open_item", {}))
                + await self._state_items(scores.get("state", {}))
                + await self._session_items(scores.get("session", {}), exclude_session)
                + await self._note_items(scores.get("note", {}), exclude_session)
                + await self._trace_items(scores.get("trace", {}), exclude_session)
            )
        return _fit(items, max_tokens, query)

    async def _match(self, query: str) -> dict[str, dict[str, float]]:
        terms = query_terms(query)
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

    async def _decision_items(self, matched: Mapping[str, float]) -> list[_Item]:
        rows = await self._rows(
            "SELECT id, title, decision, rationale, created_at, session_id, trace_id "
            "FROM decisions",
            "status = 'active'",
            "created_at DESC, id DESC",
            "id",
            matched,
        )
        items = []
        for r in rows:
            title, cut1 = _cap(r[1], CAP_TITLE)
            decision, cut2 = _cap(r[2], CAP_DECISION)
            rationale, cut3 = _cap(r[3], CAP_RATIONALE) if r[3] else (None, False)
            value = DecisionBrief(r[0], title, decision, rationale, r[4], r[5], r[6])
            why = f" — why: {rationale}" if rationale else ""
            line = f"- #{r[0]} **{title}**: {decision}{why} ({_when(r[4])})"
            items.append(
                _Item(
                    "decisions",
                    value,
                    line,
                    r[4],
                    r[0],
                    matched.get(str(r[0])),
                    cut1 or cut2 or cut3,
                )
            )
        return items

    async def _note_rows(
        self, kind_where: str, matched: Mapping[str, float], exclude: str | None
    ) -> list[Any]:
        where = kind_where + (" AND session_id != ?" if exclude else "")
        return await self._rows(
            "SELECT id, kind, text, created_at, session_id, trace_id FROM notes",
            where,
            "created_at DESC, id DESC",
            "id",
            matched,
            (exclude,) if exclude else (),
        )

    def _note_item(self, section: str, r: Any, matched: Mapping[str, float]) -> _Item:
        text, cut = _cap(r[2], CAP_TEXT)
        value = NoteBrief(r[0], r[1], text, r[3], r[4], r[5])
        ref = f"#{r[0]} " if section == "open_items" else ""
        line = f"- {ref}{text} ({_when(r[3])})"
        return _Item(section, value, line, r[3], r[0], matched.get(str(r[0])), cut)

    async def _open_item_items(self, matched: Mapping[str, float]) -> list[_Item]:
        rows = await self._note_rows("kind = 'open_item' AND resolved = 0", matched, None)
        return [self._note_item("open_items", r, matched) for r in rows]

    async def _note_items(self, matched: Mapping[str, float], exclude: str | None) -> list[_Item]:
        rows = await self._note_rows(
            "(kind = 'note' OR (kind = 'outcome' AND trace_id IS NULL))", matched, exclude
        )
        return [self._note_item("notes", r, matched) for r in rows]

    async def _state_items(self, matched: Mapping[str, float]) -> list[_Item]:
        # SQLite takes the bare columns from the row holding max(version).
        select = (
            "SELECT key, value, updated_at, seq FROM (SELECT key, value, updated_at, "
            "rowid AS seq, max(version) FROM state GROUP BY key)"
        )
        rows = await self._rows(select, "1", "updated_at DESC, seq DESC", "key", matched)
        items = []
        for key, raw, updated, rowid in rows:
            value, cut = _cap(raw, CAP_STATE)
            line = f"- `{_one_line(key)}` = {value}"
            items.append(_Item("state", (key, value), line, updated, rowid, matched.get(key), cut))
        return items

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
        items = []
        for r in rows:
            summary, cut = _cap(r[4], CAP_TEXT)
            value = SessionBrief(r[0], r[1], r[2], r[3], summary)
            line = f"- {_when(r[2])} `{r[0][:12]}`: {summary}"
            items.append(_Item("sessions", value, line, r[2], r[5], matched.get(r[0]), cut))
        return items

    async def _trace_items(self, matched: Mapping[str, float], exclude: str | None) -> list[_Item]:
        where = (
            "(answered_by IS NULL OR route_to != decision OR route_to = 'paid' "
            "OR outcome IS NOT NULL)" + (" AND session_id != ?" if exclude else "")
        )
        rows = await self._rows(
            "SELECT id, created_at, decision, route_to, model, task_type, cost_usd, "
            "substr(request, 1, 1000), outcome, answered_by, rowid FROM traces",
            where,
            "created_at DESC, rowid DESC",
            "id",
            matched,
            (exclude,) if exclude else (),
        )
        items = []
        for r in rows:
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
            items.append(_Item("traces", value, line, r[1], r[10], matched.get(r[0]), cut))
        return items

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


def _fit(items: list[_Item], max_tokens: int, query: str | None) -> Brief:
    """Fill the sections in priority order within the budget; never over it."""
    by_section: dict[str, list[_Item]] = {s: [] for s, _ in _SECTIONS}
    for item in items:
        by_section[item.section].append(item)
    chosen: list[_Item] = []
    omitted: dict[str, int] = {}
    used = estimate_tokens(_TITLE) + 1
    for section, header in _SECTIONS:
        ranked = sorted(by_section[section], key=_Item.order)
        header_cost = estimate_tokens(header) + 2  # and the blank line before it
        taken = 0
        for n, item in enumerate(ranked):
            # +1 per line covers the newline and the rounding of per-line estimates.
            cost = estimate_tokens(item.line) + 1 + (header_cost if taken == 0 else 0)
            if used + cost > max_tokens:
                omitted[section] = len(ranked) - n
                break
            chosen.append(item)
            used += cost
            taken += 1
    text = _render(chosen)
    while chosen and estimate_tokens(text) > max_tokens:  # a safety net; not expected
        dropped = chosen.pop()
        omitted[dropped.section] = omitted.get(dropped.section, 0) + 1
        text = _render(chosen)
    if not items and estimate_tokens(_EMPTY) <= max_tokens:
        text = _EMPTY
    truncated = bool(omitted) or any(i.cut for i in chosen)

    def values(section: str) -> tuple[Any, ...]:
        return tuple(i.value for i in chosen if i.section == section)

    return Brief(
        decisions=values("decisions"),
        open_items=values("open_items"),
        state=dict(values("state")),
        sessions=values("sessions"),
        notes=values("notes"),
        traces=values("traces"),
        text=text,
        tokens=estimate_tokens(text),
        truncated=truncated,
        query=query,
        matched=sum(1 for i in chosen if i.score is not None),
        omitted=omitted,
    )
