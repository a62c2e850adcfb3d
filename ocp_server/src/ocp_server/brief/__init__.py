"""What a session restore hands out, and how it is fitted into a token budget.

A brief is a compact markdown text and the same items as values. `Fitter` takes candidate
items section by section (active decisions, stale memories, open items, state, session
summaries, notes, notable routes), each costed as its line plus, when asked, its structured
form, and never goes over the budget: within a section it stops at the first item that does
not fit, so what is shown is always the best-ranked prefix. Lines are rendered only when an
item is considered, so a thousand candidates cost little. What was left out is counted per
section and said in the brief's last line.

Its parts: values.py (what a brief holds), text.py (one line, cut to a cap), items.py (a
candidate and its renderings, with the shorter forms the fitter may take), sections.py (the
sections, their headers and the brief's text, the left-out line last) and fitter.py (the
ranking and the fitting).
"""

from __future__ import annotations

from ocp_server.brief.fitter import Fitter, ranked
from ocp_server.brief.items import (
    CAP_CHANGE,
    CAP_DECISION,
    CAP_RATIONALE,
    CAP_REQUEST,
    CAP_STALE,
    CAP_STATE,
    CAP_TEXT,
    CAP_TITLE,
    SHRUNK_DECISION,
    Item,
    Rendered,
    render_decision,
    render_note,
    render_session,
    render_state,
    render_trace,
)
from ocp_server.brief.sections import SECTION_NAMES, max_tokens_said
from ocp_server.brief.text import ago, cap, one_line, when
from ocp_server.brief.values import (
    Brief,
    CitationState,
    CitationStatus,
    DecisionBrief,
    NoteBrief,
    SessionBrief,
    StaleBrief,
    StaleMode,
    StateBrief,
    TraceBrief,
    Verified,
)

__all__ = [
    "Brief",
    "CAP_CHANGE",
    "CAP_DECISION",
    "CAP_RATIONALE",
    "CAP_REQUEST",
    "CAP_STALE",
    "CAP_STATE",
    "CAP_TEXT",
    "CAP_TITLE",
    "CitationState",
    "CitationStatus",
    "DecisionBrief",
    "Fitter",
    "Item",
    "NoteBrief",
    "Rendered",
    "SECTION_NAMES",
    "SHRUNK_DECISION",
    "SessionBrief",
    "StaleBrief",
    "StaleMode",
    "StateBrief",
    "TraceBrief",
    "Verified",
    "ago",
    "cap",
    "max_tokens_said",
    "one_line",
    "ranked",
    "render_decision",
    "render_note",
    "render_session",
    "render_state",
    "render_trace",
    "when",
]
