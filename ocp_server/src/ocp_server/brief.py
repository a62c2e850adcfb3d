"""What a session restore hands out, and how it is fitted into a token budget.

A brief is a compact markdown text and the same items as values. `Fitter` takes candidate
items section by section (active decisions, stale memories, open items, state, session
summaries, notes, notable routes), each costed as its line plus, when asked, its structured
form, and never goes over the budget: within a section it stops at the first item that does
not fit, so what is shown is always the best-ranked prefix. Lines are rendered only when an
item is considered, so a thousand candidates cost little. What was left out is counted per
section and said in the brief's last line.

Over 600 lines: the items' renderings and the fitter are one contract (what a rendering costs,
and its shorter forms, is what the fitter budgets), kept side by side.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from ocp_router.redact_names import redact_name_head
from ocp_router.tokens import estimate_tokens
from ocp_server.at_rest import redacted_after

__all__ = [
    "Brief",
    "CitationState",
    "DecisionBrief",
    "Fitter",
    "Item",
    "NoteBrief",
    "SECTION_NAMES",
    "SessionBrief",
    "StaleBrief",
    "StaleMode",
    "TraceBrief",
    "Verified",
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
FOOTER_RESERVE: Final = 60  # tokens kept for the line saying what was left out, until
# `Fitter.expect` knows what each section holds
MIN_ITEM: Final = 12  # tokens of the shortest item with its section header
RECENCY_HALF_LIFE: Final = 14 * 86400.0  # seconds: how fast recency fades against relevance
StaleMode = Literal["list", "count"]
CitationStatus = Literal["valid", "moved", "stale"]
Verified = Literal["valid", "moved", "uncited"]  # a memory served as a fact

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
_HEADERS: Final = dict(_SECTIONS)
_NOUNS: Final = {  # each section's items: one, many
    "decisions": ("decision", "decisions"),
    "stale": ("stale memory", "stale memories"),
    "open_items": ("open item", "open items"),
    "state": ("state key", "state keys"),
    "sessions": ("session summary", "session summaries"),
    "notes": ("note", "notes"),
    "traces": ("notable route", "notable routes"),
}
TITLE: Final = "# Session memory"
EMPTY: Final = "Nothing saved by earlier sessions yet."


# ---- values --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CitationState:
    """A memory's citation as checked: where the code is now and whether it still holds."""

    citation: str  # path:start-end now
    symbol: str | None
    status: CitationStatus
    moved_from: str | None  # path:start-end before the last move
    change: str | None  # stale: what changed
    cited: str  # as saved (path:start-end then)


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
    verified: Verified = "uncited"
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
    verified: Verified = "uncited"
    citations: tuple[CitationState, ...] = ()
    renewed_at: float = 0.0


@dataclass(frozen=True, slots=True)
class StaleBrief:
    """A decision or note whose cited code changed: not a fact until checked again."""

    kind: Literal["decision", "note"]
    id: int
    title: str | None
    text: str
    created_at: float
    citations: tuple[CitationState, ...]
    rationale: str | None = None  # a decision's: what its changed code is judged by


@dataclass(frozen=True, slots=True)
class TraceBrief:
    """A notable route in short form; `why` says what made it notable."""

    id: str
    created_at: float
    why: tuple[str, ...]  # of: error, fallback, agent, paid, outcome
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


# ---- text ----------------------------------------------------------------------------------
def one_line(text: str) -> str:
    return " ".join(text.split())


def cap(text: str, limit: int) -> tuple[str, bool]:
    """One line of at most `limit` characters; True when it was cut."""
    line = one_line(text)
    if len(line) <= limit:
        return line, False
    # redacted whole, then cut: a token cut short here (a row stored before the rule that
    # finds it) is no longer found by the redaction on the way out, and its head went out
    return redact_name_head(line, limit - 1).rstrip() + "…", True


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.4f}"


