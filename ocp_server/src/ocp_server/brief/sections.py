"""A brief's sections, in order, with their headers, and its text: the title, each section's
lines under its header, and last the line saying what was left out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from ocp_router.words import counted
from ocp_server.brief.items import Item
from ocp_server.brief.values import StaleMode

__all__ = [
    "EMPTY",
    "HEADERS",
    "SECTION_NAMES",
    "TITLE",
    "as_prompt_notes",
    "brief_text",
    "empty_brief",
    "kept_to",
    "left_out_line",
    "max_tokens_said",
]

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
HEADERS: Final = dict(_SECTIONS)
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
# The same sections inside an enriched prompt's "## Session notes": one level down, without
# what tells restore's reader to supersede or forget (the prompt's reader answers a request).
_PROMPT_HEADERS: Final = {
    HEADERS["decisions"]: "### Active decisions",
    HEADERS["stale"]: "### Stale: the code they cite changed (not facts; check before use)",
    HEADERS["open_items"]: "### Open items",
    HEADERS["state"]: "### State",
    HEADERS["sessions"]: "### Earlier sessions",
    HEADERS["notes"]: "### Notes",
    HEADERS["traces"]: "### Notable routes",
}
EMPTY: Final = "Nothing saved by earlier sessions yet."


def left_out_line(
    omitted: Mapping[str, int],
    capped: frozenset[str],
    budget: str,
    stale: int,
    stale_mode: StaleMode,
    expired: int,
    compact: bool = False,
) -> str:
    """What the brief left out, in one line (empty when nothing was); `budget`: what it was
    left out to fit, in the caller's terms (`max_tokens_said`); `compact`: a total instead of
    each section's count (`omitted` still has them)."""
    parts = [_counted(n, *_NOUNS[s], at_least=s in capped) for s, n in omitted.items()]
    if compact and parts:
        more = any(s in capped for s in omitted)
        sections = _counted(len(parts), "section", "sections")
        parts = [f"{_counted(sum(omitted.values()), 'item', 'items', at_least=more)} of {sections}"]
    notes = []
    if parts:
        notes.append(f"left out to fit {budget}: {', '.join(parts)}")
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


def max_tokens_said(max_tokens: int) -> str:
    """restore's budget as its left-out line says it: `max_tokens=2,000`."""
    return f"max_tokens={max_tokens:,}"


def _counted(n: int, one: str, many: str, *, at_least: bool = False) -> str:
    """`n` things in words: "1 state key", "2 state keys", "1+ state keys" (at least one)."""
    return f"{n:,}+ {many}" if at_least else counted(n, one, many)


def kept_to(scope: str | None) -> str:
    """The line under the title of a restore kept to the sub-folder `scope` (queries.IN_SCOPE):
    only decisions are kept to it, the rest is the project's. Empty for the whole workspace."""
    if scope is None:
        return ""
    return (
        f"Restored for {scope}/: the decisions citing code in it or none (decisions citing "
        f"only code outside {scope}/ are left out); open items, state, earlier sessions, notes "
        "and routes are the whole project's."
    )


def empty_brief(scope: str | None) -> str:
    """The text of a brief with nothing to serve (in `scope`, a sub-folder, when given)."""
    if scope is None:
        return EMPTY
    return (
        f"Nothing saved for {scope}/ by earlier sessions yet: decisions citing only code "
        f"outside {scope}/ are left out (a restore at the project's root serves them)."
    )


def brief_text(chosen: Sequence[Item], footer: str, head: str = "") -> str:
    """The brief: its title (and `head`, the line under it), each section's lines under its
    header, and `footer`, what was left out."""
    if not chosen and not footer:
        return ""
    lines = [TITLE, head] if head else [TITLE]
    for section, header in _SECTIONS:
        items = [i for i in chosen if i.section == section]
        if items:
            lines += ["", header]
            lines += [i.made()[1] for i in items]
    if footer:
        lines += ["", footer]
    return "\n".join(lines)


def as_prompt_notes(text: str) -> str:
    """A brief's text as the body of an enriched prompt's session notes: without its title,
    each section's header one level down and without restore's instructions. Only a whole
    line after a blank one is a header (brief_text's layout): an item's line is kept as is."""
    lines = text.strip().split("\n")
    if lines and lines[0] == TITLE:
        lines = lines[1:]
    out = [
        _PROMPT_HEADERS.get(line, line) if at == 0 or not lines[at - 1] else line
        for at, line in enumerate(lines)
    ]
    return "\n".join(out).strip()
