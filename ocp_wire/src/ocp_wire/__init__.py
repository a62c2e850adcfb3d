"""The wire models of OCP's four MCP tools: one definition, used by the server to validate
arguments and shape results, and by ocp_client to build arguments and parse results.

They live in a distribution of their own (ocp-wire, pure data: pydantic and the router's
vocabulary in `ocp_router.tiers`) so that `ocp-client` installs without the server, its index
and its tree-sitter grammars.

Inputs are flat (each field is a top-level tool argument). Every output is complete and
readable on its own, because some clients (Claude Code) show the model only the structured
content, never the text rendering. Every text in an output has its secrets replaced by
``[REDACTED:<kind>]`` markers, and `redacted` says how many values were hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import version
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ocp_router.tiers import Band, Phase, Route, Tier

__version__ = version("ocp-wire")
__all__ = [
    "AttemptOut",
    "BuildState",
    "CitationArg",
    "CitationOut",
    "DbId",
    "DecisionArg",
    "DecisionOut",
    "FileHits",
    "IndexReport",
    "IndexState",
    "Item",
    "MAX_DB_ID",
    "MAX_ITEM_CHARS",
    "MAX_PAYLOAD_CHARS",
    "MAX_STATE_KEYS",
    "MAX_STATE_KEY_CHARS",
    "MAX_STATE_VALUE_CHARS",
    "MAX_WORKSPACE_CHARS",
    "MergeOut",
    "NoteArg",
    "NoteOut",
    "OpenItemOut",
    "Phase2Out",
    "RESTORE",
    "ROUTE",
    "RestoreArgs",
    "RestoreResult",
    "RouteArgs",
    "RouteResult",
    "RouteTrace",
    "SAVE",
    "SEARCH",
    "STATUS_URI",
    "SaveArgs",
    "SaveResult",
    "SavedCitationOut",
    "SearchArgs",
    "SearchHit",
    "SearchResult",
    "SessionSummary",
    "StaleOut",
    "StateKey",
    "StateValue",
    "SuggestionOut",
    "TOOL_SHAPES",
    "ToolShape",
    "TraceSummary",
    "Verified",
    "WatcherState",
    "__version__",
    "payload_chars",
]

# Every input is bounded (count and size); the README's "Input limits" table lists them and a
# test keeps the two in step. Beyond a limit the call is a tool error naming the field.
MAX_WORKSPACE_CHARS = 4_096
MAX_PAYLOAD_CHARS = 2_000_000  # messages + system + tools of one route, serialised
MAX_STATE_KEYS = 200
MAX_STATE_KEY_CHARS = 200
MAX_STATE_VALUE_CHARS = 10_000
MAX_ITEM_CHARS = 5_000  # one note or open item
MAX_DB_ID = 2**63 - 1  # SQLite's largest integer

Redacted = Field(
    0,
    ge=0,
    description="How many secret values in this result were replaced by [REDACTED:<kind>] "
    "markers (what an agent receives goes to its cloud model)",
)
WorkspaceArg = Field(
    None,
    max_length=MAX_WORKSPACE_CHARS,
    description="Absolute path of the workspace folder. Defaults to OCP_WORKSPACE, "
    "CLAUDE_PROJECT_DIR, the client's roots, or the server's working directory.",
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- ocp_context_search --------------------------------------------------------------
class SearchArgs(_In):
    query: str = Field(
        min_length=1,
        max_length=20_000,
        description="What to look for: identifiers (verify_token, verifyToken), file names "
        "or a plain-language question.",
    )
    k: int = Field(8, ge=1, le=50, description="How many results at most.")
    path_glob: str | None = Field(
        None, max_length=500, description="Only paths matching this glob, e.g. 'src/**/*.py'."
    )
    language: str | None = Field(
        None, max_length=40, description="Only this language: python, typescript, go, …"
    )
    max_tokens: int | None = Field(
        None,
        ge=100,
        le=50_000,
        description="Token budget for all result texts together (default: OCP_SEARCH_TOKENS).",
    )
    group_by: Literal["chunk", "file"] = Field(
        "chunk",
        description="'chunk' (default): the best chunks, the best one of each file first. "
        "'file': the best k files, each with its best chunks (results come in `files`).",
    )
    workspace: str | None = WorkspaceArg


class SearchHit(_Out):
    citation: str = Field(description="path:start-end")
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    scope: str | None
    language: str | None
    score: float
    matched_terms: list[str]
    truncated: bool
    text: str
    redactions: int = Field(0, ge=0, description="Secret values hidden in `text`")


class IndexState(_Out):
    workspace: str
    files: int
    chunks: int
    last_update: str | None = Field(description="ISO time of the last completed update")
    building: bool = Field(description="The first index is still being built")
    stale: bool
    indexer: bool = Field(description="This server process indexes and watches the workspace")
    watcher: str = Field(
        "off",
        description="This process's file watcher: watching, standby (another process "
        "indexes), retrying (after a failure, with backoff), starting, stopped or off",
    )
    watcher_error: str | None = Field(None, description="The last failure, while retrying")


class FileHits(_Out):
    path: str
    language: str | None
    score: float = Field(description="The file's rank score; the files come best first")
    hits: list[SearchHit] = Field(description="Its best chunks, best first")


class SearchResult(_Out):
    query: str
    results: list[SearchHit] = Field(description="With group_by 'chunk'; empty with 'file'")
    files: list[FileHits] | None = Field(None, description="With group_by 'file' only")
    index: IndexState
    note: str | None = None
    redacted: int = Redacted


# ---- ocp_session_restore -------------------------------------------------------------
class RestoreArgs(_In):
    query: str | None = Field(
        None, max_length=5_000, description="Put what relates to this first (optional)."
    )
    max_tokens: int = Field(
        2000,
        ge=100,
        le=20_000,
        description="Token budget of the whole result (brief and structured items together); "
        "never exceeded.",
    )
    stale: Literal["list", "count"] = Field(
        "list",
        description="Memories whose cited code changed: 'list' them apart with what changed "
        "(within the budget), or only 'count' them.",
    )
    workspace: str | None = WorkspaceArg


Verified = Literal["valid", "moved", "uncited"]


class CitationOut(_Out):
    citation: str = Field(description="path:start-end where the cited code is now")
    symbol: str | None
    status: Literal["valid", "moved", "stale"]
    moved_from: str | None = Field(None, description="moved: where it was")
    change: str | None = Field(None, description="stale: what changed, in short")


class DecisionOut(_Out):
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


class NoteOut(_Out):
    id: int
    text: str
    noted_at: str
    verified: Verified
    citations: list[CitationOut]


class OpenItemOut(_Out):
    id: int
    text: str


class StaleOut(_Out):
    kind: Literal["decision", "note"]
    id: int
    title: str | None
    text: str
    citations: list[CitationOut] = Field(description="stale ones say what changed")


class TraceSummary(_Out):
    trace_id: str
    at: str
    request: str
    route_to: str
    model: str | None
    outcome: str | None


class SessionSummary(_Out):
    session_id: str
    started_at: str
    summary: str | None


class RestoreResult(_Out):
    brief: str = Field(description="The whole brief as compact markdown")
    decisions: list[DecisionOut] = Field(description="Active decisions served as facts")
    stale: list[StaleOut] = Field(
        description="Memories whose cited code changed: not facts (listed when stale='list')"
    )
    stale_count: int = Field(description="All live memories whose cited code changed")
    state: dict[str, str]
    open_items: list[OpenItemOut]
    notes: list[NoteOut]
    sessions: list[SessionSummary]
    traces: list[TraceSummary]
    omitted: dict[str, int] = Field(description="Items left out to fit max_tokens, by section")
    expired: int = Field(description="Memories that expired at this restore")
    tokens: int = Field(description="Estimated tokens of this whole result")
    truncated: bool
    session_id: str = Field(description="This server session (pass it to ocp_result_save)")
    redacted: int = Redacted


# ---- ocp_model_route -----------------------------------------------------------------
# Route, Tier, Phase and Band are the router's (ocp_router.tiers): one definition of each.


class RouteArgs(_In):
    request: str | None = Field(
        None,
        min_length=1,
        max_length=400_000,
        description="The request to answer, as the user asked it (paste code or logs as is). "
        "Optional when `messages` is given.",
    )
    messages: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        max_length=5_000,
        description="A whole conversation instead of `request`: OpenAI or Anthropic message "
        "objects (role + content; content blocks, tool calls and tool results allowed). The "
        "latest user turn is the request.",
    )
    system: str | None = Field(
        None, max_length=400_000, description="The system prompt the conversation runs under."
    )
    tools: list[dict[str, Any]] | None = Field(
        None, max_length=1_000, description="The tool definitions offered to the model."
    )
    force: Literal["local", "mid", "top", "paid"] | None = Field(
        None, description="Force the tier: local, mid, top ('paid' means mid)."
    )
    model: str | None = Field(
        None, min_length=1, max_length=200, description="Force one model by name."
    )
    session_id: str | None = Field(
        None,
        max_length=200,
        description="Record the trace under this session id (and keep the session's paid "
        "calls on one model while its prompt cache is warm).",
    )
    max_context_tokens: int | None = Field(
        None,
        ge=0,
        le=100_000,
        description="Budget for workspace context and session brief in a paid prompt "
        "(default OCP_CONTEXT_TOKENS; 0 sends the request alone).",
    )
    dry_run: bool = Field(False, description="Decide and build the prompt, but call no model.")
    workspace: str | None = WorkspaceArg

    @model_validator(mode="after")
    def _request_or_messages(self) -> RouteArgs:
        if self.request is None and self.messages is None:
            raise ValueError("`request`: required (a string), unless `messages` is given")
        if self.request is not None and self.messages is not None:
            raise ValueError("`request` and `messages`: give one, not both")
        if self.messages is not None or self.tools is not None:
            size = payload_chars(self.messages, self.system, self.tools)
            if size > MAX_PAYLOAD_CHARS:
                raise ValueError(
                    f"`messages`: the conversation is {size:,} characters with its system "
                    f"prompt and tools; at most {MAX_PAYLOAD_CHARS:,}"
                )
        return self


def payload_chars(
    messages: list[dict[str, Any]] | None, system: str | None, tools: list[dict[str, Any]] | None
) -> int:
    """Characters of a route's payload as JSON (json.dumps runs in C)."""
    size = len(system or "")
    for part in (messages, tools):
        if part is not None:
            size += len(json.dumps(part, ensure_ascii=False, default=str))
    return size