# ---- items ---------------------------------------------------------------------------------
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
    """row: (id, title, decision, rationale, created_at, session_id, trace_id, renewed_at)."""
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
        line = f"- decision #{r[0]} **{text}**{because}{_stale_tag(states)}"
        return stale, line, cut or cut4 or cut5
    terse = item.shrink > 0
    if terse and any(c.moved_from for c in states):  # where moved code was: the first to go
        states, cut = [replace(c, moved_from=None) for c in states], True
    value = DecisionBrief(
        r[0], title, decision, rationale, r[4], r[5], r[6], _verified(states), tuple(states), r[7]
    )
    # A rationale cut to nothing but its "…" is said by the structured form alone.
    why = f" — why: {rationale}" if rationale and not (terse and rationale == "…") else ""
    date = "" if terse else f" ({when(r[4])})"
    line = f"- #{r[0]} **{title}**: {decision}{why}{date}{_citation_tag(states, terse)}"
    return value, line, cut


def render_note(item: Item) -> Rendered:
    """row: (id, kind, text, created_at, session_id, trace_id, renewed_at)."""
    r, states = item.row
    text, cut = cap(r[2], CAP_TEXT)
    if item.section == "stale":
        short, cut2 = cap(r[2], CAP_STALE)
        stale = StaleBrief("note", r[0], None, short, r[3], tuple(states))
        return stale, f"- note #{r[0]}: {short}{_stale_tag(states)}", cut or cut2
    value = NoteBrief(r[0], r[1], text, r[3], r[4], r[5], _verified(states), tuple(states), r[6])
    if item.section == "open_items":
        return value, f"- #{r[0]} {text} ({when(r[3])})", cut
    return value, f"- #{r[0]} {text} ({when(r[3])}){_citation_tag(states)}", cut


def render_state(item: Item) -> Rendered:
    """row: (key, value, updated_at, seq)."""
    key, raw = item.row[0], item.row[1]
    value, cut = cap(raw, CAP_STATE)
    return (key, value), f"- `{one_line(key)}` = {value}", cut


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


# ---- fitting -------------------------------------------------------------------------------
def ranked(items: Iterable[Item], now: float) -> list[Item]:
    """Exact titles first, then best match blended with recency (bm25 relative to the best
    match)."""
    pool = list(items)
    best = min((i.score for i in pool if i.score is not None), default=0.0) or -1.0

    def key(i: Item) -> tuple[bool, float, float]:
        relevance = (i.score or 0.0) / best
        recency = 0.5 ** (max(0.0, now - i.created_at) / RECENCY_HALF_LIFE)
        return (not i.exact, -(0.8 * relevance + 0.2 * recency), -i.created_at)

    return sorted(pool, key=key)


