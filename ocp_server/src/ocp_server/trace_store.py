"""The trace store: sessions and every model route's trace, on one SQLite connection.

`TraceStore` owns the connection's transactions and the sessions; `MemoryStore` (memory/)
builds session memory on top of it. A route is stored as one row of `traces` (`TraceRecord`,
made from the route's `RouteRecord` by name) plus one row of `route_attempts` per backend
tried; the savings report (savings.py) reads those tables.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Any, Final

import aiosqlite

from ocp_server.argument_errors import field_problem
from ocp_server.at_rest import kept_id, redacted, redacted_head
from ocp_server.cjk_terms import with_cjk_pairs
from ocp_server.errors import InputError
from ocp_server.index.terms import body_terms
from ocp_server.route_record import REQUEST_CHARS, RouteRecord
from ocp_server.savings import SavingsReport, savings_report
from ocp_server.transactions import begin as begin_transaction
from ocp_server.transactions import rollback
from ocp_wire.base import MAX_TRACE_ID_CHARS
from ocp_wire.save import PROXY_REQUEST_PREFIX

# The fewest characters of a trace id that name it (the short id printed everywhere is 8).
SHORT_TRACE_ID: Final = 8
_HEX_ID: Final = re.compile(r"[0-9a-fA-F]+(?:-[0-9a-fA-F]+)*")
#: The key of a proxied trace's `trace_json` holding its paid upstream's own request id
#: (ProxyRecord.upstream_request_id's name, which the recorder writes).
UPSTREAM_REQUEST_ID: Final = "upstream_request_id"

__all__ = [
    "AttemptRecord",
    "OUTCOMES_SINCE",
    "ROUTES_SINCE",
    "RouteRow",
    "TraceRecord",
    "TraceStore",
    "fts_text",
]

MAX_SESSION_ID: Final = 200
_FTS_TEXT: Final = 4000  # characters of a text indexed for relevance


def fts_text(text: str) -> str:
    """What the memory index holds of `text` (`_index`, and m036 for decisions it rewrites)."""
    return with_cjk_pairs(body_terms(text[:_FTS_TEXT]))


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
    cost_usd: float | None = None  # all the route was billed, failed_cost_usd included
    failed_cost_usd: float = 0.0  # of it, paid attempts that produced no answer
    cost_estimated: bool = False  # part of cost_usd is an estimate (a paid call cut short)
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
    local_unavailable: bool = False  # handed on only because the local model was unreachable
    fell_back: bool = False
    budget_note: str | None = None
    estimated_usd: float | None = None
    counterfactual_model: str | None = None
    attempts: tuple[AttemptRecord, ...] = ()
    dry_run: bool = False  # decided and built, no model called: neither an answer nor an error
    proxied: bool = False  # the routing proxy's (any client on the machine): briefs leave it out
    answer: str | None = None  # a model's answer cut for the client's limit: kept whole (m040)
    effort: str | None = None  # the thinking the caller asked (m049)

    @property
    def failed(self) -> bool:
        return self.answered_by is None and not self.dry_run

    @classmethod
    def of(cls, record: RouteRecord, *, trace_json: str) -> TraceRecord:
        """The row of a route: each column from the record's fact of the same name (or the
        one `_FROM_RECORD` names); the request redacted as memory keeps texts (at_rest.py: a
        token glued to a word too, as every output of it reads it) and clipped, only what is
        kept read (`redacted_head`)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            source = _FROM_RECORD.get(f.name, f.name)
            if hasattr(record, source):
                values[f.name] = _plain(getattr(record, source))
        request = record.request or f"({record.turns} messages)"
        values.update(
            request=redacted_head(request, REQUEST_CHARS),
            model=record.model or "",
            backend=record.backend or "",
            trace_json=trace_json,
            attempts=tuple(
                AttemptRecord(
                    a.tier.value, a.backend, a.model, a.outcome, a.duration_ms, a.error_type
                )
                for a in record.attempts
            ),
        )
        return cls(**values)


# Columns whose record fact has another name.
_FROM_RECORD: Final = {
    "id": "trace_id",
    "complexity": "complexity_score",
    "estimated_usd": "estimated_cost_usd",
    "phase2": "phase2_kind",
}
# The columns of `traces` a row fills (session_id and created_at are the store's).
_COLUMNS: Final = tuple(
    f.name for f in fields(TraceRecord) if f.name not in ("attempts", "created_at")
)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