class AttemptOut(_Out):
    tier: str
    backend: str
    model: str
    outcome: str = Field(description="ok, error, empty (a blank answer) or skipped")
    duration_ms: float
    error: str | None
    error_type: str | None = Field(
        None, description="BackendTimeout, BackendRateLimited, BackendAuthError, …"
    )


class Phase2Out(_Out):
    tier: Tier
    reason: str
    duration_ms: float
    fallback: bool = Field(description="The classifier failed; phase 1's best guess stood")


class RouteTrace(_Out):
    trace_id: str
    decision: Route = Field(description="The side chosen first: local or paid")
    tier: Tier = Field(description="The tier chosen first")
    answered_tier: Tier | None = Field(description="The tier that answered (None: nobody)")
    decided_by: str = Field(description="Why, in one line")
    phase: Phase
    forced: bool
    band: Band = Field(description="Phase 1's band")
    band_confidence: float
    reasons: list[str] = Field(description="What forced paid, and the conversation's signals")
    phase2: Phase2Out | None
    pin_state: str = Field(description="Sticky-session state: none, fresh, hard, soft, ...")
    route_to: Route | Literal["agent", "none"] = Field(
        description="Who answered: local, paid, agent (no paid backend: the calling agent "
        "answers the prompt itself) or none (dry run, or nothing could answer)"
    )
    escalated: bool = Field(description="A higher tier answered after a lower one failed")
    fell_back: bool = Field(description="Another model than the one decided answered")
    complexity_score: float
    raw_score: float | None = Field(
        None, description="Phase 1's score unclamped, before calibration (what outcomes teach)"
    )
    session: str | None = Field(None, description="The conversation key (sticky tiers, pins)")
    threshold: float
    confidence: float
    task_type: str
    signals: list[str]
    turns: int
    context_chars: int
    model: str | None
    backend: str | None
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    estimated_cost_usd: float | None = Field(
        description="Upper bound before the call: input plus a full max_tokens answer"
    )
    cost_usd: float | None = Field(description="From the real usage (None: unknown price)")
    counterfactual_usd: float | None = Field(description="The same tokens on the top model")
    attempts: list[AttemptOut]
    notes: list[str] = Field(description="Budget decisions and other remarks")
    context_citations: list[str] = Field(description="path:start-end of each context chunk")
    context_tokens: int
    redactions: dict[str, int] = Field(description="Secrets redacted before sending, by kind")