class Fitter:
    """Takes items within a token budget, section by section (see the module docstring)."""

    def __init__(
        self,
        max_tokens: int,
        *,
        value_cost: Callable[[Any], int] | None = None,
        overhead: int = 0,
        said_max_tokens: int | None = None,
    ) -> None:
        self.max_tokens = max_tokens
        # The budget the brief says it left out to fit: the caller's, when a refit of the
        # result (AppState.restore) fits the brief into less.
        self.said_max_tokens = max_tokens if said_max_tokens is None else said_max_tokens
        self.value_cost = value_cost
        self.overhead = overhead
        self.reserved = FOOTER_RESERVE
        self.used = estimate_tokens(TITLE) + 1 + self.reserved + overhead
        self.chosen: dict[str, list[Item]] = {s: [] for s in SECTION_NAMES}
        self.full: set[str] = set()
        self.taken: set[tuple[str, Any]] = set()
        self.seen = 0
        # The left-out line in short (a total, not per section), and what it would reserve:
        # taken only when the full line would crowd out the brief's very first item.
        self.compact = False
        self.compact_reserve: int | None = None

    def expect(
        self,
        totals: Mapping[str, int],
        *,
        capped: frozenset[str] = frozenset(),
        stale_mode: StaleMode = "list",
        expired: int = 0,
    ) -> None:
        """Reserve what saying the most that can be left out costs (every item of every
        section that holds any), instead of a fixed guess: a budget as small as 300 tokens
        then still has room for the first section's best item."""
        most = {s: n for s, n in totals.items() if n > 0 and (s != "stale" or stale_mode == "list")}
        stale = totals.get("stale", 0)
        # `omitted` in the structured form says it again, section by section.
        counts = (
            estimate_tokens(json.dumps(most, separators=(",", ":")))
            if self.value_cost is not None
            else 0
        )
        reserves = []
        for compact in (False, True):
            footer = _footer(
                most, capped, self.said_max_tokens, stale, stale_mode, expired, compact
            )
            reserves.append(counts + (estimate_tokens(footer) + 2 if footer else 0))  # + blank
        self.used += reserves[0] - self.reserved
        self.reserved = reserves[0]
        self.compact_reserve = reserves[1]

    def is_full(self, section: str) -> bool:
        return section in self.full

    def has_room(self) -> bool:
        """Whether even a short item could still fit (else loading more is pointless)."""
        return self.max_tokens - self.used >= MIN_ITEM

    def offer(self, items: Iterable[Item]) -> None:
        """Take items in the order given; in a section, the first that does not fit closes
        it (so a section shows a prefix of its ranking, never a gap)."""
        for item in items:
            section = item.section
            if section in self.full or item.key in self.taken:
                continue
            self.seen += 1
            cost = self._cost(item)
            if not self._fits(cost):
                shrunk = self._shrunk(item)
                if shrunk is None:
                    self.full.add(section)
                    continue
                cost = shrunk
            item.cost = cost
            self.chosen[section].append(item)
            self.taken.add(item.key)
            self.used += cost

    def _cost(self, item: Item) -> int:
        value, line, _ = item.made()
        # +1 per line covers the newline and the rounding of per-line estimates.
        cost = self._text_tokens(line) + 1
        if self.value_cost is not None:
            item.value_cost = self.value_cost(value)
            cost += item.value_cost
        if not self.chosen[item.section]:
            cost += estimate_tokens(_HEADERS[item.section]) + 2  # and the blank line before it
        return cost

    def _text_tokens(self, text: str) -> int:
        """Tokens of brief text as it is sent: within the structured result (priced with
        `value_cost`) it is a JSON string, where a control character takes six characters
        (`\\u0001`) and a quote, backslash, newline or tab two."""
        if self.value_cost is None:
            return estimate_tokens(text)
        return estimate_tokens(json.dumps(text, ensure_ascii=False)[1:-1])

    def _fits(self, cost: int) -> bool:
        return self.used + cost <= self.max_tokens or self._shorten_footer(cost)

    def _shrunk(self, item: Item) -> int | None:
        """The cost of the brief's very first item at its longest shorter rendering that
        fits, or None (rendered in full again) when none does: a small budget serves the
        most important memory cut short rather than the next one whole."""
        if self.taken:
            return None
        for shrink in range(1, item.shrinks + 1):
            item.shrink, item.made_ = shrink, None
            cost = self._cost(item)
            if self._fits(cost):
                return self._cut_to_room(item, cost)
        item.shrink, item.made_ = 0, None
        return None

    def _cut_to_room(self, item: Item, cost: int) -> int:
        """The cost of `item` at the step it fits, its part that step cuts (the rationale or
        the decision) as long as the room left allows, between this step's cap and the one
        before's: the steps are coarse, and the result's other parts (the session id's
        estimate alone varies by 20 tokens) decide where the room ends."""
        fit, before = SHRUNK_DECISION[item.shrink], SHRUNK_DECISION[item.shrink - 1]
        part = 0 if fit[0] < before[0] else 1  # each step cuts one of the two
        if fit[part] >= before[part]:
            return cost
        lo, hi = fit[part], before[part]  # lo fits, hi did not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            item.caps, item.made_ = _with(fit, part, mid), None
            if self.used + self._cost(item) <= self.max_tokens:
                lo = mid
            else:
                hi = mid
        item.caps, item.made_ = (None if lo == fit[part] else _with(fit, part, lo)), None
        return self._cost(item)  # last: it sets the item's value_cost at these caps

    def _shorten_footer(self, cost: int) -> bool:
        """Say what was left out in short (a total) when that lets the very first item in:
        at the smallest budgets, with thousands left out in every section, the full line
        would take the room of the one memory the brief is for."""
        spare = self.compact_reserve
        if self.taken or self.compact or spare is None:
            return False
        if self.used - self.reserved + spare + cost > self.max_tokens:
            return False
        self.used += spare - self.reserved
        self.reserved = spare
        self.compact = True
        return True

    def page_size(self, section: str) -> int:
        """How many more candidates a section could plausibly take."""
        room = max(0, self.max_tokens - self.used)
        taken = self.chosen[section]
        average = sum(i.cost for i in taken) / len(taken) if taken else 40
        return max(8, min(200, int(room / max(average, 8)) + 4))

    def brief(
        self,
        *,
        query: str | None,
        totals: Mapping[str, int],
        capped: frozenset[str] = frozenset(),
        stale_mode: StaleMode = "list",
        expired: int = 0,
    ) -> Brief:
        """The brief of what was taken; `totals`: how many each section holds in all
        (`capped`: sections counted only up to a bound)."""
        chosen = [i for s in SECTION_NAMES for i in self.chosen[s]]
        stale_total = totals.get("stale", 0)

        def omitted_of(kept: Sequence[Item]) -> dict[str, int]:
            counts = {s: totals.get(s, 0) for s in SECTION_NAMES}
            if stale_mode == "count":
                counts["stale"] = 0
            for i in kept:
                counts[i.section] = counts[i.section] - 1
            return {s: n for s, n in counts.items() if n > 0}

        def text_of(kept: Sequence[Item], omitted: Mapping[str, int]) -> str:
            footer = _footer(
                omitted,
                capped,
                self.said_max_tokens,
                stale_total,
                stale_mode,
                expired,
                self.compact,
            )
            return _render(kept, footer)

        def total(text: str, kept: Sequence[Item]) -> int:
            return self._text_tokens(text) + sum(i.value_cost for i in kept) + self.overhead

        omitted = omitted_of(chosen)
        text = text_of(chosen, omitted)
        while chosen and total(text, chosen) > self.max_tokens:  # a safety net; not expected
            chosen.pop()
            omitted = omitted_of(chosen)
            text = text_of(chosen, omitted)
        if not chosen and not any(totals.values()) and not expired:
            text = EMPTY
        if total(text, chosen) > self.max_tokens:
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
            stale_count=stale_total,
            expired=expired,
        )


