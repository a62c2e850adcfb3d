"""Session memory: what earlier sessions left for the next one.

Behind two MCP tools: `ocp_result_save` (MemoryStore.save) persists summaries, decisions,
versioned state, notes and open items, linked to a route trace when given; and
`ocp_session_restore` (MemoryStore.restore) hands back a token-budgeted brief of it, ranked
and rendered by brief.py. Sessions and every model route's trace live in the trace store
(trace_store.py), which MemoryStore extends: one connection, one transaction discipline.

Over 600 lines on purpose, for now: save, citation checks and restore are steps of the same
transactions on one connection. Next out: the restore's row selection (see
docs/architecture.md).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import aiosqlite

from ocp_server.brief import (
    SECTION_NAMES,
    Brief,
    CitationState,
    DecisionBrief,
    Fitter,
    Item,
    NoteBrief,
    Rendered,
    SessionBrief,
    StaleBrief,
    StaleMode,
    TraceBrief,
    cap,
    ranked,
    render_decision,
    render_note,
    render_session,
    render_state,
    render_trace,
)
from ocp_server.citations import CitationError, CodeView, Located, Stored
from ocp_server.errors import InputError
from ocp_server.index.files import load_ocpignore, path_exclusion
from ocp_server.index.terms import fts_query, query_terms
from ocp_server.trace_store import AttemptRecord, TraceRecord, TraceStore

__all__ = [
    "AttemptRecord",
    "Brief",
    "CitationState",
    "DecisionBrief",
    "DecisionIn",
    "MemoryStore",
    "Merged",
    "NoteBrief",
    "NoteIn",
    "SaveOutcome",
    "SavedCitation",
    "SessionBrief",
    "StaleBrief",
    "StateChange",
    "SuggestedCitation",
    "TraceBrief",
    "TraceRecord",
    "TraceStore",
]

MATCHES: Final = 500  # FTS hits considered for a query
COUNT_CAP: Final = 1000  # notable routes are counted up to this many
DEFAULT_TTL_DAYS: Final = 28.0
RENEW_AFTER: Final = 3600.0  # a served memory's renewal is written at most hourly
NEAR_IDENTICAL: Final = 0.9  # word-sequence similarity at which a save merges
COMMON_SHARE: Final = 0.2  # query terms in more of the memory index than this are skipped
UNINDEXED: Final = (-2, -2)  # the signature of a cited file the index no longer holds

_LIVE: Final = "retired IS NULL"
# Which rows each section of a brief draws from (named parameters: cut, the expiry time;
# ex, the session left out). _NOTABLE is also the condition of the partial index
# traces_notable: the two must stay the same text.
_NOTABLE: Final = (
    "(answered_by IS NULL OR route_to != decision OR route_to = 'paid' OR outcome IS NOT NULL)"
)
_DECISIONS: Final = f"status = 'active' AND {_LIVE} AND renewed_at >= :cut"
# Also the condition of the partial index notes_shown: keep the same text.
_NOTE_KINDS: Final = "(kind = 'note' OR (kind = 'outcome' AND trace_id IS NULL))"
_NOTES: Final = f"{_NOTE_KINDS} AND {_LIVE} AND renewed_at >= :cut AND session_id != :ex"
_OPEN_ITEMS: Final = f"kind = 'open_item' AND resolved = 0 AND {_LIVE} AND renewed_at >= :cut"
_SESSIONS: Final = "summary IS NOT NULL AND id != :ex"
# Dry runs called no model: neither answers nor errors worth a line.
_TRACES: Final = f"{_NOTABLE} AND NOT dry_run AND session_id != :ex"
_EXPIRED_DECISIONS: Final = f"status = 'active' AND {_LIVE} AND renewed_at < :cut"
_EXPIRED_NOTES: Final = (
    f"kind IN ('note', 'open_item', 'outcome') AND {_LIVE} AND renewed_at < :cut"
)
_CITATIONS_OF: Final = (  # a memory's live citations as one JSON array (one round trip)
    "(SELECT json_group_array(json_array(path, start_line, end_line, symbol, status, "
    "moved_from, change, cited)) FROM memory_citations c WHERE c.{column} = {table}.id "
    "AND c.active = 1)"
)
# Rows of decisions and notes with their citations: `{where}` (conditions, order, limit)
# picks the rows first, so the citations are gathered for those rows only.
_DECISION_ROWS: Final = (
    "SELECT id, title, decision, rationale, created_at, session_id, trace_id, renewed_at, "
    + _CITATIONS_OF.format(column="decision_id", table="decisions")
    + ", stale FROM (SELECT * FROM decisions WHERE {where}) AS decisions"
)
_NOTE_ROWS: Final = (
    "SELECT id, kind, text, created_at, session_id, trace_id, renewed_at, "
    + _CITATIONS_OF.format(column="note_id", table="notes")
    + ", stale FROM (SELECT * FROM notes WHERE {where}) AS notes"
)
# section -> (select with {where}, where, order, key column, item kind, render)
_SOURCES: Final[dict[str, tuple[str, str, str, str, str, Callable[[Item], Rendered]]]] = {
    "open_items": (
        _NOTE_ROWS,
        _OPEN_ITEMS,
        "created_at DESC, id DESC",
        "id",
        "open_item",
        render_note,
    ),
    "state": (
        "SELECT key, value, updated_at, seq FROM (SELECT key, value, updated_at, "
        "rowid AS seq, max(version) FROM state GROUP BY key) WHERE {where}",  # max(version)
        "1",
        "updated_at DESC, seq DESC",
        "key",
        "state",
        render_state,
    ),
    "sessions": (
        "SELECT id, workspace, started_at, ended_at, summary, rowid FROM sessions WHERE {where}",
        _SESSIONS,
        "started_at DESC, rowid DESC",
        "id",
        "session",
        render_session,
    ),
    "traces": (
        "SELECT id, created_at, decision, route_to, model, task_type, cost_usd, "
        "substr(request, 1, 1000), outcome, answered_by, rowid FROM traces WHERE {where}",
        _TRACES,
        "created_at DESC, rowid DESC",
        "id",
        "trace",
        render_trace,
    ),
}
_NEWEST: Final = "ORDER BY created_at DESC, id DESC"
_TIME: Final = {"state": 2, "sessions": 2, "traces": 1}  # created_at column
_SECTION_OF_KIND: Final = {
    "open_item": "open_items",
    "state": "state",
    "session": "sessions",
    "trace": "traces",
}
_STORED: Final = (
    "SELECT id, path, start_line, end_line, symbol, whole, content_hash, content, cited, "
    "status, moved_from, decision_id, note_id FROM memory_citations"
)

_NO_STATE: Final[Mapping[str, str]] = MappingProxyType({})


# ---- values --------------------------------------------------------------------------------


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
class SaveOutcome:
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


# ---- helpers -------------------------------------------------------------------------------
def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


# ---- the store -----------------------------------------------------------------------------
class MemoryStore(TraceStore):
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
        super().__init__(db, clock=clock, lock=lock)
        self.workspace = workspace
        self.ttl_seconds = ttl_days * 86400.0
        self._df: dict[str, int] = {}  # term -> memories holding it (approximate)
        self._df_total = 0

    def _indexed(self) -> None:
        self._df.clear()

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
    ) -> SaveOutcome:
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
                raise InputError("state: keys must be non-empty strings")
        cited, suggested = await self._cite(decisions, note_ins)
        warnings: list[str] = []
        out = _SaveOut()
        async with self._transaction():
            await self._require_session(session_id)
            now = self.clock()
            if trace_id is not None:
                rows = await self._fetch("SELECT outcome FROM traces WHERE id = ?", (trace_id,))
                if not rows:
                    raise InputError(f"trace_id: no trace {trace_id!r} is recorded")
                if outcome and outcome.strip():
                    previous = rows[0][0]
                    if previous and previous != outcome.strip():
                        warnings.append(
                            f"trace {trace_id} already had an outcome ({cap(previous, 80)[0]!r}); "
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
        return SaveOutcome(
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
            raise InputError(f"{field}.citations: this memory has no workspace to cite from")
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
                        raise InputError(f"{field}.citations[{k}]: {exc}") from None
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
                    raise InputError(
                        f"supersedes: decisions[{n}] supersedes #{d.supersedes}, "
                        "which does not exist"
                    )
                if rows[0][0] != "active":
                    raise InputError(
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
            "SELECT r.ref_id FROM memory_fts JOIN memory_refs r ON r.id = memory_fts.rowid "
            "WHERE memory_fts MATCH ? AND r.kind = ? ORDER BY rank LIMIT 20",
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
        """Stop checking the citations of retired memories (`column` is their owner)."""
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            await self.db.execute(
                f"UPDATE memory_citations SET active = 0 WHERE {column} IN "
                f"({_placeholders(len(chunk))})",
                chunk,
            )
        await self._unsign_uncited()

    async def _unsign_uncited(self) -> None:
        """Forget the signatures of files no live citation points into any more."""
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
                    raise InputError(f"{arg}: no {kind} #{item}")
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
                for indexed_as in {kind, "open_item" if kind == "note" else kind}:
                    await self._unindex(indexed_as, item)
                done.append(f"{kind} #{item}")
        if done:
            await self._unsign_uncited()
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
                raise InputError(f"resolve: no open item #{item}")
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

    async def verify(self, snapshot: _Snapshot | None = None) -> int:
        """Check every live citation whose file changed since its last check, and every stale
        one a re-indexed file may now hold; store what was found. Returns how many were
        checked. Unchanged files are only stat'ed, never read. `snapshot`: one just read."""
        if self.workspace is None:
            return 0
        view = CodeView(self.db, self.workspace)
        async with self._lock:  # reads only; a stale answer just means a check next time
            if snapshot is None:
                snapshot = await self._snapshot({"cut": float("-inf"), "ex": ""})
            signed, seen = snapshot.signed, snapshot.seen
            if not signed:
                return 0
            stale: list[Any] = []
            if snapshot.stale_due:
                stale = await self._fetch(
                    "SELECT id, symbol, index_seen FROM memory_citations WHERE status = 'stale' "
                    "AND active = 1 AND index_seen IS NOT ?",
                    (seen,),
                )
            recheck = await self._stale_to_recheck(stale)
        ignore = load_ocpignore(self.workspace)
        changed = {}
        for path, size, mtime, indexed in signed:
            # A file the index dropped (deleted, ignored, now secret) is checked again.
            excluded = not indexed or path_exclusion(path, ignore) is not None
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
                ids = recheck[start : start + 400]
                rows += await self._fetch(f"{_STORED} WHERE id IN ({_placeholders(len(ids))})", ids)
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
            await self._unsign_uncited()
            for table, column, owners in (
                ("decisions", "decision_id", {r[11] for r in rows if r[11] is not None}),
                ("notes", "note_id", {r[12] for r in rows if r[12] is not None}),
            ):
                await self._flag_stale(table, column, sorted(owners))
        return len(updates)

    async def _flag_stale(self, table: str, column: str, ids: Sequence[int]) -> None:
        """Set each memory's `stale` flag from its live citations."""
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            await self.db.execute(
                f"UPDATE {table} SET stale = EXISTS (SELECT 1 FROM memory_citations c "
                f"WHERE c.{column} = {table}.id AND c.active = 1 AND c.status = 'stale') "
                f"WHERE id IN ({_placeholders(len(chunk))})",
                chunk,
            )

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
        matching `query` come first in every section (best match blended with recency),
        then the rest, newest first; sections fill in order (active decisions, stale, open
        items, state, session summaries, notes, notable routes), each loaded page by page
        only while it has room. What did not fit is counted in `omitted` and said in the
        text. `value_cost` prices each item's structured form too, `overhead` the fixed rest
        of the caller's result, so that the whole result fits. Serving a memory that is not
        stale renews it; memories not renewed for the TTL expire here. `exclude_session`
        (usually the current one) leaves out that session's summary, notes and routes.
        """
        if max_tokens < 0:
            raise InputError("max_tokens: must be 0 or more")
        if stale not in ("list", "count"):
            raise InputError("stale: expected 'list' or 'count'")
        query = query.strip() if query and query.strip() else None
        now = self.clock()
        cut = now - self.ttl_seconds if self.ttl_seconds else float("-inf")
        params = {"cut": cut, "ex": exclude_session or ""}
        fitter = Fitter(max_tokens, value_cost=value_cost, overhead=overhead)
        sections = [s for s in SECTION_NAMES if stale == "list" or s != "stale"]
        # Reads without a transaction: each round trip counts (another process saving in
        # between only shifts a count), and the lock keeps this store's own writes out.
        async with self._lock:
            snapshot = await self._snapshot(params)
        if await self.verify(snapshot):  # citations changed: count again
            async with self._lock:
                snapshot = await self._snapshot(params)
        totals, expired = snapshot.totals, snapshot.expired
        async with self._lock:
            if query:
                matched = await self._matched(query, params, max_tokens, snapshot.documents)
                for section in sections:
                    fitter.offer(ranked((i for i in matched if i.section == section), now))
            for section in sections:
                offset, size = 0, fitter.page_size(section)
                while totals[section] and not fitter.is_full(section) and fitter.has_room():
                    page = await self._page(section, params, size, offset)
                    fitter.offer(page)
                    if len(page) < size:
                        break
                    offset, size = offset + size, fitter.page_size(section)
        brief = fitter.brief(
            query=query,
            totals=totals,
            capped=frozenset({"traces"}) if totals["traces"] >= COUNT_CAP else frozenset(),
            stale_mode=stale,
            expired=expired,
        )
        await self._renew(brief, now, cut if expired else None)
        return brief

    async def _snapshot(self, params: Mapping[str, Any]) -> _Snapshot:
        """Everything a restore needs before its pages, in one query (a restore's latency is
        mostly round trips): each section's size (notable routes up to COUNT_CAP), expired
        memories, the memory index's size, each cited file's signature and whether the
        index still holds it, the index's last update, and the stale citations not checked
        since it."""
        row = (
            await self._fetch(
                f"SELECT (SELECT count(*) FROM decisions WHERE {_DECISIONS} AND stale = 0), "
                f"(SELECT count(*) FROM decisions WHERE {_DECISIONS} AND stale = 1), "
                f"(SELECT count(*) FROM notes WHERE {_NOTES} AND stale = 0), "
                f"(SELECT count(*) FROM notes WHERE {_NOTES} AND stale = 1), "
                f"(SELECT count(*) FROM notes WHERE {_OPEN_ITEMS}), "
                "(SELECT count(DISTINCT key) FROM state), "
                f"(SELECT count(*) FROM sessions WHERE {_SESSIONS}), "
                f"(SELECT count(*) FROM (SELECT 1 FROM traces WHERE {_TRACES} LIMIT {COUNT_CAP})), "
                f"(SELECT count(*) FROM decisions WHERE {_EXPIRED_DECISIONS}) + "
                f"(SELECT count(*) FROM notes WHERE {_EXPIRED_NOTES}), "
                # FTS5 keeps one docsize row per document: cheap to count, unlike the table.
                "(SELECT count(*) FROM memory_fts_docsize), "
                "(SELECT json_group_array(json_array(m.path, m.size, m.mtime_ns, "
                "f.id IS NOT NULL)) FROM memory_files m LEFT JOIN files f ON f.path = m.path "
                "AND f.skip_reason IS NULL), "
                "(SELECT value FROM meta WHERE key = 'last_update'), "
                "(SELECT count(*) FROM memory_citations WHERE status = 'stale' AND active = 1 "
                "AND index_seen IS NOT (SELECT value FROM meta WHERE key = 'last_update'))",
                params,
            )
        )[0]
        totals = {
            "decisions": row[0],
            "stale": row[1] + row[3],
            "notes": row[2],
            "open_items": row[4],
            "state": row[5],
            "sessions": row[6],
            "traces": row[7],
        }
        signed = [(str(p), int(z), int(m), bool(i)) for p, z, m, i in json.loads(row[10])]
        return _Snapshot(totals, int(row[8]), int(row[9]), signed, str(row[11] or ""), row[12])

    async def _page(
        self, section: str, params: Mapping[str, Any], limit: int, offset: int
    ) -> list[Item]:
        """The next `limit` items of a section, newest first."""
        page = {"limit": limit, "offset": offset, **params}
        tail = f"{_NEWEST} LIMIT :limit OFFSET :offset"
        if section == "decisions":
            where = f"{_DECISIONS} AND stale = 0 {tail}"
            rows = await self._fetch(f"{_DECISION_ROWS.format(where=where)} {_NEWEST}", page)
            return self._memory_items("decision", rows)
        if section == "notes":
            where = f"{_NOTES} AND stale = 0 {tail}"
            rows = await self._fetch(f"{_NOTE_ROWS.format(where=where)} {_NEWEST}", page)
            return self._memory_items("note", rows)
        if section == "stale":  # a page from each table, merged
            where = f"{_DECISIONS} AND stale = 1 {tail}"
            decisions = await self._fetch(_DECISION_ROWS.format(where=where), page)
            where = f"{_NOTES} AND stale = 1 {tail}"
            notes = await self._fetch(_NOTE_ROWS.format(where=where), page)
            items = self._memory_items("decision", decisions)
            items += self._memory_items("note", notes)
            return sorted(items, key=lambda i: -i.created_at)
        select, where, order, _, kind, render = _SOURCES[section]
        limited = f"{where} ORDER BY {order} LIMIT :limit OFFSET :offset"
        rows = await self._fetch(select.format(where=limited), page)
        items = [_item(section, kind, r, render) for r in rows]
        if section == "open_items":  # picked in a subquery: put back in order
            items.sort(key=lambda i: (-i.created_at, -i.key[1]))
        return items

    async def _matched(
        self, query: str, params: Mapping[str, Any], max_tokens: int, documents: int
    ) -> list[Item]:
        """Every item matching the query (its best MATCHES), with its bm25 score."""
        # An item costs 20 tokens or more: more matches than could fit are not looked at.
        scores = await self._match(query, min(MATCHES, max_tokens // 20 + 20), documents)
        items: list[Item] = []
        for kind, found in scores.items():
            ids = list(found)
            marks = ", ".join(f":i{n}" for n in range(len(ids)))
            args = {**params, **{f"i{n}": v for n, v in enumerate(ids)}}
            if kind in ("decision", "note"):
                select = _DECISION_ROWS if kind == "decision" else _NOTE_ROWS
                where = _DECISIONS if kind == "decision" else _NOTES
                rows = await self._fetch(select.format(where=f"{where} AND id IN ({marks})"), args)
                found_items = self._memory_items(kind, rows)
            else:
                section = _SECTION_OF_KIND.get(kind)
                if section is None:
                    continue
                select, where, _, key, _, render = _SOURCES[section]
                rows = await self._fetch(
                    select.format(where=f"{where} AND {key} IN ({marks})"), args
                )
                found_items = [_item(section, kind, r, render) for r in rows]
            for item in found_items:
                item.score = found.get(str(item.key[1]))
            items += found_items
        return items

    def _memory_items(self, kind: str, rows: Sequence[Any]) -> list[Item]:
        """Items of decision or note rows (_DECISION_ROWS, _NOTE_ROWS): stale ones go to the
        stale section, open items to theirs."""
        return [_memory_item(kind, r) for r in rows]

    async def _selective(
        self, terms: list[str], keep: int | None = None, documents: int | None = None
    ) -> list[str]:
        """The terms worth matching: those in at most COMMON_SHARE of the memory index (all
        present ones if none is that rare), the `keep` rarest when given. `documents`: the
        index's size when just counted."""
        if not terms:
            return []
        if documents is None:
            documents = int((await self._fetch("SELECT count(*) FROM memory_fts_docsize"))[0][0])
        total = documents or 1
        if total > self._df_total * 1.05 or total < self._df_total:
            self._df.clear()  # document frequencies drift slowly: refresh after 5% growth
            self._df_total = total
        missing = [t for t in terms if t not in self._df]
        if missing:
            # A vocabulary row counts a term's documents by walking its postings: cached.
            rows = await self._fetch(
                f"SELECT term, doc FROM memory_vocab WHERE term IN ({_placeholders(len(missing))})",
                missing,
            )
            found = {str(r[0]): int(r[1]) for r in rows}
            self._df.update(found)  # absent terms are not cached: they may come any time
        df = self._df
        present = sorted((t for t in terms if df.get(t)), key=lambda t: df[t])
        if not present:
            return []
        rare = [t for t in present if df[t] <= total * COMMON_SHARE] or present[:3]
        return rare[:keep] if keep else rare

    async def _match(
        self, query: str, limit: int = MATCHES, documents: int | None = None
    ) -> dict[str, dict[str, float]]:
        terms = await self._selective(query_terms(query), documents=documents)
        if not terms:
            return {}
        rows = await self._fetch(
            "SELECT r.kind, r.ref_id, rank FROM memory_fts JOIN memory_refs r "
            "ON r.id = memory_fts.rowid WHERE memory_fts MATCH ? ORDER BY rank LIMIT ?",
            (fts_query(terms), limit),
        )
        out: dict[str, dict[str, float]] = {}
        for kind, ref_id, score in rows:
            out.setdefault(str(kind), {})[str(ref_id)] = float(score)
        return out

    async def _renew(self, brief: Brief, now: float, expire_before: float | None) -> None:
        """Renew what was served as a fact (not stale) and not renewed lately; retire what
        expired. Skipped entirely when there is nothing to write."""
        due = now - RENEW_AFTER
        decisions = [d.id for d in brief.decisions if d.renewed_at < due]
        notes = [n.id for n in (*brief.notes, *brief.open_items) if n.renewed_at < due]
        if not (decisions or notes or expire_before is not None):
            return
        async with self._transaction():
            for table, ids in (("decisions", decisions), ("notes", notes)):
                for start in range(0, len(ids), 400):
                    chunk = ids[start : start + 400]
                    await self.db.execute(
                        f"UPDATE {table} SET renewed_at = ? "
                        f"WHERE id IN ({_placeholders(len(chunk))})",
                        (now, *chunk),
                    )
            if expire_before is None:
                return
            cut = {"cut": expire_before, "now": now}
            await self.db.execute(
                "UPDATE memory_citations SET active = 0 WHERE decision_id IN "
                f"(SELECT id FROM decisions WHERE {_EXPIRED_DECISIONS}) OR note_id IN "
                f"(SELECT id FROM notes WHERE {_EXPIRED_NOTES})",
                cut,
            )
            for table, where in (("decisions", _EXPIRED_DECISIONS), ("notes", _EXPIRED_NOTES)):
                await self.db.execute(
                    f"UPDATE {table} SET retired = 'expired', retired_at = :now WHERE {where}", cut
                )
            await self._unsign_uncited()