def _as_ocp_id(said: str) -> str | None:
    """`said` as OCP stores a trace id (uuid4 hex, lower case: `8F3A…` or a dashed uuid was
    "no trace is recorded"; `req_ocp_<id>` is the proxy's name for its trace), or None when
    it cannot be one."""
    said = said.removeprefix(PROXY_REQUEST_PREFIX)
    if not _HEX_ID.fullmatch(said):
        return None
    return said.replace("-", "").lower()


#: The outcomes saved on routes past note id `?`, oldest first, each with its route's trace
#: (a dry run answered nothing) and when it was saved: what lifts conversations' floors
#: (outcomes.lift_floors). NOT INDEXED: by the rowid range, usually empty; SQLite's plan took
#: the index of notes by kind, every outcome ever saved read at each of the proxy's looks
#: after a write.
OUTCOMES_SINCE = (
    "SELECT n.id, n.text, t.trace_json, n.created_at FROM notes AS n NOT INDEXED "
    "JOIN traces AS t ON t.id = n.trace_id "
    "WHERE n.id > ? AND n.kind = 'outcome' AND NOT t.dry_run ORDER BY n.id"
)

#: What OCP_STICKY=upward lifts a floor by, of each stored route: its rowid, when, the tier
#: decided, the tier that answered (or NULL) and its trace's session and `forced` as a JSON
#: array (NULL: no valid trace). `_ROUTES` (the latest, at start: TraceStore.recent_routes);
#: ROUTES_SINCE: those past rowid `?`, oldest first, by the rowid range as OUTCOMES_SINCE
#: (outcomes.lift_routes; floors_elsewhere.py).
_ROUTES = (
    "SELECT rowid, created_at, tier, answered_tier, json_extract(CASE WHEN "
    "json_valid(trace_json) THEN trace_json END, '$.trace.session', '$.trace.forced') "
    "FROM traces"
)
RouteRow = tuple[int, float, str, str | None, str | None]
ROUTES_SINCE = f"{_ROUTES} NOT INDEXED WHERE rowid > ? AND tier IS NOT NULL ORDER BY rowid"


