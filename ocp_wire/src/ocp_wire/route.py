"""`ocp_model_route`: its arguments, the answer and the route's trace.

Route, Tier, Phase and Band are the router's (ocp_router.tiers): one definition of each."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ocp_router.tiers import EFFORTS, Band, Effort, Phase, Route, Tier
from ocp_wire.base import (
    MAX_PAYLOAD_CHARS,
    NOT_A_BOOLEAN,
    CallerId,
    ModelName,
    Redacted,
    WireBool,
    WireIn,
    WireOut,
    WorkspaceArg,
)

# The progress notices of a route waiting for its turn (OCP_ROUTE_CONCURRENCY), how they begin:
# the client times a route from its slot, not from its place in line.
SLOT_WAITING = "waiting for a route slot"
SLOT_TAKEN = "route slot taken"

#: The most a paid prompt may add (`max_context_tokens`, and OCP_CONTEXT_TOKENS standing in for it).
MAX_CONTEXT_TOKENS = 100_000


class RouteArgs(WireIn):
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
    model: ModelName | None = Field(None, description="Force one model by name.")
    effort: Effort | None = Field(
        None,
        description=f"How much the local model thinks before it answers: {', '.join(EFFORTS)} "
        "('none': not at all, quicker; default: the model's own). Sent to Ollama as `think`, "
        "to an OpenAI-compatible server as `reasoning_effort`; a paid call ignores it. The "
        "trace's notes say what each model was sent.",
    )
    session_id: CallerId | None = Field(
        None,
        description="Record the trace under this session id (and keep the session's paid "
        "calls on one model while its prompt cache is warm).",
    )
    max_context_tokens: Annotated[int, Field(ge=0, le=MAX_CONTEXT_TOKENS), NOT_A_BOOLEAN] | None = (
        Field(
            None,
            description="Budget for all a paid prompt adds to the request: workspace context, "
            "session brief and their headings (default OCP_CONTEXT_TOKENS; 0 sends the request "
            "alone).",
        )
    )
    dry_run: WireBool = Field(False, description="Decide and build the prompt, but call no model.")
    workspace: str | None = WorkspaceArg

    @model_validator(mode="after")
    def _request_or_messages(self) -> RouteArgs:
        if self.request is None and self.messages is None:
            raise ValueError("`request`: is required (a string), unless `messages` is given")
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


class AttemptOut(WireOut):
    tier: str
    backend: str
    model: str
    outcome: str = Field(
        description="ok, error, empty (a blank answer), skipped or cancelled (the caller gave up)"
    )
    duration_ms: float
    error: str | None
    error_type: str | None = Field(
        None, description="BackendTimeout, BackendRateLimited, BackendAuthError, …"
    )
    cost_usd: float | None = Field(
        0.0, description="What the provider bills for this attempt (None: unknown price)"
    )
    cost_estimated: bool = Field(
        False,
        description="cost_usd is an estimate: the call was cut short (cancelled, timed out) "
        "before the provider reported usage; input read plus output received",
    )


class Phase2Out(WireOut):
    tier: Tier
    reason: str
    duration_ms: float
    fallback: bool = Field(description="The classifier failed; phase 1's best guess stood")


class RouteTrace(WireOut):
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
    escalated: bool = Field(
        description="A higher tier (or you) answered after a lower one was reached and failed"
    )
    local_unavailable: bool = Field(
        False,
        description="Handed to a paid tier (or you) only because the local model could not be "
        "reached (not running, or its model not pulled): not an escalation",
    )
    fell_back: bool = Field(description="Another model than the one decided answered")
    complexity_score: float
    raw_score: float | None = Field(
        None, description="Phase 1's score unclamped, before calibration (what outcomes teach)"
    )
    local_model: str | None = Field(
        None,
        description="The local model (and its endpoint) the route was decided against: the "
        "calibration an outcome on it teaches",
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
    effort: Effort | None = Field(
        None, description="The thinking asked (`effort`); the notes say what was sent of it"
    )
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = Field(
        0,
        description="Of completion_tokens, a thinking model's reasoning (the server's count, "
        "else an estimate)",
    )
    duration_ms: float
    estimated_cost_usd: float | None = Field(
        description="Upper bound before the call: input plus a full max_tokens answer"
    )
    cost_usd: float | None = Field(
        description="All the route was billed: answer_cost_usd + failed_cost_usd (None: "
        "unknown price)"
    )
    answer_cost_usd: float | None = Field(
        description="What the answer cost (0 for a local answer; savings are measured on this)"
    )
    failed_cost_usd: float = Field(
        description="Paid attempts that produced no answer: empty answers, and calls cancelled "
        "or timed out (estimated)"
    )
    cost_estimated: bool = Field(
        description="Part of cost_usd is an estimate: a paid call was cut short (see attempts)"
    )
    counterfactual_usd: float | None = Field(description="The same tokens on the top model")
    attempts: list[AttemptOut]
    notes: list[str] = Field(description="Budget decisions and other remarks")
    context_citations: list[str] = Field(description="path:start-end of each context chunk")
    context_tokens: int = Field(
        description="What the paid prompt added to the request, as sent (max_context_tokens)"
    )
    redactions: dict[str, int] = Field(description="Secrets redacted before sending, by kind")


class RouteResult(WireOut):
    answer: str | None = Field(
        description="The model's answer (None when the agent answers). Sent once: here to a "
        "client that reads only structured content (Claude Code, Codex); to others as the "
        "text's last block, and empty here"
    )
    answered_by: Literal["local", "paid", "agent", "none"]
    prompt: str | None = Field(
        description="The enriched prompt, when the calling agent is to answer it itself or on "
        "a dry run. Sent once: here to a client that reads only structured content (Claude "
        "Code, Codex); to others as the text's last block, and empty here"
    )
    note: str
    trace: RouteTrace
    redacted: int = Redacted
