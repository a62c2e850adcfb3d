"""The values a save takes and returns: what to remember, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass


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
    outcome_id: int | None = None  # not a note of the save's: forget_notes takes it
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