class TraceStore:
    """Sessions and route traces on an open connection (from `ocp_server.db.connect`).

    Writes run one transaction each (`BEGIN IMMEDIATE`); calls on one store are serialised by
    `lock`: pass the lock of anything else that runs transactions on the same connection.
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
            await begin_transaction(self.db, begin)
            try:
                yield
            except BaseException:
                self._rolled_back()
                await rollback(self.db)
                raise
            try:
                await self.db.execute("COMMIT")
            except BaseException:
                self._rolled_back()
                raise

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
        indexed = fts_text(text)
        await self.db.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES (?, ?, ?)",
            (kind, str(ref_id), indexed),
        )
        await self.db.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), ?, ?)",
            (kind, str(ref_id)),
        )
        self._indexed(indexed)

    def _indexed(self, text: str) -> None:
        """Called after `text` is added to the relevance index (MemoryStore counts its words)."""

    def _unindexed(self, text: str) -> None:
        """Called after `text` is deleted from the relevance index (as `_indexed`)."""

    def _rolled_back(self) -> None:
        """Called when a transaction is rolled back: what `_indexed` saw is undone."""

    async def _unindex(self, kind: str, ref_id: str | int) -> None:
        rows = await self._fetch(
            "SELECT r.id, f.text FROM memory_refs r JOIN memory_fts f ON f.rowid = r.id "
            "WHERE r.kind = ? AND r.ref_id = ?",
            (kind, str(ref_id)),
        )
        for rowid, text in rows:
            await self.db.execute("DELETE FROM memory_fts WHERE rowid = ?", (rowid,))
            await self.db.execute("DELETE FROM memory_refs WHERE id = ?", (rowid,))
            self._unindexed(str(text))

    async def _require_session(self, session_id: str) -> None:
        if not await self._fetch("SELECT 1 FROM sessions WHERE id = ?", (session_id,)):
            raise InputError(
                field_problem(
                    "session_id", "expected a session started (start_session first)", session_id
                )
            )

    # ---- sessions -------------------------------------------------------------------------
    async def start_session(self, workspace: str, session_id: str | None = None) -> str:
        """Open a session and return its id: a new uuid hex, or `session_id`. Starting an
        existing session again changes nothing (an explicit id continues that session)."""
        if session_id is not None:
            session_id = session_id.strip()
            if not session_id or len(session_id) > MAX_SESSION_ID:
                raise InputError(
                    field_problem(
                        "session_id", f"expected 1 to {MAX_SESSION_ID} characters", session_id
                    )
                )
            if redacted(session_id) != session_id:  # a key other rows point to: kept as given
                raise InputError(
                    field_problem(
                        "session_id",
                        "expected an id that is not a credential",
                        hint="it looks like it holds a secret (a key or token), and it would "
                        "be stored as given",
                    )
                )
        sid = session_id or uuid.uuid4().hex
        async with self._transaction():
            await self.db.execute(
                "INSERT INTO sessions (id, workspace, started_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO NOTHING",
                (sid, redacted(workspace), self.clock()),
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
        self, session_id: str, summary: str, now: float, trace_id: str | None, *, kept: bool = False
    ) -> None:
        """The session's summary is the latest one; each is also kept as a note. Redacted
        (at_rest.py), unless it comes `kept` so (a save redacts its texts before its write
        transaction, in a worker thread when they are long)."""
        summary = summary if kept else redacted(summary)
        await self.db.execute("UPDATE sessions SET summary = ? WHERE id = ?", (summary, session_id))
        await self.db.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
            "VALUES (?, ?, 'summary', ?, ?, ?)",
            (session_id, now, summary, trace_id, now),
        )
        await self._unindex("session", session_id)
        await self._index("session", session_id, summary)

    # ---- traces ---------------------------------------------------------------------------
    async def record_trace(self, session_id: str, trace: TraceRecord) -> None:
        """Store one route's full trace. A trace id is recorded once. Its outcome is stored
        redacted (at_rest.py); its request comes redacted (`TraceRecord.of`)."""
        try:
            json.loads(trace.trace_json)
        except ValueError as exc:
            raise InputError(f"trace_json: not valid JSON ({exc})") from exc
        async with self._transaction():
            await self._require_session(session_id)
            if await self._fetch("SELECT 1 FROM traces WHERE id = ?", (trace.id,)):
                raise InputError(
                    field_problem("trace_id", "expected the id of no trace recorded", trace.id)
                )
            created = self.clock() if trace.created_at is None else trace.created_at
            if trace.outcome:
                trace = replace(trace, outcome=redacted(trace.outcome))
            row = {name: getattr(trace, name) for name in _COLUMNS}
            row.update(session_id=session_id, created_at=created)
            await self.db.execute(
                f"INSERT INTO traces ({', '.join(row)}) VALUES ({_placeholders(len(row))})",
                tuple(int(v) if isinstance(v, bool) else v for v in row.values()),
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
                    "INSERT INTO notes (session_id, created_at, kind, text, trace_id, "
                    "renewed_at) VALUES (?, ?, 'outcome', ?, ?, ?)",
                    (session_id, created, trace.outcome, trace.id, created),
                )
            await self._index("trace", trace.id, f"{trace.request}\n{trace.outcome or ''}")

    async def record_route(
        self, session_id: str, record: RouteRecord, trace_json: str, answer: str | None = None
    ) -> None:
        """Store a route's record (`trace_json`: the whole result as the tool returned it;
        `answer`: its answer, kept whole when it was cut to fit the client)."""
        # Its request redacted in a worker thread: a request dense with secrets' names costs up
        # to 3 µs a character (60 µs before), redacted up to 48 KB of it and read for named
        # values up to 1 MB (redact_name_head), seconds held from every other call on the loop.
        row = await asyncio.to_thread(TraceRecord.of, record, trace_json=trace_json)
        await self.record_trace(session_id, replace(row, answer=answer))

    async def full_trace_id(self, trace_id: str) -> str:
        """The whole id of the trace `trace_id` names, the one reading of a trace id every
        tool shares, whole ids before prefixes: OCP's whole id (32 hex digits in any case,
        with a uuid's dashes or as the proxy's `req_ocp_<id>`); else a proxied request's id
        as its paid upstream named it (what the client's SDK shows), as given: an upstream's
        id of hex digits alone is no prefix of another trace's; else an unambiguous prefix of
        OCP's id of at least 8 characters (the short id printed everywhere). OCP's id as
        stored when none matches, else `trace_id` as given."""
        said = trace_id.strip()
        ours = _as_ocp_id(said)
        if ours is not None and len(ours) == 32:
            rows = await self._fetch("SELECT id FROM traces WHERE id = ?", (ours,))
            if rows:
                return str(rows[0][0])
        if upstream := await self._upstream_named(said):
            return upstream
        if ours is not None and SHORT_TRACE_ID <= len(ours) < 32:
            rows = await self._fetch(
                "SELECT id FROM traces WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                (ours, ours + "g"),
            )
            if len(rows) > 1:
                raise InputError(
                    field_problem(
                        "trace_id",
                        "expected the id of one trace",
                        trace_id,
                        hint="it starts more than one trace; give more of the id",
                    )
                )
            if rows:
                return str(rows[0][0])
        return ours or trace_id

    async def _upstream_named(self, said: str) -> str | None:
        """The proxied request a paid upstream named `said` (`request-id`, `x-request-id`),
        which the proxy relays to the client in place of its own id and keeps in the trace
        as `kept_id` keeps it (ProxyRecord.upstream_request_id). The newest first: outcomes
        are saved on recent requests. The index m047 made (traces_by_upstream_id) finds it,
        or that none is, without reading every trace: its expression and condition are these,
        word for word."""
        rows = await self._fetch(
            "SELECT id FROM traces WHERE proxied AND json_valid(trace_json) AND "
            f"json_extract(trace_json, '$.{UPSTREAM_REQUEST_ID}') = ? "
            "ORDER BY created_at DESC LIMIT 1",
            (kept_id(said, MAX_TRACE_ID_CHARS),),
        )
        return str(rows[0][0]) if rows else None

    async def trace_json(self, trace_id: str) -> str | None:
        """The full stored trace, or None when there is no such trace."""
        rows = await self._fetch("SELECT trace_json FROM traces WHERE id = ?", (trace_id,))
        return str(rows[0][0]) if rows else None

    async def kept_answer(self, trace_id: str) -> str | None:
        """The whole answer of a route whose answer was cut to fit its client (m040), or None
        when there is no such trace or its answer went whole."""
        rows = await self._fetch("SELECT answer FROM traces WHERE id = ?", (trace_id,))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def is_dry_run(self, trace_id: str) -> bool:
        """Whether the trace is a dry run's: decided and built, no model called."""
        rows = await self._fetch("SELECT dry_run FROM traces WHERE id = ?", (trace_id,))
        return bool(rows and rows[0][0])

    async def recent_routes(self, count: int, since: float) -> tuple[list[RouteRow], int]:
        """The latest `count` routes stored at or after time `since`, oldest first, as
        ROUTES_SINCE reads them (what OCP_STICKY=upward raised floors by,
        outcomes.restore_floors), and the largest rowid of a route when they were read (a
        reader of routes stored later starts there: any stored meanwhile is read twice, as
        lifting twice lifts as once)."""
        last = await self._fetch("SELECT max(rowid) FROM traces")
        rows = await self._fetch(
            f"{_ROUTES} WHERE created_at >= ? AND tier IS NOT NULL "
            "ORDER BY created_at DESC LIMIT ?",
            (since, count),
        )
        return rows[::-1], int(last[0][0] or 0)

    async def recent_outcomes(self, count: int) -> list[tuple[int, str, str, float]]:
        """The latest `count` outcomes saved on routes, as OUTCOMES_SINCE reads them."""
        rows = await self._fetch(
            "SELECT id FROM notes WHERE kind = 'outcome' ORDER BY id DESC LIMIT 1 OFFSET ?",
            (count,),
        )
        return await self._fetch(OUTCOMES_SINCE, (rows[0][0] if rows else 0,))

    # ---- stats ----------------------------------------------------------------------------
    async def stats(
        self, since: float | None = None, *, workspace: str = "", counterfactual_model: str = ""
    ) -> SavingsReport:
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
