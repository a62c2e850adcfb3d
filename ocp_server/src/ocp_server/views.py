"""Internal values as the tools' wire models: search hits and index state, the restore's
items, and the redaction of a whole result (what an agent receives goes to its cloud model).
The route's trace has its own view (route_record.py)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

import ocp_wire as wire
from ocp_router.boundary import redact_all
from ocp_router.redact import MARKER_OPEN, RedactionResult, redact
from ocp_router.redact_names import redact_name
from ocp_router.tokens import estimate_tokens
from ocp_router.words import counted
from ocp_server.brief import (
    Brief,
    CitationState,
    DecisionBrief,
    NoteBrief,
    SessionBrief,
    StaleBrief,
    StateBrief,
    TraceBrief,
)
from ocp_server.client_limits import CLAUDE_CODE_OUTPUT_TOKENS, RESULT_TOKEN_LIMITS
from ocp_server.index.models import MemberRow, SearchResponse
from ocp_server.render import ToolAnswer, restore_answer, search_text
from ocp_server.sent_budget import fitted

__all__ = [
    "decision_out",
    "first_build",
    "note_out",
    "open_item_out",
    "redacted_model",
    "redacted_result",
    "search_answer",
    "session_out",
    "stale_out",
    "state_set_out",
    "trace_out",
    "value_tokens",
]


def _iso(ts: float | None) -> str | None:
    return _iso_at(ts) if ts else None


@lru_cache(maxsize=256)
def _iso_at(ts: float) -> str:
    # every search reports its index's last update: the same few times, formatted once each
    # "Z", not "+00:00": the same ISO 8601 instant, four tokens fewer in every restore item
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_Out = TypeVar("_Out", bound=BaseModel)


# ---- restore's items on the wire -------------------------------------------------------
# Each item's view is built validated for the result, or as it is where it is only measured
# (value_tokens: the fields are ours), from one mapping of its fields.
def _built(model: type[_Out], validate: bool, **fields: Any) -> _Out:
    return model(**fields) if validate else model.model_construct(**fields)


def _citation_out(c: CitationState, validate: bool = True) -> wire.CitationOut:
    return _built(
        wire.CitationOut,
        validate,
        citation=c.citation,
        symbol=c.symbol,
        status=c.status,
        moved_from=c.moved_from,
        change=c.change if c.status == "stale" else None,
    )


def decision_out(d: DecisionBrief, *, validate: bool = True) -> wire.DecisionOut:
    return _built(
        wire.DecisionOut,
        validate,
        id=d.id,
        title=d.title,
        decision=d.decision,
        rationale=d.rationale,
        decided_at=_iso(d.created_at) or "",
        verified=d.verified,
        citations=[_citation_out(c, validate) for c in d.citations],
        supersedes=d.supersedes,
        superseded_by=d.superseded_by,
    )


def note_out(n: NoteBrief, *, validate: bool = True) -> wire.NoteOut:
    return _built(
        wire.NoteOut,
        validate,
        id=n.id,
        text=n.text,
        noted_at=_iso(n.created_at) or "",
        verified=n.verified,
        citations=[_citation_out(c, validate) for c in n.citations],
    )


def open_item_out(n: NoteBrief, *, validate: bool = True) -> wire.OpenItemOut:
    return _built(wire.OpenItemOut, validate, id=n.id, text=n.text, opened_at=_iso(n.created_at))


def stale_out(s: StaleBrief, *, validate: bool = True) -> wire.StaleOut:
    return _built(
        wire.StaleOut,
        validate,
        kind=s.kind,
        id=s.id,
        title=s.title,
        text=s.text,
        rationale=s.rationale,
        citations=[_citation_out(c, validate) for c in s.citations],
        decided_at=_stale_date(s, "decision"),
        noted_at=_stale_date(s, "note"),
    )


def _stale_date(s: StaleBrief, kind: str) -> str | None:
    """A stale memory's date when it is of `kind`: a decision's is `decided_at`, a note's
    `noted_at`, as a served one's."""
    return _iso(s.created_at) if s.kind == kind else None


def state_set_out(s: StateBrief) -> wire.StateSetOut:
    return wire.StateSetOut(set_at=_iso(s.set_at) or "", session_id=s.session_id)


def session_out(s: SessionBrief) -> wire.SessionSummary:
    return wire.SessionSummary(
        session_id=s.id, started_at=_iso(s.started_at) or "", summary=s.summary
    )