def _with(caps: tuple[int, int], part: int, cap: int) -> tuple[int, int]:
    return (cap, caps[1]) if part == 0 else (caps[0], cap)


def _footer(
    omitted: Mapping[str, int],
    capped: frozenset[str],
    max_tokens: int,
    stale: int,
    stale_mode: StaleMode,
    expired: int,
    compact: bool = False,
) -> str:
    """What the brief left out, in one line (empty when nothing was); `compact`: a total
    instead of each section's count (`omitted` still has them)."""
    parts = [_counted(n, *_NOUNS[s], at_least=s in capped) for s, n in omitted.items()]
    if compact and parts:
        more = any(s in capped for s in omitted)
        sections = _counted(len(parts), "section", "sections")
        parts = [f"{_counted(sum(omitted.values()), 'item', 'items', at_least=more)} of {sections}"]
    notes = []
    if parts:
        notes.append(f"left out to fit max_tokens={max_tokens:,}: {', '.join(parts)}")
    if stale_mode == "count" and stale:
        stale_memories = _counted(stale, "stale memory", "stale memories")
        notes.append(f"{stale_memories} (their cited code changed) not listed")
    if expired:
        memories = _counted(expired, "memory", "memories")
        notes.append(f"{memories} expired (not served while valid for the TTL)")
    if not notes:
        return ""
    text = "; ".join(notes)
    return "_" + text[0].upper() + text[1:] + "._"


def _counted(n: int, one: str, many: str, *, at_least: bool = False) -> str:
    """`n` things in words: "1 state key", "2 state keys", "1+ state keys" (at least one)."""
    return f"{n:,}{'+' * at_least} {one if n == 1 and not at_least else many}"


def _render(chosen: Sequence[Item], footer: str) -> str:
    if not chosen and not footer:
        return ""
    lines = [TITLE]
    for section, header in _SECTIONS:
        items = [i for i in chosen if i.section == section]
        if items:
            lines += ["", header]
            lines += [i.made()[1] for i in items]
    if footer:
        lines += ["", footer]
    return "\n".join(lines)
