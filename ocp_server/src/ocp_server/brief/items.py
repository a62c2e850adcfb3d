"""A brief's candidate items and their renderings: each item's line and structured value,
rendered only when the fitter considers it, at the caps below; a decision's shorter forms
(SHRUNK_DECISION) are what the fitter takes when in full it would not fit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from ocp_server.at_rest import redacted_after
from ocp_server.brief.text import ago, cap, one_line, when
from ocp_server.brief.values import (
    CitationState,
    DecisionBrief,
    NoteBrief,
    SessionBrief,
    StaleBrief,
    StateBrief,
    TraceBrief,
    Verified,
)

__all__ = [
    "CAP_CHANGE",
    "CAP_DECISION",
    "CAP_RATIONALE",
    "CAP_REQUEST",
    "CAP_STALE",
    "CAP_STATE",
    "CAP_TEXT",
    "CAP_TITLE",
    "Item",
    "Rendered",
    "SHRUNK_DECISION",
    "render_decision",
    "render_note",
    "render_session",
    "render_state",
    "render_trace",
]

# Longest rendering of one item in a brief, in characters; longer text is cut with "…".
CAP_TITLE: Final = 160
CAP_DECISION: Final = 800
CAP_RATIONALE: Final = 500
CAP_TEXT: Final = 500
CAP_STATE: Final = 300
CAP_REQUEST: Final = 120
CAP_STALE: Final = 200  # a stale memory's own text
CAP_CHANGE: Final = 300  # what changed in its code
# A brief's first decision, cut further until it fits the budget when in full it would not:
# the smallest budget still serves the decision it is for. First it drops what the agent can
# do without: its line the date (the structured form has it), both forms where moved code
# was (where it is now stays); then the rationale is cut, then the decision. Between the
# first step that fits and the one before it, the part that step cuts is cut to the room
# left (`Fitter._shrunk`): a token short of a step no longer drops to the next.
SHRUNK_DECISION: Final = (
    (CAP_RATIONALE, CAP_DECISION),
    (CAP_RATIONALE, CAP_DECISION),  # terse: no date, a move only by where it is now
    (240, CAP_DECISION),
    (120, CAP_DECISION),
    (60, CAP_DECISION),
    (1, CAP_DECISION),  # the rationale only as "…"
    (1, 400),
    (1, 200),
    (1, 100),
)


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.4f}"


Rendered = tuple[Any, str, bool]  # (value, line, cut short)


@dataclass(slots=True)
class Item:
    """One candidate line of a brief; rendered only when the fitter considers it."""

    section: str
    key: tuple[str, Any]  # what it is, whichever way it was found: ("decision", 12)
    row: Any
    created_at: float
    render: Callable[[Item], Rendered]
    score: float | None = None  # bm25 (lower is better); None: did not match the query
    exact: bool = False  # a decision titled exactly as the query: first, whatever its score
    made_: Rendered | None = None
    value_cost: int = 0  # tokens of its structured form, once the fitter priced it
    cost: int = 0  # all it cost when taken: line, structured form, its header's share
    shrinks: int = 0  # shorter renderings it has, for when it alone would not fit
    shrink: int = 0  # the one it is rendered at (0: in full)
    caps: tuple[int, int] | None = None  # (rationale, decision) cut to the room; None: the step's

    def made(self) -> Rendered:
        if self.made_ is None:
            self.made_ = self.render(self)
        return self.made_


def _citation_tag(states: Sequence[CitationState], terse: bool = False) -> str:
    """` [valid: a.py:1-3]`, ` [moved to b.py:4-6 (was a.py:1-3)]` (`(was 1-3)` within its
    file), ` [uncited]`. Where the code is now comes first, whole, to be read next; `terse`
    says only that (the structured form keeps where it was)."""
    if not states:
        return " [uncited]"
    parts = []
    for c in states:
        if c.status == "moved":
            old, _, old_lines = (c.moved_from or "").rpartition(":")
            was = old_lines if old == c.citation.rpartition(":")[0] else c.moved_from
            parts.append(f"moved to {c.citation}" + (f" (was {was})" if was and not terse else ""))
        else:
            parts.append(f"{c.status}: {c.citation}")
    return " [" + "; ".join(parts) + "]"


def _verified(states: Sequence[CitationState]) -> Verified:
    if not states:
        return "uncited"
    return "moved" if any(c.status == "moved" for c in states) else "valid"


def _stale_tag(states: Sequence[CitationState]) -> str:
    """` — cites a.py:8-10 (saved at a.py:6-8): what changed`: where the code was last seen,
    which is where to look (the lines it was saved with only when they differ)."""
    parts = []
    for c in states:
        if c.status == "stale":
            change, _ = cap(c.change or "changed", CAP_CHANGE)
            saved = f" (saved at {c.cited})" if c.cited != c.citation else ""
            parts.append(f"cites {c.citation}{saved}: {change}")
    return " — " + "; ".join(parts)


def render_decision(item: Item) -> Rendered:
    """row: (id, title, decision, rationale, created_at, session_id, trace_id, renewed_at,
    supersedes), and superseded_by when one decision is shown by its id."""
    r, states = item.row
    rationale_cap, decision_cap = item.caps or SHRUNK_DECISION[item.shrink]
    title, cut1 = cap(r[1], CAP_TITLE)
    # Read after the title, as a save keeps them (kept.py): one stored before that may hold
    # the value its title names ("DB password"), which no later pass over the brief sees.
    decision, cut2 = cap(redacted_after(r[1], r[2]), decision_cap)
    rationale, cut3 = cap(redacted_after(r[1], r[3]), rationale_cap) if r[3] else (None, False)
    cut = cut1 or cut2 or cut3
    if item.section == "stale":
        text, cut4 = cap(f"{title}: {decision}", CAP_STALE)
        # why it was decided is what tells whether the change breaks it (then supersede) or
        # not (then save it again citing the code as it is)
        why, cut5 = cap(rationale, CAP_STALE) if rationale else (None, False)
        stale = StaleBrief("decision", r[0], title, decision, r[4], tuple(states), why)
        because = f" — why: {why}" if why else ""
        # dated: was it saved before or after the change?
        line = f"- decision #{r[0]} ({when(r[4])}) **{text}**{because}{_stale_tag(states)}"
        return stale, line, cut or cut4 or cut5
    terse = item.shrink > 0
    if terse and any(c.moved_from for c in states):  # where moved code was: the first to go
        states, cut = [replace(c, moved_from=None) for c in states], True
    by = r[9] if len(r) > 9 else None
    value = DecisionBrief(
        r[0], title, decision, rationale, r[4], r[5], r[6], _verified(states), tuple(states), r[7],
        r[8], by,
    )  # fmt: skip
    # A rationale cut to nothing but its "…" is said by the structured form alone.
    why = f" — why: {rationale}" if rationale and not (terse and rationale == "…") else ""
    # which decision it replaced: that one is no longer served, and the agent may remember it
    replaced = f"; replaces #{r[8]}" if r[8] is not None else ""
    replaced += f"; replaced by #{by}, not served" if by is not None else ""
    date = "" if terse else f" ({when(r[4])}{replaced})"
    line = f"- #{r[0]} **{title}**: {decision}{why}{date}{_citation_tag(states, terse)}"
    return value, line, cut


def render_note(item: Item) -> Rendered:
    """row: (id, kind, text, created_at, session_id, trace_id, renewed_at)."""
    r, states = item.row
    text, cut = cap(r[2], CAP_TEXT)
    if item.section == "stale":
        short, cut2 = cap(r[2], CAP_STALE)
        stale = StaleBrief("note", r[0], None, short, r[3], tuple(states))
        line = f"- note #{r[0]} ({when(r[3])}): {short}{_stale_tag(states)}"
        return stale, line, cut or cut2
    value = NoteBrief(r[0], r[1], text, r[3], r[4], r[5], _verified(states), tuple(states), r[6])
    if item.section == "open_items":
        return value, f"- #{r[0]} {text} ({when(r[3])})", cut
    return value, f"- #{r[0]} {text} ({when(r[3])}){_citation_tag(states)}", cut


def render_state(item: Item) -> Rendered:
    """row: (key, value, updated_at, seq, session_id, now): `now`, the restore's time, says
    how long ago it was set."""
    key, raw, set_at, _, session_id, now = item.row
    value, cut = cap(raw, CAP_STATE)
    # The date too: the age is fixed when the brief is built, and a brief cached in a prompt
    # ages ("set 3 weeks ago" read a month on); the day alone once it is a day old.
    date = when(set_at) if now - set_at < 86_400 else when(set_at)[:10]
    line = f"- `{one_line(key)}` = {value} (set {ago(now - set_at)}, {date})"
    return StateBrief(key, value, set_at, session_id), line, cut


def render_session(item: Item) -> Rendered:
    """row: (id, workspace, started_at, ended_at, summary, rowid)."""
    r = item.row
    summary, cut = cap(r[4], CAP_TEXT)
    value = SessionBrief(r[0], r[1], r[2], r[3], summary)
    return value, f"- {when(r[2])} `{r[0][:12]}`: {summary}", cut


def render_trace(item: Item) -> Rendered:
    """row: (id, created_at, decision, route_to, model, task_type, cost_usd, request,
    outcome, answered_by, rowid)."""
    r = item.row
    why = tuple(
        name
        for name, on in (
            ("error", r[9] is None),
            # Another tier answered (as the savings report counts it): not a hand-back to
            # the agent, not a failure.
            ("fallback", r[2] != r[3] and r[3] in ("local", "paid")),
            ("agent", r[3] == "agent"),
            ("paid", r[3] == "paid"),
            ("outcome", r[8] is not None),
        )
        if on
    )
    request, _ = cap(r[7], CAP_REQUEST)
    outcome, cut = cap(r[8], CAP_TEXT) if r[8] else (None, False)
    value = TraceBrief(r[0], r[1], why, r[2], r[3], r[4], r[5], r[6], request, outcome)
    route = r[3] if r[2] == r[3] else f"{r[2]}->{r[3]}"
    if r[4] and r[4] != r[3]:  # the model, unless it is the route's answerer ("agent")
        route += f" {r[4]}"
    cost = f", {_usd(r[6])}" if r[3] == "paid" else ""
    # A row kept without its text (the proxy keeps it only with OCP_TRACE_CONTENT=1, and
    # briefs leave its rows out: queries.py TRACES).
    shown = request or "request text not stored"
    line = f"- {when(r[1])} `{r[0][:8]}` [{', '.join(why)}] {route} ({r[5]}{cost}): {shown}" + (
        f" → {outcome}" if outcome else ""
    )
    return value, line, cut