def trace_out(t: TraceBrief) -> wire.TraceSummary:
    return wire.TraceSummary(
        trace_id=t.id,
        at=_iso(t.created_at) or "",
        request=t.request,
        route_to=t.route_to,
        model=t.model,
        outcome=t.outcome,
    )


def value_tokens(value: object) -> int:
    """What one brief item adds to the structured result, in tokens (and a separator).
    Built without validation: it is only measured, and the fields are ours."""
    out: BaseModel | None = None
    if isinstance(value, DecisionBrief):
        out = decision_out(value, validate=False)
    elif isinstance(value, StaleBrief):
        out = stale_out(value, validate=False)
    elif isinstance(value, NoteBrief) and value.kind == "open_item":
        out = open_item_out(value, validate=False)
    elif isinstance(value, NoteBrief):
        out = note_out(value, validate=False)
    elif isinstance(value, SessionBrief | TraceBrief):
        out = session_out(value) if isinstance(value, SessionBrief) else trace_out(value)
    if out is not None:
        return estimate_tokens(out.model_dump_json()) + 1
    if isinstance(value, StateBrief):  # its value in `state`, when it was set in `state_set`
        set_out = state_set_out(value).model_dump()
        return (
            estimate_tokens(json.dumps({value.key: value.value}, ensure_ascii=False))
            + estimate_tokens(json.dumps({value.key: set_out}, ensure_ascii=False))
            + 2
        )
    return 0


def redacted_result(out: _Out) -> _Out:
    """`out` with every string in it redacted, and its `redacted` field, when it has one, set
    to how many distinct secret values were hidden (the brief repeats the decisions: one
    value, counted once)."""
    redacted, hidden = redacted_model(out)
    if "redacted" in type(out).model_fields:
        redacted = redacted.model_copy(update={"redacted": hidden})
    return redacted


def redacted_model(out: _Out) -> tuple[_Out, int]:
    """`out` with every string in it redacted, and how many distinct values were hidden."""
    hidden: set[str] = set()
    fields = type(out).model_fields
    update = {name: _redacted_value(getattr(out, name), hidden) for name in fields}
    return out.model_copy(update=update), len(hidden)


def _redacted_value(value: Any, hidden: set[str], key: str | None = None) -> Any:
    if isinstance(value, str):
        # A map's key is the value's context: {"db_password": "hunter2"} reads as an assignment.
        # Read as names are too (redact_names.py): titles, state keys and ids glue words.
        prefix = f"{key}: " if key else ""
        text = prefix + value
        r = redact_name(text)
        hidden.update(text[x.start : x.end] for x in r.redactions)
        if not r.redactions:
            return value
        if r.text.startswith(prefix):
            return r.text[len(prefix) :]
        return redact_name(value).text
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return value.model_copy(
            update={name: _redacted_value(getattr(value, name), hidden) for name in fields}
        )
    if isinstance(value, list):
        return [_redacted_value(v, hidden) for v in value]
    if isinstance(value, dict):
        # A key is text the model reads too (a state key is free text): redacted on its own.
        return {
            _redacted_value(str(k), hidden): _redacted_value(v, hidden, str(k))
            for k, v in value.items()
        }
    return value


def _values(text: str, result: RedactionResult) -> list[str]:
    return [text[r.start : r.end] for r in result.redactions if r.end > r.start]


def _shown_name(name: str | None, found: Mapping[str, str], clean: bool = False) -> str | None:
    """A hit's symbol or scope as shown: redacted as a name (unless the index found
    `redact_name` leaves it `clean`), and a secret its chunk's text was found to hold hidden in
    it too (a token glued inside an identifier, `mirrorghp_<token>_handler`, is found where the
    code quotes it alone)."""
    if not name:
        return name
    shown = name if clean else _name_redacted(name)
    if found and any(v in shown for v in found):
        shown = redact(shown, found).text
    return shown


def _members_shown(members: tuple[MemberRow, ...], found: Mapping[str, str]) -> list[str]:
    """A container hit's members as listed, `name start-end` each, their names as shown."""
    if not found:
        return list(_members_listed(members))
    return [
        f"{_shown_name(m.symbol, found, m.names_clean)} {m.start_line}-{m.end_line}"
        for m in members
    ]


@lru_cache(maxsize=1024)  # the same containers come back search after search, up to 24 each
def _members_listed(members: tuple[MemberRow, ...]) -> tuple[str, ...]:
    return tuple(
        f"{_shown_name(m.symbol, {}, m.names_clean)} {m.start_line}-{m.end_line}" for m in members
    )


