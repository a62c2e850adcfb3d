"""Short text renderings of tool results, for clients that only read the text content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_router.words import counted
from ocp_server.client_limits import STRUCTURED_ONLY_CLIENTS
from ocp_server.prompt import one_line


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """A tool's answer already in its wire form: its text rendering and its structured content
    (what its result model dumps, `model_dump(mode="json")`), built without the model."""

    text: str
    structured: dict[str, Any]
    more: tuple[str, ...] = ()  # text blocks after the first


def restore_answer(out: wire.RestoreResult, client: str = "") -> ToolAnswer:
    """A restore's answer on the wire: the brief once, as the text block, and the same items
    as values in the structured content, its `brief` empty. Sent in both, the brief took a
    third of the budget twice over for a client that shows the model both. A part of a
    route's answer (`answer_of`) goes once too, where the MCP client named `client` reads it
    (as a route's answer does: `route_answer`)."""
    structured = {**out.model_dump(mode="json", exclude=_unsaid(out)), "brief": ""}
    if not out.answer:
        return ToolAnswer(render(out), structured)
    if client in STRUCTURED_ONLY_CLIENTS:
        return ToolAnswer(f"{render(out)}\n\n(the answer is the result's `answer`)", structured)
    return ToolAnswer(render(out), {**structured, "answer": ""}, (out.answer,))


def _unsaid(out: wire.RestoreResult) -> set[str]:
    """What a restore's answer leaves out: a note, a route's answer or a sub-folder it has not
    (a smallest budget's room is tight: 300 tokens hold one memory)."""
    return {name for name in ("note", "answer", "kept_to") if getattr(out, name) is None}


def route_answer(out: wire.RouteResult, client: str) -> ToolAnswer:
    """A route's answer on the wire for the MCP client named `client`: its body (a model's
    answer, or the enriched prompt handed back: the agent answers, or a dry run) once, where
    that client's model reads it. In the structured content for a client that reads nothing
    else (the text says where it is); else as the text's last block, that structured field
    empty. Sent in both, a client that shows its model both paid for it twice."""
    field = "answer" if out.answer is not None else "prompt"
    body = out.answer if out.answer is not None else out.prompt
    structured = out.model_dump(mode="json")
    if not body:
        return ToolAnswer(render(out), structured)
    head = _route(out.model_copy(update={field: ""}))
    if client in STRUCTURED_ONLY_CLIENTS:
        return ToolAnswer(f"{head}\n\n(the {field} is the result's `{field}`)", structured)
    return ToolAnswer(head, {**structured, field: ""}, (body,))


def restore_tokens(out: wire.RestoreResult) -> int:
    """The tokens of a restore's answer as sent (`restore_answer`): its text block and its
    structured content."""
    return estimate_tokens(render(out)) + estimate_tokens(
        out.model_copy(update={"brief": ""}).model_dump_json(exclude=_unsaid(out))
    )


def render(out: BaseModel) -> str:
    if isinstance(out, wire.SearchResult):
        return search_text(out.model_dump(mode="json"))
    if isinstance(out, wire.RestoreResult):
        return (out.brief or _no_brief(out)) + _hidden(out.redacted)
    if isinstance(out, wire.RouteResult):
        return _route(out)
    if isinstance(out, wire.SaveResult):
        saved = ", ".join(_count(k, v) for k, v in out.saved.items() if v) or "nothing"
        lines = [f"Saved {saved} (session {out.session_id})."]
        if out.decision_ids:
            lines.append("Decision ids: " + ", ".join(map(str, out.decision_ids)))
        if out.note_ids:
            lines.append("Note ids: " + ", ".join(map(str, out.note_ids)))
        if out.open_item_ids:
            lines.append("Open item ids: " + ", ".join(map(str, out.open_item_ids)))
        if out.outcome_id is not None:
            lines.append(f"Outcome id: {out.outcome_id} (forget_notes takes it)")
        lines.extend(
            f"Cited ({c.item}): {c.citation}" + (f" `{c.symbol}`" if c.symbol else "")
            for c in out.citations
        )
        lines.extend(
            f"Suggested citation ({s.item}, not added): {s.citation} `{s.symbol}` ({s.kind})"
            for s in out.suggested
        )
        if out.forgotten:
            lines.append("Forgotten: " + ", ".join(out.forgotten))
        lines.extend(f"Warning: {w}" for w in out.warnings)
        return "\n".join(lines)
    return out.model_dump_json(indent=2)


# A save's counts (wire.SaveResult.saved) in words, singular and plural; a key not here is
# said as it is ("1 merged", "2 forgotten").
_SAVED_WORDS = {
    "decisions": ("decision", "decisions"),
    "state": ("state key", "state keys"),
    "notes": ("note", "notes"),
    "open_items": ("open item", "open items"),
    "outcome": ("outcome", "outcomes"),
    "summary": ("summary", "summaries"),
    "citations": ("citation", "citations"),
    "calibration": ("routing calibration update", "routing calibration updates"),
}


def _count(key: str, n: int) -> str:
    return counted(n, *_SAVED_WORDS.get(key, (key.replace("_", " "),) * 2))


def search_text(out: dict[str, Any]) -> str:
    """A search's text, from its structured content (`wire.SearchResult` dumped)."""
    idx = out["index"]
    files = out["files"]
    count = (
        counted(len(files), "file") if files is not None else counted(len(out["results"]), "result")
    )
    lines = [f"{count} for {out['query']!r} ({counted(idx['files'], 'file')} indexed)"]
    if out["note"]:
        lines.append(f"Note: {out['note']}")
    if out["redacted"]:
        lines.append(_hidden(out["redacted"]).strip())
    lines.extend(_hit_text(hit) for hit in out["results"])
    for group in files or ():
        lines.append(f"\n## {one_line(group['path'])}")
        lines.extend(_hit_text(hit) for hit in group["hits"])
    return "\n".join(lines)


def _hit_text(hit: dict[str, Any]) -> str:
    label = f"{hit['kind']} {hit['symbol']}" if hit["symbol"] else hit["kind"]
    text = f"\n{one_line(hit['citation'])}{hit_part(hit)} — {one_line(label)}\n{hit['text']}"
    return text + members_line(hit)


def members_line(hit: dict[str, Any]) -> str:
    """A container hit's members after its text, `name start-end` each, and how many more
    there are: the lines to open next."""
    members = hit.get("members")
    if not members:
        return ""
    listed = ", ".join(one_line(m) for m in members)
    more = hit["members_total"] - len(members)
    return f"\n[members: {listed}{f', and {more} more' if more > 0 else ''}]"


def hit_part(hit: dict[str, Any]) -> str:
    """What follows a hit's citation when its text is a piece of one very long line: which of
    the line's characters (wire.LinePart)."""
    part = hit.get("part_of_line")
    if part is None:
        return ""
    where = f"characters {part['start']}-{part['end']} of line {part['line']}"
    return f" ({where}, which is longer than a chunk)"


_FORCED = " forced by caller"


def _decided(t: wire.RouteTrace) -> str:
    """The decision and who made it: `local by phase 1: …`; a forced one says what was forced
    once (`paid, forced by caller`, `paid (top), forced by caller`), not `paid by paid forced
    by caller`."""
    if not t.decided_by.endswith(_FORCED):
        return f"{t.decision} by {t.decided_by}"
    forced = t.decided_by.removesuffix(_FORCED)
    what = t.decision if forced == t.decision else f"{t.decision} ({forced})"
    return f"{what},{_FORCED}"


def _route(out: wire.RouteResult) -> str:
    t = out.trace
    # what it was billed; before any call (a dry run) what it could cost: a call refused
    # (a bad key) was billed nothing, not the upper bound it was allowed
    cost = "" if t.estimated_cost_usd is None or t.cost_usd is None else f", ${t.cost_usd:.4f}"
    if out.answered_by == "none" and out.prompt is not None:  # a dry run: nobody was asked
        # Not "would answer": a dry run asks no model whether it is there to.
        answered = f"no model called (would go to {t.model})" if t.model else "no model called"
        if t.model == "none":  # the router's name for a tier with no model (a paid one, no key)
            kind = "local" if t.tier == "local" else "paid"
            answered = f"no model called (no {kind} model is configured: your agent would answer)"
        if t.local_unavailable:  # asked, as a real route would find it (dry_run.py)
            then = {"agent": "your agent would answer", "none": "no model would answer"}
            went = then.get(t.model or "none", f"would go to {t.model}")
            answered = f"no model called (the local model is not reachable: {went})"
        cost = "" if t.estimated_cost_usd is None else f", up to ${t.estimated_cost_usd:.4f}"
    else:
        model = f" ({t.model})" if t.model and t.model != out.answered_by else ""
        answered = f"answered by {out.answered_by}{model}"
    trace = (
        f"[route {t.trace_id[:8]}: {_decided(t)}, score "
        f"{t.complexity_score:.2f}, {t.task_type}; {answered}{cost}]"
    )
    if t.redactions:
        trace += f" [{sum(t.redactions.values())} secret(s) redacted]"
    body = out.answer if out.answer is not None else (out.prompt or "")
    return f"{out.note}\n{trace}\n\n{body}".rstrip()


def _no_brief(out: wire.RestoreResult) -> str:
    """Why a restore's brief is empty: nothing saved, or a max_tokens too small for even the
    line that says what was left out (the structured `omitted` still counts it)."""
    if not out.omitted:
        return "No earlier sessions left anything in this workspace yet."
    left = ", ".join(f"{n:,} {section.replace('_', ' ')}" for section, n in out.omitted.items())
    return f"All left out to fit max_tokens ({left}): restore again with a larger max_tokens."


def _hidden(count: int) -> str:
    if not count:
        return ""
    return f"\n({count} secret value(s) hidden as [REDACTED:<kind>])"