class RouteResult(_Out):
    answer: str | None = Field(description="The model's answer (None when the agent answers)")
    answered_by: Literal["local", "paid", "agent", "none"]
    prompt: str | None = Field(
        description="The enriched prompt, when the calling agent is to answer it itself or on "
        "a dry run"
    )
    note: str
    trace: RouteTrace
    redacted: int = Redacted


# ---- ocp_result_save -----------------------------------------------------------------
Citations: Any = Field(
    default_factory=list,
    max_length=20,
    description="The code this is about: path:start-end (as ocp_context_search cites it), "
    "path:symbol, or a symbol name (verify_token, SessionStore.rotate_session). Checked at "
    "every restore: served as fact only while that code is unchanged or moved.",
)
CitationArg = Annotated[str, StringConstraints(min_length=1, max_length=500)]
StateKey = Annotated[str, Field(min_length=1, max_length=MAX_STATE_KEY_CHARS)]
StateValue = Annotated[str, Field(max_length=MAX_STATE_VALUE_CHARS)]
Item = Annotated[str, Field(max_length=MAX_ITEM_CHARS)]
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]


class DecisionArg(_In):
    title: str = Field(min_length=1, max_length=300, description="Short name of the decision")
    decision: str = Field(min_length=1, max_length=5_000, description="What was decided")
    rationale: str | None = Field(None, max_length=5_000, description="Why")
    supersedes: int | None = Field(
        None, ge=1, le=MAX_DB_ID, description="Id of an earlier decision this one replaces"
    )
    citations: list[CitationArg] = Citations