@lru_cache(maxsize=4096)  # the same symbols and scopes come back hit after hit (0.2 ms a search)
def _name_redacted(name: str) -> str:
    return redact_name(name).text


def _term_shown(term: str, hidden: set[str]) -> bool:
    """A matched term is listed unless it is part of a secret, holds one, or is one."""
    lowered = term.lower()
    if any(lowered in v or (len(v) >= 8 and v in lowered) for v in hidden):
        return False
    return not _name_holds_secret(term)


@lru_cache(maxsize=4096)  # the same terms match hit after hit, search after search
def _name_holds_secret(term: str) -> bool:
    return bool(redact_name(term).redactions)


def first_build(files: int, waited: str = "") -> str:
    """What a search's note and a save's citation error say of a first index not complete."""
    return (
        "the first index of this workspace is still being built "
        f"({counted(files, 'file')} so far{waited})"
    )


def search_answer(
    response: SearchResponse, waited: float | None = None, *, group_by_file: bool = False
) -> ToolAnswer:
    """A search's answer in its wire form: the structured content as `wire.SearchResult`
    dumps it, built as plain values (twenty hits of typed values of ours, on every search: a
    model per hit, then its dump, cost more than the rest of the answer), and its text."""
    structured = _search_structured(response, waited, group_by_file)
    return ToolAnswer(search_text(structured), structured)


def search_tokens_sent(structured: Mapping[str, Any]) -> int:
    """The tokens of the result texts of a search's structured answer (either grouping) that
    can be over what the search counted: only redaction changes a text, and it leaves a
    marker. Without one the texts are those on disk, which the search kept within its
    `max_tokens`: 0, and the count is skipped (0.1 ms a search)."""
    hits = [*structured["results"], *(h for f in structured["files"] or () for h in f["hits"])]
    if not any(MARKER_OPEN in h["text"] for h in hits):
        return 0
    return sum(estimate_tokens(h["text"]) for h in hits)


def hit_tokens(structured: Mapping[str, Any]) -> int:
    """The tokens of the result texts of a search's structured answer (either grouping)."""
    hits = [*structured["results"], *(h for f in structured["files"] or () for h in f["hits"])]
    return sum(estimate_tokens(h["text"]) for h in hits)


def answer_tokens(structured: Mapping[str, Any]) -> int:
    """The tokens of a tool's whole structured answer as JSON, as a client that passes its
    model the structured content reads it (client_limits.STRUCTURED_ONLY_CLIENTS)."""
    return estimate_tokens(json.dumps(structured, ensure_ascii=False))


def search_noted(answer: ToolAnswer, note: str) -> ToolAnswer:
    """A search's answer with `note` after the note it has."""
    said = answer.structured["note"]
    structured = {**answer.structured, "note": f"{said}; {note}" if said else note}
    return ToolAnswer(search_text(structured), structured)


