"""The enriched prompt a paid model receives: workspace context with citations, the session
brief, then the request unchanged. Local models get the raw request only (seed 000)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ocp_router.tokens import estimate_tokens
from ocp_server.brief import Brief
from ocp_server.index.models import SearchResult

PREAMBLE = (
    "You are answering a developer's request about their codebase. The workspace context and "
    "session notes below were retrieved for this request; rely on them where relevant and cite "
    "code as path:start-end."
)

NOTES_HEADER = "## Session notes (from earlier sessions)\n"


@dataclass(frozen=True, slots=True)
class EnrichedPrompt:
    text: str
    citations: tuple[str, ...]
    context_tokens: int
    brief_tokens: int
    # secrets the hits' files name, or their lines cut off, that recur in what the hits show
    # (SearchResult.known): the paid prompt's redaction hides them too
    known: dict[str, str] = field(default_factory=dict)


# Characters that would end a header line or hide text: C0/C1 controls and Unicode line breaks.
_BREAKS_RE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """`text` made safe for a header line: a file name with a newline in it cannot start a
    section of its own. Line breaks and other control characters become visible escapes
    (\\n, \\x1b, \\u2028), and so does a backslash, so the escape reads back unambiguously."""
    if text.isprintable() and "\\" not in text:
        return text  # what the pattern matches is a backslash or unprintable: nothing to escape
    return _BREAKS_RE.sub(lambda m: _ESCAPES.get(m[0]) or _escape(m[0]), text)


def _escape(c: str) -> str:
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return fence


def brief_share(budget: int) -> int:
    """The tokens of a paid prompt's context budget the session brief may take: a quarter
    (no floor: the two shares add up to the budget, which the README promises)."""
    return budget // 4


def context_share(budget: int) -> int:
    """The tokens of a paid prompt's context budget the workspace code may take: the rest,
    as `code_tokens` counts it (each block whole, header and fences too)."""
    return budget - brief_share(budget)


async def sent_texts(
    texts: Sequence[str], clean: Sequence[bool] = (), known: Mapping[str, str] | None = None
) -> list[str]:
    """`texts` as a paid model is sent them: redacted, each with the secrets the others (and
    `known`) hold, as the paid boundary redacts the prompt (a marker can be longer than the
    value it hides). `clean`: as `redact_all`'s. In a worker thread once they are a few
    pages."""
    # Here, not at the top: render.py imports this module before `initialize`, and the
    # boundary brings the backends (tests/server/test_start_imports.py).
    from ocp_router.boundary import THREAD_CHARS, redact_all

    if sum(map(len, texts)) >= THREAD_CHARS:
        results = await asyncio.to_thread(redact_all, texts, clean, known)
    else:
        results = redact_all(texts, clean, known)
    return [r.text for r in results]


def _header(hit: SearchResult) -> str:
    label = f"{hit.kind} {hit.symbol}" if hit.symbol else hit.kind
    return f"### {one_line(hit.citation)} ({one_line(label)})"


def _block(header: str, hit: SearchResult, text: str) -> str:
    """One hit's block: its header, then `text` (the hit's, or it redacted) in a fence the
    hit's text does not hold."""
    fence = _fence(hit.text)
    return f"{header}\n{fence}{one_line(hit.language or '')}\n{text}\n{fence}"


async def code_tokens(hits: Sequence[SearchResult]) -> int:
    """The tokens of the hits' blocks as sent (headers and fences included, texts redacted
    with the secrets their files hold): what the code's share and the trace count."""
    if not hits:
        return 0
    known = {v: kind for hit in hits for v, kind in hit.known}
    # The headers (a path can hold a token) are redacted, as one text: a redaction per
    # header took 0.2-0.5 ms each. They hold no line break (one_line), nor does a marker.
    headers, *texts = await sent_texts(
        ["\n".join(_header(h) for h in hits), *(h.text for h in hits)],
        [False, *(h.clean for h in hits)],
        known,
    )
    shown = headers.split("\n")
    if len(shown) != len(hits):  # a redaction spanned two headers: each on its own
        shown = await sent_texts([_header(h) for h in hits], (), known)
    return sum(
        estimate_tokens(_block(header, hit, text))
        for header, hit, text in zip(shown, hits, texts, strict=True)
    )


def brief_section(brief: Brief) -> str | None:
    """The prompt's session notes section, or None when the brief remembers nothing."""
    remembered = (
        brief.decisions
        or brief.open_items
        or brief.state
        or brief.sessions
        or brief.notes
        or brief.traces
    )
    if not remembered or not brief.text.strip():
        return None
    return NOTES_HEADER + brief.text.strip()


async def brief_tokens(brief: Brief) -> int:
    """The tokens of the brief's section as sent, its header included: its rows are stored
    redacted, but one stored before the rule that finds its secret is redacted on the way
    out."""
    section = brief_section(brief)
    return estimate_tokens((await sent_texts([section]))[0]) if section else 0


def build_prompt(
    request: str,
    hits: Sequence[SearchResult],
    brief: str | None,
    *,
    context_tokens: int = 0,
    brief_tokens: int = 0,
) -> EnrichedPrompt:
    """The prompt around `request`; `context_tokens` and `brief_tokens` are the code's and
    the brief's counts as sent (`code_tokens`, `brief_tokens`), for the trace."""
    parts = [PREAMBLE]
    if hits:
        parts.append("## Workspace context")
        parts.extend(_block(_header(hit), hit, hit.text) for hit in hits)
    if brief and brief.strip():
        parts.append(NOTES_HEADER + brief.strip())
    parts.append("## Request\n" + request)
    known = {v: kind for hit in hits for v, kind in hit.known}
    citations = tuple(hit.citation for hit in hits)
    return EnrichedPrompt("\n\n".join(parts), citations, context_tokens, brief_tokens, known)
