"""What the proxy remembers of each request: a row for the dashboard (the most recent few
hundred, in memory) and a trace in the workspace's store, the same `traces` table MCP routes
use, so `ocp-server stats` covers both. Traces are written by one background task, off the
request path; message contents are stored only with OCP_TRACE_CONTENT=1 (redacted even then).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ocp_router.redact_names import redact_name
from ocp_router.tiers import Phase
from ocp_server.at_rest import redacted_head
from ocp_server.errors import database_busy
from ocp_server.ledger import WorkspaceLedger
from ocp_server.outcomes import route_facts
from ocp_server.route_record import UNAVAILABLE
from ocp_server.savings import LATENCY_EDGES_MS
from ocp_server.trace_store import AttemptRecord, TraceRecord, TraceStore

logger = logging.getLogger(__name__)

MAX_QUEUED = 20_000  # traces waiting for the store before new ones are dropped
#: Seconds between tries of a trace whose write found the database busy past its busy timeout
#: (another process's writer or WAL recovery): it is kept, not lost.
BUSY_RETRY_S = 1.0


@dataclass(slots=True)
class Attempted:
    tier: str
    backend: str
    model: str
    outcome: str  # ok | error | empty | skipped
    duration_ms: float
    error: str | None = None
    error_type: str | None = None
    cost_usd: float | None = 0.0  # what the provider bills for it (None: no known price)
    cost_estimated: bool = False  # cut short before usage came: an estimate of the input


@dataclass(slots=True)
class ProxyRecord:
    """One proxied request, filled in as it goes."""

    id: str
    started_at: float
    dialect: str
    client: str
    session: str
    stream: bool
    requested_model: str
    tier: str = ""  # decided
    answered_tier: str | None = None
    model: str = ""
    backend: str = ""
    reason: str = ""
    phase: str = ""
    band: str = ""
    pin_state: str = ""
    task_type: str = ""
    complexity: float = 0.0
    # phase 1's score before the workspace's calibration shifted it, and the local model (and
    # endpoint) the route was decided against: what an outcome saved on it teaches (outcomes.py)
    raw_score: float | None = None
    local_model: str | None = None
    effort: str | None = None  # the thinking the client asked; the notes say what was sent
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None  # all the request was billed, failed_cost_usd included
    failed_cost_usd: float = 0.0  # of it, a paid relay that produced no answer
    cost_estimated: bool = False  # the relay was cut short before usage came: an estimate
    counterfactual_usd: float | None = None
    latency_ms: float = 0.0
    first_byte_ms: float | None = None
    status: int = 0
    error: str | None = None
    # The id the client's answer names it by (dialect.request_id), and a paid upstream's own,
    # relayed in its place, when it sent one
    request_id: str = ""
    upstream_request_id: str | None = None
    notes: list[str] = field(default_factory=list)
    attempts: list[Attempted] = field(default_factory=list)
    request_text: str = ""  # the user turn; stored only with OCP_TRACE_CONTENT=1

    @property
    def climbed(self) -> bool:
        return (
            self.answered_tier is not None
            and self.tier != ""
            and _RANK.get(self.answered_tier, 0) > _RANK.get(self.tier, 0)
        )

    @property
    def local_unavailable(self) -> bool:
        """Relayed to the paid tier only because the local model could not be reached (as
        route_record.local_unreachable reads an MCP route's attempts)."""
        tried = [a for a in self.attempts if a.tier == "local" and a.outcome != "skipped"]
        return (
            self.climbed
            and self.tier == "local"
            and bool(tried)
            and all(a.outcome == "error" and a.error_type == UNAVAILABLE for a in tried)
        )

    @property
    def escalated(self) -> bool:
        """A higher tier answered after the local model was reached and failed."""
        return self.climbed and not self.local_unavailable

    def row(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: this runs for every request and every poll.
        out = {name: getattr(self, name) for name in _ROW_FIELDS}
        out["attempts"] = [
            {name: getattr(a, name) for name in Attempted.__slots__} for a in self.attempts
        ]
        out["notes"] = list(self.notes)
        out["escalated"] = self.escalated
        out["local_unavailable"] = self.local_unavailable
        out["escalations"] = sum(1 for a in self.attempts if a.outcome != "ok")
        return out


# A row's texts that come from outside: the client's user agent and model name, an upstream's
# error (its body may quote the key it refused). Read as names (redact_names.py), once, when
# the request ends: the dashboard's JSON, which an agent on this machine can read, and the
# stored trace show them.
_OUTSIDE_TEXTS = ("client", "requested_model", "model", "reason", "error")


def _redact_outside_texts(record: ProxyRecord) -> None:
    for name in _OUTSIDE_TEXTS:
        if value := getattr(record, name):
            setattr(record, name, redact_name(value).text)
    for a in record.attempts:
        a.model = redact_name(a.model).text
        if a.error:
            a.error = redact_name(a.error).text
    record.notes = [redact_name(note).text for note in record.notes]


def _learnable(r: ProxyRecord) -> dict[str, Any]:
    """The route's facts an outcome saved on it (`ocp_result_save`, its request id as the
    trace id) teaches routing from, as the route tool's traces carry them (a forced route, or
    one nothing answered, teaches nothing)."""
    return route_facts(
        decision="local" if r.tier == "local" else "paid",
        answered_tier=r.answered_tier,
        session=r.session,
        task_type=r.task_type,
        raw_score=r.raw_score,
        complexity_score=r.complexity,
        local_model=r.local_model,
        # OCP_ROUTE_MODE=local or paid sends every request to its tier: routing decided none
        forced=r.phase == Phase.EXPLICIT,
        # the client left, the paid tier was blocked or its upstream failed: no answer to judge
        unanswered=r.answered_tier is None,
    )


_RANK = {"local": 0, "mid": 1, "top": 2}
_ROW_FIELDS = tuple(
    f.name for f in fields(ProxyRecord) if f.name not in ("request_text", "attempts", "notes")
)


class Recorder:
    """Keeps the recent rows and writes traces. `memory` None: rows only (no store)."""

    def __init__(
        self,
        memory: TraceStore | None,
        workspace: str,
        *,
        recent: int = 500,
        trace_content: bool = False,
        ledger: WorkspaceLedger | None = None,
    ) -> None:
        self.memory = memory
        self.ledger = ledger  # told when a cost is stored, so the daily budget counts it once
        self.workspace = workspace
        self.rows: deque[ProxyRecord] = deque(maxlen=recent)
        self.trace_content = trace_content
        self.started_at = time.time()
        self._queue: asyncio.Queue[ProxyRecord | None] = asyncio.Queue()
        self._sessions: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.write_errors = 0
        self.dropped = 0
        self._closing = False  # aclose: a busy write is tried no more
        self._busy = False  # the last write found the database busy (said once)

    def start(self) -> None:
        if self.memory is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, record: ProxyRecord) -> None:
        _redact_outside_texts(record)
        self.rows.append(record)
        if self._task is not None:
            if self._queue.qsize() >= MAX_QUEUED:
                # The store cannot keep up: drop (and count) rather than grow without bound.
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    logger.warning("proxy: %d traces dropped, the store is too slow", self.dropped)
                return
            self._queue.put_nowait(record)

    async def aclose(self) -> None:
        """Write what is queued (a busy database is tried once more each), then stop."""
        if self._task is None:
            return
        self._closing = True
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while (record := await self._queue.get()) is not None:
            await self._store(record)

    async def _store(self, record: ProxyRecord) -> None:
        while True:
            try:
                await self._write(record)
            except Exception as exc:  # noqa: BLE001 - a trace that cannot be stored must not stop the proxy
                if database_busy(exc) and not self._closing:
                    if not self._busy:  # not a bug (errors.py): said once, and tried again
                        logger.warning(
                            "proxy: the database is busy (another process holds its write "
                            "lock): traces are kept and stored once it is free"
                        )
                    self._busy = True
                    await asyncio.sleep(BUSY_RETRY_S)
                    continue
                self.write_errors += 1
                if database_busy(exc):
                    logger.warning(
                        "proxy: the trace of %s was not stored: %s", record.request_id, exc
                    )
                else:
                    logger.exception("proxy: could not store the trace of %s", record.request_id)
                return
            self.written += 1
            if self._busy:
                self._busy = False
                logger.info("proxy: the database is free again: traces are stored")
            return

    async def _write(self, r: ProxyRecord) -> None:
        assert self.memory is not None
        if r.session not in self._sessions:
            await self.memory.start_session(self.workspace, r.session)
            self._sessions.add(r.session)
        answered = r.answered_tier
        route_to = "local" if answered == "local" else "paid" if answered else "none"
        detail = r.row() | {"source": "proxy", "trace": _learnable(r)}
        for key in ("id", "started_at"):
            detail.pop(key)
        # Kept as memory keeps texts (at_rest.py): a token glued to a word is one too.
        request = redacted_head(r.request_text, 2000) if self.trace_content else ""
        # A row nothing answered names the model of the tier decided (its first attempt),
        # not the one the client asked for or a later tier's.
        model, backend = r.model, r.backend
        if answered is None:
            tried = next((a for a in r.attempts if a.tier == r.tier), None)
            if tried is not None:
                model, backend = tried.model, tried.backend
        trace = TraceRecord(
            id=r.id,
            created_at=r.started_at,
            request=request,
            route_to=route_to,
            decision="local" if r.tier == "local" else "paid",
            decided_by=r.reason,
            model=model,
            backend=backend,
            answered_by=route_to if answered else None,
            task_type=r.task_type,
            complexity=r.complexity,
            prompt_tokens=r.input_tokens,
            completion_tokens=r.output_tokens,
            duration_ms=r.latency_ms,
            cost_usd=r.cost_usd,
            failed_cost_usd=r.failed_cost_usd,
            cost_estimated=r.cost_estimated,
            counterfactual_usd=r.counterfactual_usd,
            trace_json=json.dumps(detail),
            tier=r.tier or None,
            answered_tier=answered,
            phase=r.phase or None,
            band=r.band or None,
            pin_state=r.pin_state or None,
            escalated=r.escalated,
            local_unavailable=r.local_unavailable,
            fell_back=answered is not None and answered != r.tier and not r.climbed,
            # what its counterfactual was priced on: the model the client asked for
            counterfactual_model=r.requested_model if r.counterfactual_usd is not None else None,
            proxied=True,
            effort=r.effort,
            attempts=tuple(
                AttemptRecord(a.tier, a.backend, a.model, a.outcome, a.duration_ms, a.error_type)
                for a in r.attempts
            ),
        )
        if self.ledger is None:
            await self.memory.record_trace(r.session, trace)
            return
        async with self.ledger.storing(r.cost_usd):  # the daily budget counts it once
            await self.memory.record_trace(r.session, trace)

    # ---- the dashboard's numbers ---------------------------------------------------------------
    def summary(
        self, sticky: Mapping[str, tuple[str, float | None]], now: float | None = None
    ) -> dict[str, Any]:
        """Totals, tier split per minute (last hour), latency histogram and recent rows, over
        the requests this proxy has served since it started; `sticky`: each conversation kept
        above the local tier, its tier and when that lapses (None: no age limit)."""
        now = time.time() if now is None else now
        rows = list(self.rows)
        tiers = {"local": 0, "mid": 0, "top": 0, "none": 0}
        cost = counterfactual = 0.0
        hist = [0] * (len(LATENCY_EDGES_MS) + 1)
        series: dict[int, dict[str, int]] = {}
        errors = escalations = local_unavailable = tokens_in = tokens_out = 0
        for r in rows:
            tiers[r.answered_tier or "none"] += 1
            cost += r.cost_usd or 0.0
            counterfactual += r.counterfactual_usd or 0.0
            tokens_in += r.input_tokens
            tokens_out += r.output_tokens
            errors += r.status >= 400 or r.error is not None
            escalations += r.escalated
            local_unavailable += r.local_unavailable
            hist[next((i for i, e in enumerate(LATENCY_EDGES_MS) if r.latency_ms <= e), -1)] += 1
            minute = int(r.started_at // 60)
            if minute >= (now // 60) - 59:
                slot = series.setdefault(minute, {"local": 0, "mid": 0, "top": 0, "none": 0})
                slot[r.answered_tier or "none"] += 1
        return {
            "since": self.started_at,
            "totals": {
                "requests": len(rows),
                "tiers": tiers,
                "errors": errors,
                "escalations": escalations,
                "local_unavailable": local_unavailable,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cost_usd": round(cost, 6),
                "counterfactual_usd": round(counterfactual, 6),
                "saved_usd": round(counterfactual - cost, 6),
            },
            "series": [{"minute": m * 60} | series[m] for m in sorted(series)],
            "latency": {"edges_ms": list(LATENCY_EDGES_MS), "counts": hist},
            "sticky": [
                {"session": s, "tier": t, "lapses_at": until} for s, (t, until) in sticky.items()
            ],
            "recent": [r.row() for r in reversed(rows)][:200],
            "traces": {
                "written": self.written,
                "errors": self.write_errors,
                "dropped": self.dropped,
                "queued": self._queue.qsize(),
            },
        }