async def search_for_client(
    answer: ToolAnswer, asked: int, client: str, search: Callable[[int], Awaitable[ToolAnswer]]
) -> ToolAnswer:
    """A search's `answer` (fitted to the budget `asked`) for the MCP client named `client`:
    searched again (`search(budget)`) with a smaller budget while its whole answer is over
    what that client accepts (RESULT_TOKEN_LIMITS), its note saying so."""
    limit = RESULT_TOKEN_LIMITS.get(client)
    if limit is None:  # (the whole answer is not measured: 60 KB of JSON)
        return answer
    budget = asked
    for _ in range(4):  # the answer's size follows the budget: one or two searches more
        whole = answer_tokens(answer.structured)
        if whole <= limit:
            break
        # its texts cut by the share the whole is over: the rest of the answer (paths,
        # fields) shrinks less, so a budget still over is cut again
        texts = min(budget, hit_tokens(answer.structured))
        budget = max(0, texts * limit // whole)
        answer = await search(budget)
    if budget == asked:
        return answer
    return search_noted(
        answer,
        f"max_tokens={asked:,} was lowered to {budget:,} so that the whole answer fits the "
        f"{CLAUDE_CODE_OUTPUT_TOKENS:,} tokens Claude Code accepts of a tool's result "
        "(MAX_MCP_OUTPUT_TOKENS)",
    )


# What a route's or restore's note takes when it says what was left out for a client's limit:
# room kept for it under that limit.
_LIMIT_NOTE_TOKENS = 150


def _client_limit_said(what: str) -> str:
    return (
        f"{what} so that the whole answer fits the {CLAUDE_CODE_OUTPUT_TOKENS:,} tokens Claude "
        "Code accepts of a tool's result (MAX_MCP_OUTPUT_TOKENS)"
    )


def route_context_for_client(budget: int, request: str, client: str) -> int:
    """The context budget of a prompt handed back to the MCP client named `client` (the
    agent answers it, or a dry run): `budget`, lowered for a client that refuses a result
    over its limit (RESULT_TOKEN_LIMITS) to what leaves room for `request` and the rest of
    the answer (the trace: `ROUTE_RESULT_TOKENS`)."""
    limit = RESULT_TOKEN_LIMITS.get(client)
    if limit is None:
        return budget
    room = limit - ROUTE_RESULT_TOKENS - _LIMIT_NOTE_TOKENS - estimate_tokens(request)
    return max(0, min(budget, room))


def context_lowered_note(asked: int, budget: int) -> str:
    """What a route's note says when its handed-back prompt's context was lowered."""
    return _client_limit_said(f"max_context_tokens={asked:,} was lowered to {budget:,}") + "."


# A route's result apart from its answer or prompt: the trace, the note (a route with every
# attempt of a long chain came to about 1,200 tokens of JSON).
ROUTE_RESULT_TOKENS = 2_000


def route_for_client(
    out: wire.RouteResult, client: str, kept_by: str | None = None, sent_to: str | None = None
) -> wire.RouteResult:
    """A route's result for the MCP client named `client`: its body (the model's answer, or
    the prompt handed back) cut while its whole answer, the JSON that client's model reads,
    is over what that client accepts (RESULT_TOKEN_LIMITS); its note says what was left out
    and what to do. `kept_by`: the restore tool's name when the whole answer is kept with
    the route's trace (m040), read on from there. `sent_to`: the model a dry run's prompt
    would go to whole ("the paid model")."""
    limit = RESULT_TOKEN_LIMITS.get(client)
    field = "answer" if out.answer is not None else "prompt"
    body = out.answer if out.answer is not None else out.prompt
    if limit is None or not body:
        return out
    rest_from = ""
    if field == "answer" and kept_by:
        rest = (
            f"the whole answer is kept: {kept_by} with answer_of='{out.trace.trace_id[:8]}' "
            "and answer_from={kept} gives the rest"
        )
        rest_from = "{kept}"
    elif field == "answer":
        rest = (
            "the rest was not kept: route again asking for what follows its last line, or for less"
        )
    elif sent_to:
        rest = (
            f"a real route sends {sent_to} all of it (`ocp-server route --dry-run` in a "
            "terminal shows it whole)"
        )
    else:
        rest = "its end, your request as you sent it, is in your conversation: answer that"
    whole = answer_tokens(out.model_dump(mode="json"))
    kept = len(body)
    cut = out
    while whole > limit and kept > 0:  # the text's share of the whole is about known: a cut or two
        kept = max(0, kept * (limit - _LIMIT_NOTE_TOKENS) // whole - 1)
        said = _client_limit_said(
            f"The {field} was cut to its first {kept:,} of {len(body):,} characters"
        )
        said_rest = rest.replace(rest_from, str(kept)) if rest_from else rest
        cut = out.model_copy(
            update={field: body[:kept], "note": f"{out.note} {said}; {said_rest}."}
        )
        whole = answer_tokens(cut.model_dump(mode="json"))
    return cut


def restore_result(brief: Brief, session_id: str, note: str | None = None) -> wire.RestoreResult:
    """A restore's result of `brief`, for the server session `session_id`."""
    return wire.RestoreResult(
        brief=brief.text,
        decisions=[decision_out(d) for d in brief.decisions],
        stale=[stale_out(s) for s in brief.stale],
        stale_count=brief.stale_count,
        state=dict(brief.state),
        state_set={s.key: state_set_out(s) for s in brief.state_set},
        open_items=[open_item_out(o) for o in brief.open_items],
        notes=[note_out(n) for n in brief.notes],
        sessions=[session_out(s) for s in brief.sessions],
        traces=[trace_out(t) for t in brief.traces],
        omitted=brief.omitted,
        kept_to=brief.kept_to,
        note=note,
        expired=brief.expired,
        tokens=brief.tokens,
        truncated=brief.truncated,
        session_id=session_id,
    )


async def restore_for_client(
    out: wire.RestoreResult,
    asked: int,
    client: str,
    restore: Callable[[int, str | None], Awaitable[wire.RestoreResult]],
    sent: Callable[[wire.RestoreResult], Awaitable[int]],
) -> wire.RestoreResult:
    """A restore's result (fitted to the budget `asked`) for the MCP client named `client`:
    restored again (`restore(budget, note)`, fitted as `sent` measures it) with a smaller
    budget while its whole answer, the JSON that client's model reads (render.restore_answer's
    structured content), is over what that client accepts (RESULT_TOKEN_LIMITS); its note
    says so, and how to have what was left out."""
    limit = RESULT_TOKEN_LIMITS.get(client)
    if limit is None:
        return out
    budget = asked
    for _ in range(4):
        whole = answer_tokens(restore_answer(out).structured)
        if whole <= limit:
            break
        budget = max(0, budget * (limit - _LIMIT_NOTE_TOKENS) // whole)
        note = _client_limit_said(f"max_tokens={asked:,} was lowered to {budget:,}") + (
            ": what was left out is counted in `omitted`; restore with a `query` to have "
            "the memories it matches first, or with stale='count'"
        )

        async def noted(budget: int, note: str = note) -> wire.RestoreResult:
            return await restore(budget, note)

        out = await fitted(noted, sent, budget)
    return out


def _search_structured(
    response: SearchResponse, waited: float | None, group_by_file: bool
) -> dict[str, Any]:
    status = response.status
    note = response.note
    # (a build that failed on storage is retried, and fails again: its note says why)
    if status.storage_failure is None and (status.building or waited is not None):
        waited_text = f"; waited {waited:.1f}s for it" if waited else ""
        note = (
            f"{first_build(status.files, waited_text)}: results may be incomplete; ask again "
            "in a few seconds"
        )
    # One pass over the query and every chunk: a secret found in a chunk is hidden in the
    # query echoed back too (an agent that searched for a value learns nothing new). Chunks
    # the index found clean are not redacted on their own again (index/clean_text.py).
    # A result cut to the budget carries the values a name told in the lines cut off that
    # recur in it: hidden there (and anywhere else), as the whole chunk's redaction hides them.
    query, *texts = redact_all(
        [response.query, *(r.text for r in response.results)],
        [False, *(r.clean for r in response.results)],
        {v: kind for r in response.results for v, kind in r.known},
    )
    hits = list(zip(response.results, texts, strict=True))
    found = {
        v: x.kind
        for r, red in hits
        for x in red.redactions
        if len(v := r.text[x.start : x.end]) >= 8
    }
    hidden = {v.lower() for r, red in hits if red.redactions for v in _values(r.text, red)}
    # matched terms are the query's: decided once a search, not once a hit
    terms = {t for r in response.results for t in r.matched_terms}
    shown_terms = {t: _term_shown(t, hidden) for t in terms}
    # The keys in wire.SearchHit's field order (a test keeps them equal to its dump).
    results: list[dict[str, Any]] = [
        {
            "citation": r.citation,
            "path": r.path,
            "start_line": r.start_line,
            "end_line": r.end_line,
            "symbol": _shown_name(r.symbol, found, r.names_clean),
            "kind": r.kind,
            "scope": _shown_name(r.scope, found, r.names_clean),
            "language": r.language,
            "score": r.score,
            "matched_terms": [t for t in r.matched_terms if shown_terms[t]],
            "truncated": r.truncated,
            "part_of_line": None if r.part_of_line is None else r.part_of_line.model_dump(),
            "text": red.text,
            "redactions": len(red.redactions),
            "members": _members_shown(r.members, found) if r.members else [],
            "members_total": r.members_total,
        }
        for r, red in hits
    ]
    files: list[dict[str, Any]] | None = None
    if group_by_file:
        # The hits come file by file, best file first: the files with their chunks.
        by_path: dict[str, dict[str, Any]] = {}
        for hit in results:
            group = by_path.get(hit["path"])
            if group is None:
                group = by_path[hit["path"]] = {
                    "path": hit["path"],
                    "language": hit["language"],
                    "score": hit["score"],
                    "hits": [],
                }
            group["hits"].append(hit)
        files, results = list(by_path.values()), []
    return {
        "query": redact_name(query.text).text,  # the caller's words glue names too
        "results": results,
        "files": files,
        "index": {
            "workspace": _name_redacted(status.workspace),  # a folder's name can hold a token
            "files": status.files,
            "chunks": status.chunks,
            "last_update": _iso(status.last_update),
            "building": status.building,
            "stale": status.stale,
            "indexer": status.indexer,
            "watcher": status.watcher,
            "watcher_error": status.watcher_error,
        },
        "note": note,
        "redacted": sum(len(red.redactions) for _, red in hits),
    }