class NoteArg(_In):
    text: str = Field(min_length=1, max_length=5_000)
    citations: list[CitationArg] = Citations


class SaveArgs(_In):
    trace_id: str | None = Field(None, max_length=64, description="Link to a route trace")
    outcome: str | None = Field(
        None,
        max_length=5_000,
        description="How the routed answer worked out. Start with good, bad (or wrong), "
        "escalated (you re-asked a higher tier) or overkill (a local model would have done) "
        "and routing learns from it for this workspace",
    )
    summary: str | None = Field(None, max_length=20_000, description="What this session did")
    decisions: list[DecisionArg] = Field(default_factory=list, max_length=50)
    state: dict[StateKey, StateValue] = Field(
        default_factory=dict,
        max_length=MAX_STATE_KEYS,
        description="Key/value state for the next session",
    )
    notes: list[Item | NoteArg] = Field(
        default_factory=list,
        max_length=100,
        description="Notes: plain strings, or {text, citations} to tie one to code",
    )
    open_items: list[Item] = Field(default_factory=list, max_length=100)
    resolve: list[DbId] = Field(
        default_factory=list, max_length=100, description="Ids of open items that are done"
    )
    forget_decisions: list[DbId] = Field(
        default_factory=list,
        max_length=100,
        description="Ids of decisions to forget: never served again, their text erased",
    )
    forget_notes: list[DbId] = Field(
        default_factory=list,
        max_length=100,
        description="Ids of notes or open items to forget (their text erased)",
    )
    session_id: str | None = Field(None, max_length=200)
    workspace: str | None = WorkspaceArg