# ---- helpers -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Snapshot:
    totals: dict[str, int]  # section -> items in all
    expired: int
    documents: int  # rows of the memory index
    signed: list[tuple[str, int, int, bool]]  # cited file: path, size, mtime_ns, indexed
    seen: str  # the index's last update
    stale_due: int  # stale citations not checked since it


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
            raise InputError(f"decisions[{n}].title: must not be empty")
        if not d.decision.strip():
            raise InputError(f"decisions[{n}].decision: must not be empty")
        if d.supersedes is not None and (
            isinstance(d.supersedes, bool) or not isinstance(d.supersedes, int)
        ):
            raise InputError(f"supersedes: decisions[{n}].supersedes must be a decision id")


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _item(section: str, kind: str, row: Any, render: Callable[[Item], Rendered]) -> Item:
    if section == "open_items":
        return _memory_item("note", row)
    return Item(section, (kind, row[0]), row, row[_TIME[section]], render)


def _memory_item(kind: str, row: Any) -> Item:
    """(row without its citations and stale flag, its citations' states)."""
    states = tuple(
        CitationState(f"{c[0]}:{c[1]}-{c[2]}", c[3], c[4], c[5], c[6], c[7])
        for c in json.loads(row[-2] or "[]")
    )
    if row[-1]:
        section = "stale"
    elif kind == "decision":
        section = "decisions"
    else:
        section = "open_items" if row[1] == "open_item" else "notes"
    created = row[4] if kind == "decision" else row[3]
    render = render_decision if kind == "decision" else render_note
    key = ("open_item" if section == "open_items" else kind, row[0])
    return Item(section, key, (tuple(row[:-2]), states), created, render)
