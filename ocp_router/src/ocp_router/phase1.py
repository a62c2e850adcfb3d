"""Phase 1: judge a whole agent payload in microseconds and put it in a band.

The task is judged from the user's latest turn (the TaskClassifier reads only the user's own
words), the conversation from its shape: how long it is, whether tools are in play, what kind
of system prompt drives it. Agent boilerplate is never read for keywords: a harness's system
prompt says "security" and "architecture" on every request.

Some signals force the paid route outright (the local model cannot take the request at all,
or the request is unmistakably hard); others favour local. What is left near the threshold is
AMBIGUOUS, for phase 2 to settle, with phase 1's best guess kept as the fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ocp_router._rules import EDIT_VERB as _EDIT_VERB
from ocp_router.calibration import Calibration
from ocp_router.classifier import ClassifyResult, Signal, TaskClassifier
from ocp_router.hints import ROUTER_ARGUMENTS, RouterNames
from ocp_router.payload import AgentPayload
from ocp_router.tiers import Band, Tier
from ocp_router.tokens import CHARS_PER_TOKEN
from ocp_router.words import counted

# Families (see _rules.py) that signal deep reasoning; two of them in one request force paid.
DEEP_FAMILIES = frozenset(
    {
        "security",
        "architecture",
        "migration",
        "concurrency",
        "performance",
        "production",
        "diagnosis",
        "distributed",
        "decision",
    }
)
# Families of simple, well-bounded tasks a small model does well.
SIMPLE_FAMILIES = frozenset(
    {"explain", "summarise", "search", "what_is", "definition", "one_line", "trivial_edit"}
)
MULTI_FILE_FAMILIES = frozenset({"multi_file", "bulk_files"})
# A paid request goes to the top model only when it is scored high AND is of a kind where the
# strongest model earns its price: design, security, distributed systems, data migrations.
TOP_FAMILIES = frozenset({"architecture", "security", "distributed", "migration"})
_EVERYWHERE = re.compile(r"\beverywhere\b|\bthroughout the (?:code|repo|project|app)")

SHORT_MESSAGE_CHARS = 3000
SHORT_SYSTEM_CHARS = 500
MANY_FILES = 5
MULTI_FILE_EDIT = 3  # an edit verb and this many files named is a multi-file change
# Each local-favouring signal narrows the ambiguous band on the local side by this much.
_FAVOUR_STEP = 0.03
# Conversation shape that is not decisive on its own adds this much per signal.
_SHAPE_STEP = 0.06
_FORCED_CONFIDENCE = 0.95

# Phrases by which agent harnesses announce themselves (matched lower-case in the first 4,000
# characters of the system prompt) and tool-protocol markers (matched anywhere).
_AGENT_INTRO = (
    "interactive cli tool",
    "agentic",
    "autonomous",
    "coding agent",
    "software engineering tasks",
    "you have access to tools",
    "you have access to a set of tools",
    "you have tools",
    "tool use",
    "use the tools",
    "call tools",
    "tool calls",
    "function calls",
    "pair programming",
    "you are claude code",
    "you are cline",
    "you are roo",
    "you are codex",
    "you are an ai coding assistant",
    "powered by",
)
_TOOL_MARKERS = (
    "<tool",
    "tool_use",
    "</function",
    "<function",
    "function_call",
    "<execute_command>",
    "<read_file>",
    "<write_to_file>",
    "<replace_in_file>",
    "SEARCH/REPLACE",
    "<<<<<<< SEARCH",
)


@lru_cache(maxsize=64)
def agentic_markers(system: str) -> tuple[str, ...]:
    """The agent-harness phrases in a system prompt (cached: harnesses resend the same one)."""
    if len(system) < 200:
        return ()
    head = system[:4000].lower()
    found = tuple(m for m in _AGENT_INTRO if m in head)
    found += tuple(m for m in _TOOL_MARKERS if m in system)
    # One intro phrase alone ("powered by", "autonomous") is weak; a real harness prompt is
    # long and names its tools or its protocol.
    return found if len(found) >= 2 else ()


# The local model's defaults, the settings' too (OCP_LOCAL_CONTEXT_CHAR_LIMIT, OCP_LOCAL_MAX_TURNS).
LOCAL_CONTEXT_CHARS = 30_000
LOCAL_MAX_TURNS = 15


@dataclass(frozen=True, slots=True)
class LocalProfile:
    """What the local model can take. `context_tokens` is its window when known."""

    context_chars: int = LOCAL_CONTEXT_CHARS
    context_tokens: int | None = None
    tools: bool = False
    max_turns: int = LOCAL_MAX_TURNS


@dataclass(frozen=True, slots=True)
class Assessment:
    """Phase 1's verdict on one payload."""

    band: Band
    confidence: float
    tier: Tier  # the best guess: what to do when nothing else decides
    score: float  # the user turn's complexity plus conversation shape
    classify: ClassifyResult  # the user's latest turn alone
    forced: tuple[str, ...]  # reasons that force paid
    signals: tuple[Signal, ...]  # conversation-level signals
    turns: int
    total_chars: int
    tools: int
    tool_traffic: int  # tool calls plus tool results in the conversation
    # The score before calibration and before clamping the user turn's part to [0, 1]: what
    # a saved outcome teaches the calibration.
    raw_score: float = 0.0

    def explain(self) -> str:
        why = "; ".join(self.forced) or ", ".join(str(s) for s in self.signals) or "no signals"
        return (
            f"{self.band} ({self.confidence:.2f}) → {self.tier}: score {self.score:.2f} vs "
            f"{self.classify.threshold:.2f}; {why}"
        )