class SavedCitationOut(_Out):
    item: str = Field(description="Which saved item: decisions[0], notes[1]")
    citation: str = Field(description="path:start-end as resolved")
    symbol: str | None


class SuggestionOut(_Out):
    item: str
    citation: str
    symbol: str
    kind: str


class MergeOut(_Out):
    item: str
    into: int = Field(description="Id of the live memory it merged into")
    alike: float


class SaveResult(_Out):
    session_id: str
    saved: dict[str, int]
    decision_ids: list[int] = Field(
        description="One per decision given, in order (merged ones: the id they merged into)"
    )
    note_ids: list[int]
    open_item_ids: list[int]
    citations: list[SavedCitationOut] = Field(description="Citations as resolved and stored")
    suggested: list[SuggestionOut] = Field(
        description="Citations the texts seem to want (identifiers the index defines once): "
        "not added; save again with them to tie the memory to that code"
    )
    merged: list[MergeOut] = Field(description="Items merged into near-identical live ones")
    forgotten: list[str]
    warnings: list[str]


# ---- the tools: one table for the server (which advertises them) and the client ----------
ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ToolShape(Generic[ArgsT, ResultT]):
    """A tool's names and models. `verb` is dotted (the tool's title, and its name with
    OCP_TOOL_NAMES=dotted); `name` is the underscore form most clients need; `method` is the
    verb's last word, the name of the tool's method on `ocp_client.OCPClient`."""

    verb: str
    args: type[ArgsT]
    result: type[ResultT]

    @property
    def name(self) -> str:
        return self.verb.replace(".", "_")

    @property
    def method(self) -> str:
        return self.verb.rsplit(".", 1)[-1]


SEARCH = ToolShape("ocp.context.search", SearchArgs, SearchResult)
RESTORE = ToolShape("ocp.session.restore", RestoreArgs, RestoreResult)
ROUTE = ToolShape("ocp.model.route", RouteArgs, RouteResult)
SAVE = ToolShape("ocp.result.save", SaveArgs, SaveResult)
TOOL_SHAPES: tuple[ToolShape[Any, Any], ...] = (SEARCH, RESTORE, ROUTE, SAVE)


# ---- the index's status: the ocp://index/status resource and `ocp-server status` -------
STATUS_URI = "ocp://index/status"


class BuildState(_Out):
    state: Literal["idle", "building", "interrupted"] = Field(
        description="building: an update of many files is running; interrupted: one stopped "
        "part way (the next update completes it)"
    )
    done: int = Field(description="Files done by the running (or interrupted) update")
    total: int = Field(description="Files that update has to do")
    started_at: str | None = None


class WatcherState(_Out):
    state: Literal["this_process", "other_process", "none"] = Field(
        description="Which process keeps the index fresh as files change (holds the lease)"
    )
    pid: int | None = None
    detail: str


class IndexReport(_Out):
    workspace: str
    database: str
    db_bytes: int
    files: int = Field(description="Files in the index")
    chunks: int
    skipped: dict[str, int] = Field(description="Files not indexed, by reason")
    last_update: str | None = Field(description="ISO time of the last completed update")
    stale: bool = Field(description="Never completed, or git HEAD moved since")
    git_head: str | None
    build: BuildState
    watcher: WatcherState
