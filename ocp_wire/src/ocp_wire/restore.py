"""`ocp_session_restore`: its arguments and the brief it returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from ocp_wire.base import MAX_TRACE_ID_CHARS, Redacted, WireIn, WireInt, WireOut, WorkspaceArg
from ocp_wire.save import DbId

# The smallest budget that always holds one short memory (a sentence-long note or decision,
# one citing code included): the result's fixed part (its fields, counts and session id) and
# the room kept for saying what was left out take from about 130 tokens of it (few sections
# hold anything) to 180 (every section holds thousands, said as one total when that lets the
# first item in). A longer first decision comes cut, its rationale first: about 200 tokens
# of mostly rationale with one valid citation fit.
MIN_RESTORE_TOKENS = 300
MAX_RESTORE_TOKENS = 20_000


class RestoreArgs(WireIn):
    query: str | None = Field(
        None, max_length=5_000, description="Put what relates to this first (optional)."
    )
    max_tokens: WireInt = Field(
        2000,
        ge=MIN_RESTORE_TOKENS,
        le=MAX_RESTORE_TOKENS,
        description="Token budget of the whole result (brief and structured items together); "
        "never exceeded.",
    )
    stale: Literal["list", "count"] = Field(
        "list",
        description="Memories whose cited code changed: 'list' them apart with what changed "
        "(within the budget), or only 'count' them.",
    )
    answer_of: str | None = Field(
        None,
        max_length=MAX_TRACE_ID_CHARS,
        description="The rest of a model answer the route tool cut to fit what this client "
        "accepts: that route's trace_id (its first 8 characters will do), as its note says. "
        "Memory is not restored then.",
    )
    answer_from: WireInt = Field(
        0, ge=0, description="With answer_of: the character of that answer to go on from."
    )
    decision: DbId | None = Field(
        None,
        description="Show only the decision of this id, a replaced one too (what a decision's "
        "`replaces #12` or `supersedes` names), saying which decision replaced it.",
    )
    workspace: str | None = WorkspaceArg

    @model_validator(mode="after")
    def _answer_from_needs_answer_of(self) -> RestoreArgs:
        # Alone it was dropped without a word: the memory brief came back, no answer's part.
        if self.answer_from and self.answer_of is None:
            raise ValueError(
                f"`answer_from` ({self.answer_from}) is read only with `answer_of`, the route's "
                "trace id its note names: give both, or leave `answer_from` out"
            )
        return self


Verified = Literal["valid", "moved", "uncited"]


class CitationOut(WireOut):
    citation: str = Field(description="path:start-end where the cited code is now")
    symbol: str | None
    status: Literal["valid", "moved", "stale"]
    moved_from: str | None = Field(None, description="moved: where it was")
    change: str | None = Field(None, description="stale: what changed, in short")

    @model_serializer(mode="wrap")
    def _without_empty_status_fields(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A valid citation has neither, a moved one no change: left out, not sent as null
        # (8 tokens a citation, in a result sized to a budget as small as 300 tokens).
        out = handler(self)
        if isinstance(out, dict):
            for name in ("moved_from", "change"):
                if out.get(name, "") is None:
                    del out[name]
        return out


def _without(out: Any, names: tuple[str, ...]) -> Any:
    """`out` without those of `names` that are null: optional fields left out, not sent as
    null, in a result sized to a budget."""
    if isinstance(out, dict):
        for name in names:
            if name in out and out[name] is None:
                del out[name]
    return out


class DecisionOut(WireOut):
    id: int
    title: str
    decision: str
    rationale: str | None
    decided_at: str
    verified: Verified = Field(
        description="valid: its cited code is unchanged; moved: found elsewhere (citations "
        "updated); uncited: nothing to check"
    )
    citations: list[CitationOut]
    supersedes: int | None = Field(
        None,
        description="The id of the decision this one replaced (that one is no longer served; "
        "restore's `decision` shows it); left out when it replaced none",
    )
    superseded_by: int | None = Field(
        None,
        description="Shown by its id (`decision`): the decision that replaced this one, "
        "which is served instead; left out when none did",
    )

    @model_serializer(mode="wrap")
    def _without_empty_supersedes(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without(handler(self), ("supersedes", "superseded_by"))


class NoteOut(WireOut):
    id: int
    text: str
    noted_at: str
    verified: Verified
    citations: list[CitationOut]


class OpenItemOut(WireOut):
    id: int
    text: str
    opened_at: str | None = Field(
        None, description="When it was opened (older servers leave it out)"
    )

    @model_serializer(mode="wrap")
    def _without_empty_date(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without(handler(self), ("opened_at",))


class StaleOut(WireOut):
    kind: Literal["decision", "note"]
    id: int
    title: str | None
    text: str
    rationale: str | None = Field(
        None, description="A decision's why: what to judge the change by (supersede or re-save)"
    )
    citations: list[CitationOut] = Field(description="stale ones say what changed")
    decided_at: str | None = Field(None, description="A decision's: when it was saved")
    noted_at: str | None = Field(None, description="A note's: when it was saved")

    @model_serializer(mode="wrap")
    def _without_other_kinds_date(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without(handler(self), ("decided_at", "noted_at"))


class StateSetOut(WireOut):
    set_at: str = Field(description="When the key got its current value")
    session_id: str = Field(description="The session that set it")


class TraceSummary(WireOut):
    trace_id: str
    at: str
    request: str
    route_to: str
    model: str | None
    outcome: str | None


class SessionSummary(WireOut):
    session_id: str
    started_at: str
    summary: str | None


class RestoreResult(WireOut):
    brief: str = Field(
        description="The whole brief as compact markdown. Empty in a tool call's structured "
        "content: the brief is sent once, as the result's text block"
    )
    decisions: list[DecisionOut] = Field(description="Active decisions served as facts")
    stale: list[StaleOut] = Field(
        description="Memories whose cited code changed: not facts (listed when stale='list')"
    )
    stale_count: int = Field(description="All live memories whose cited code changed")
    state: dict[str, str]
    state_set: dict[str, StateSetOut] = Field(
        default_factory=dict,
        description="When each key of `state` got its value, and by which session: a value "
        "set weeks ago may no longer hold",
    )
    open_items: list[OpenItemOut]
    notes: list[NoteOut]
    sessions: list[SessionSummary]
    traces: list[TraceSummary]
    omitted: dict[str, int] = Field(description="Items left out to fit max_tokens, by section")
    kept_to: str | None = Field(
        None,
        description="The sub-folder (of the project, relative) this restore kept decisions "
        "to: those citing code in it or none, not those citing only code elsewhere. Open "
        "items, state, sessions, notes and routes are the whole project's. Absent: the whole "
        "workspace",
    )
    note: str | None = Field(
        None,
        description="Why less than max_tokens was served (what the calling client accepts of "
        "a result), and how to have what was left out",
    )
    answer: str | None = Field(
        None, description="With answer_of: the part of that route's answer asked for"
    )
    expired: int = Field(description="Memories that expired at this restore")
    tokens: int = Field(description="Estimated tokens of this whole result")
    truncated: bool
    session_id: str = Field(description="This server session (pass it to the result save tool)")
    redacted: int = Redacted

    @model_serializer(mode="wrap")
    def _without_empty_state_set(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out with no state to date: the smallest budget (300 tokens) has no token to
        # spare for it.
        out = handler(self)
        if isinstance(out, dict) and out.get("state_set") == {}:
            del out["state_set"]
        return out