def assess(
    payload: AgentPayload,
    classifier: TaskClassifier,
    *,
    local: LocalProfile | None = None,
    margin: float = 0.12,
    top_threshold: float = 0.8,
    calibration: Calibration | None = None,
    names: RouterNames = ROUTER_ARGUMENTS,
) -> Assessment:
    """`calibration`: the workspace's learned threshold shifts; a shift for the request's task
    type moves its score (shown as a signal, saying whether it changed the guess). `names`:
    what a forced reason calls the limit it broke (OCPRouter passes its own)."""
    local = local or LocalProfile()
    classify = classifier.classify(payload.user_turn)
    fams = classify.families
    forced: list[str] = []
    signals: list[Signal] = []
    chars = payload.total_chars
    tool_traffic = payload.tool_calls + payload.tool_results
    system = payload.system

    if payload.tools and not local.tools:
        offered = counted(len(payload.tools), "tool", "tools")
        forced.append(f"{offered} offered and the local model has no tool support")
    if tool_traffic and not local.tools:
        calls = counted(tool_traffic, "tool call or result", "tool calls and results")
        forced.append(f"agent loop: {calls} in the conversation")
    if chars > local.context_chars:
        forced.append(f"context {chars:,} chars > {names.context_chars}")
    elif local.context_tokens and chars // CHARS_PER_TOKEN > local.context_tokens:
        tokens = chars // CHARS_PER_TOKEN
        forced.append(f"about {tokens:,} tokens > the local model's {local.context_tokens:,}")
    if payload.turns > local.max_turns:
        forced.append(f"{payload.turns} turns > {local.max_turns}")
    markers = agentic_markers(system) if system else ()
    if markers and not local.tools:
        forced.append("agentic system prompt (" + ", ".join(markers[:3]) + ")")
    deep = [f for f in fams if f in DEEP_FAMILIES]
    if len(deep) >= 2:
        forced.append("deep reasoning: " + ", ".join(deep))
    if classify.file_refs > MANY_FILES:
        forced.append(f"{classify.file_refs} files named")
    if any(f in MULTI_FILE_FAMILIES for f in fams):
        forced.append("multi-file change")
    else:
        turn = payload.user_turn.lower()
        if classify.file_refs >= MULTI_FILE_EDIT and _EDIT_VERB.search(turn):
            forced.append(f"multi-file change: an edit across {classify.file_refs} files")
        elif _EVERYWHERE.search(turn) and _EDIT_VERB.search(turn):
            forced.append("multi-file change: an edit everywhere")

    # Conversation shape that leans paid without deciding on its own.
    if markers and local.tools:
        signals.append(Signal("agentic system prompt", _SHAPE_STEP))
    if tool_traffic and local.tools:
        signals.append(
            Signal(
                "tool traffic",
                _SHAPE_STEP,
                counted(tool_traffic, "call or result", "calls and results"),
            )
        )
    if 6 <= payload.turns <= local.max_turns:
        signals.append(Signal("long conversation", _SHAPE_STEP, f"{payload.turns} turns"))
    if local.context_chars // 2 < chars <= local.context_chars:
        signals.append(Signal("large context", _SHAPE_STEP, f"{chars:,} chars"))
    shape = sum(s.weight for s in signals)
    score = classify.complexity_score + shape
    raw_score = classify.raw_score + shape
    shift = calibration.shift(classify.task_type.value) if calibration is not None else 0.0
    if shift:
        # Calibration is learned on the unclamped score: a request scored far below the
        # threshold stays far below it.
        calibrated = raw_score - shift
        threshold = classify.threshold
        changed = not forced and (calibrated >= threshold) != (score >= threshold)
        n = calibration.outcomes(classify.task_type.value) if calibration is not None else 0
        detail = f"{classify.task_type}: threshold {threshold + shift:.2f} from {n} outcomes"
        if changed:
            detail += "; turned " + ("local into paid" if shift < 0 else "paid into local")
        signals.append(Signal("calibration", round(-shift, 4), detail))
        score = calibrated

    # Signals that favour local widen its side of the band (they never raise the score).
    favour: list[Signal] = []
    if payload.turns == 1 and chars < SHORT_MESSAGE_CHARS:
        favour.append(Signal("one short message", 0.0))
    if any(f in SIMPLE_FAMILIES for f in fams) and not deep:
        favour.append(Signal("simple task pattern", 0.0))
    if len(system) < SHORT_SYSTEM_CHARS:
        favour.append(Signal("short or no system prompt", 0.0))
    if classify.file_refs == 1 and len(payload.user_turn) < SHORT_MESSAGE_CHARS and not deep:
        favour.append(Signal("single-file small edit", 0.0))
    signals.extend(favour)

    threshold = classify.threshold
    span = max(threshold, 1.0 - threshold) or 1.0
    paid_guess = score >= threshold
    top_kind = any(f in TOP_FAMILIES for f in fams)
    tier = _paid_tier(score, top_threshold, top_kind) if paid_guess else Tier.LOCAL
    if forced:
        band = Band.PAID
        tier = _paid_tier(score, top_threshold, top_kind)
        confidence = _FORCED_CONFIDENCE
    else:
        local_margin = max(0.0, margin - _FAVOUR_STEP * len(favour))
        if score >= threshold + margin:
            band = Band.PAID
        elif score < threshold - local_margin:
            band = Band.LOCAL
        else:
            band = Band.AMBIGUOUS
        confidence = round(min(1.0, abs(score - threshold) / span), 4)
    return Assessment(
        band,
        confidence,
        tier,
        round(score, 4),
        classify,
        tuple(forced),
        tuple(signals),
        payload.turns,
        chars,
        len(payload.tools),
        tool_traffic,
        round(raw_score, 4),
    )


def _paid_tier(score: float, top_threshold: float, top_kind: bool) -> Tier:
    return Tier.TOP if score >= top_threshold and top_kind else Tier.MID
