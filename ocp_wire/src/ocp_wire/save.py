"""`ocp_result_save`: what to remember, and what became of it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from ocp_wire.base import (
    MAX_DB_ID,
    MAX_ITEM_CHARS,
    MAX_STATE_KEY_CHARS,
    MAX_STATE_KEYS,
    MAX_STATE_VALUE_CHARS,
    MAX_TRACE_ID_CHARS,
    NOT_A_BOOLEAN,
    CallerId,
    WireIn,
    WireOut,
    WorkspaceArg,
)

Citations: Any = Field(
    default_factory=list,
    max_length=20,
    description="The code this is about: path:start-end (as the context search tool cites it), "
    "path:symbol, or a symbol name (verify_token, SessionStore.rotate_session). A path is "
    "relative to the workspace root, or, when `workspace` names a sub-folder of it, to that "
    "folder as well. Checked at every restore: served as fact only while that code is "
    "unchanged or moved.",
)
CitationArg = Annotated[str, StringConstraints(min_length=1, max_length=500)]
StateKey = Annotated[str, Field(min_length=1, max_length=MAX_STATE_KEY_CHARS)]
StateValue = Annotated[str, Field(max_length=MAX_STATE_VALUE_CHARS)]
# Not empty: an empty note or open item was dropped without a word, while {"text": ""} was
# refused.
Item = Annotated[str, Field(min_length=1, max_length=MAX_ITEM_CHARS)]
MAX_SAVE_LIST = 100  # notes, open items, or ids in one of a save's lists
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID), NOT_A_BOOLEAN]


class DecisionArg(WireIn):
    title: str = Field(min_length=1, max_length=300, description="Short name of the decision")
    decision: str = Field(min_length=1, max_length=5_000, description="What was decided")
    rationale: str | None = Field(None, max_length=5_000, description="Why")
    supersedes: DbId | None = Field(None, description="Id of an earlier decision this one replaces")
    citations: list[CitationArg] = Citations


class NoteArg(WireIn):
    text: str = Field(min_length=1, max_length=MAX_ITEM_CHARS, description="What to remember")
    citations: list[CitationArg] = Citations


#: What the routing proxy's answers name a request by before its trace's id (`request-id`,
#: `x-request-id`: `req_ocp_<trace id>`), which a client's SDK shows it as.
PROXY_REQUEST_PREFIX = "req_ocp_"


class SaveArgs(WireIn):
    # Taken as given: the server's lookup reads it as OCP's id (any case, a uuid's dashes,
    # req_ocp_), then as a paid upstream's, whose case and dashes are its own.
    trace_id: str | None = Field(
        None,
        max_length=MAX_TRACE_ID_CHARS,
        description="The routed request this outcome is about: a route's trace_id (its "
        "first 8 characters will do), or a request the routing proxy routed, by the id its "
        "answer carries (the request-id or x-request-id header an SDK shows: req_ocp_…, or "
        "for a paid answer the provider's own, req_… or a uuid, as the SDK shows it)",
    )
    outcome: str | None = Field(
        None,
        max_length=5_000,
        description="How the routed answer worked out. Start with good, bad (or wrong), "
        "escalated (you re-asked a higher tier) or overkill (a local model would have done) "
        "and routing learns from it for this workspace",
    )
    summary: str | None = Field(None, max_length=20_000, description="What this session did")
    decisions: list[DecisionArg] = Field(
        default_factory=list,
        max_length=50,
        description="Decisions made, each with why and the code it is about",
    )
    state: dict[StateKey, StateValue] = Field(
        default_factory=dict,
        max_length=MAX_STATE_KEYS,
        description="Key/value state for the next session",
    )
    notes: list[Item | NoteArg] = Field(
        default_factory=list,
        max_length=MAX_SAVE_LIST,
        description="Notes: plain strings, or {text, citations} to tie one to code",
    )
    open_items: list[Item] = Field(
        default_factory=list,
        max_length=MAX_SAVE_LIST,
        description="What is left to do: listed at every restore until closed by id (resolve)",
    )
    resolve: list[DbId] = Field(
        default_factory=list,
        max_length=MAX_SAVE_LIST,
        description="Ids of open items that are done",
    )
    forget_decisions: list[DbId] = Field(
        default_factory=list,
        max_length=MAX_SAVE_LIST,
        description="Ids of decisions to forget: never served again, their text erased",
    )
    forget_notes: list[DbId] = Field(
        default_factory=list,
        max_length=MAX_SAVE_LIST,
        description="Ids of notes or open items to forget (their text erased)",
    )
    session_id: CallerId | None = Field(
        None,
        description="Record this save under this session id: the one given to the route tool, "
        "or the restore tool's session_id (default: this server's session)",
    )
    workspace: str | None = WorkspaceArg

    @property
    def cites_code(self) -> bool:
        """Whether a decision or note of this save cites code."""
        return any(d.citations for d in self.decisions) or any(
            not isinstance(n, str) and n.citations for n in self.notes
        )

    @model_validator(mode="after")
    def _something_to_save(self) -> SaveArgs:
        # A save of none of these (an empty one, or only a trace_id or session_id) stored
        # nothing and was answered "Saved nothing" as a success.
        if not any(getattr(self, name) for name in SAVED_FIELDS):
            raise ValueError(
                "nothing to save: give at least one of `summary`, `decisions`, `state`, "
                "`notes`, `open_items`, `outcome` (with `trace_id`), `resolve`, "
                "`forget_decisions` or `forget_notes`"
            )
        return self


#: What a save stores or changes: one of them must be given.
SAVED_FIELDS = (
    "summary", "decisions", "state", "notes", "open_items", "outcome", "resolve",
    "forget_decisions", "forget_notes",
)  # fmt: skip


class SavedCitationOut(WireOut):
    item: str = Field(description="Which saved item: decisions[0], notes[1]")
    citation: str = Field(description="path:start-end as resolved")
    symbol: str | None


class SuggestionOut(WireOut):
    item: str
    citation: str
    symbol: str
    kind: str


class MergeOut(WireOut):
    item: str
    into: int = Field(description="Id of the live memory it merged into")
    alike: float


class SaveResult(WireOut):
    session_id: str
    saved: dict[str, int]
    decision_ids: list[int] = Field(
        description="One per decision given, in order (merged ones: the id they merged into)"
    )
    note_ids: list[int] = Field(
        description="One per note given, in order (merged ones: the id they merged into)"
    )
    open_item_ids: list[int]
    outcome_id: int | None = Field(
        None, description="The outcome's own id, for forget_notes (null: no outcome given)"
    )
    citations: list[SavedCitationOut] = Field(description="Citations as resolved and stored")
    suggested: list[SuggestionOut] = Field(
        description="Citations the texts seem to want (identifiers the index defines once): "
        "not added; save again with them to tie the memory to that code"
    )
    merged: list[MergeOut] = Field(description="Items merged into near-identical live ones")
    forgotten: list[str]
    warnings: list[str]
