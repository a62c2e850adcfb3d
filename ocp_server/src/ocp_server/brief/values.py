"""What a brief holds: its items as values (decisions, notes and open items, stale memories,
sessions, notable routes, each with its citations as checked) and the brief itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Brief",
    "CitationState",
    "CitationStatus",
    "DecisionBrief",
    "NoteBrief",
    "SessionBrief",
    "StaleBrief",
    "StaleMode",
    "StateBrief",
    "TraceBrief",
    "Verified",
]

StaleMode = Literal["list", "count"]
CitationStatus = Literal["valid", "moved", "stale"]
Verified = Literal["valid", "moved", "uncited"]  # a memory served as a fact


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
    """An active decision served as a fact (or one asked for by its id, which may have been
    replaced): `verified` is valid, moved or uncited."""

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
    supersedes: int | None = None  # the decision this one replaced (no longer served)
    superseded_by: int | None = None  # one replaced, shown by its id: the one replacing it


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
class StateBrief:
    """A state key's current value, when it was set and by which session: a value set weeks
    ago is not necessarily what holds now."""

    key: str
    value: str
    set_at: float
    session_id: str


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
    state_set: tuple[StateBrief, ...] = ()  # `state`'s keys: when and by whom each was set
    kept_to: str | None = None  # the sub-folder decisions were kept to (sections.kept_to)
