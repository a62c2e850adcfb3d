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
    """The tokens of a paid prompt's context budget the session brief may take."""
    return max(budget // 4, 100)


def context_share(budget: int) -> int:
    """The tokens of a paid prompt's context budget the workspace code may take (what the
    code shown measures, redacted; its headers and fences are not counted)."""
    return max(budget - brief_share(budget), 100)


async def sent_tokens(
    texts: Sequence[str], clean: Sequence[bool] = (), known: Mapping[str, str] | None = None
) -> int:
    """The tokens of `texts` as a paid model is sent them: redacted, each with the secrets
    the others (and `known`) hold, as the paid boundary redacts the prompt (a marker can be
    longer than the value it hides). `clean`: as `redact_all`'s. In a worker thread once
    they are a few pages."""
    # Here, not at the top: render.py imports this module before `initialize`, and the
    # boundary brings the backends (tests/server/test_start_imports.py).
    from ocp_router.boundary import THREAD_CHARS, redact_all

    if sum(map(len, texts)) >= THREAD_CHARS:
        results = await asyncio.to_thread(redact_all, texts, clean, known)
    else:
        results = redact_all(texts, clean, known)
    return sum(estimate_tokens(r.text) for r in results)


async def shown_tokens(hits: Sequence[SearchResult]) -> int:
    """The tokens of the hits' texts as sent, with the secrets their files hold."""
    known = {v: kind for hit in hits for v, kind in hit.known}
    return await sent_tokens([h.text for h in hits], [h.clean for h in hits], known)


async def brief_tokens(brief: Brief) -> int:
    """The tokens of the brief's text as sent: its rows are stored redacted, but one stored
    before the rule that finds its secret is redacted on the way out."""
    return await sent_tokens([brief.text])


def build_prompt(request: str, hits: Sequence[SearchResult], brief: str | None) -> EnrichedPrompt:
    parts = [PREAMBLE]
    citations = []
    context_tokens = 0
    if hits:
        parts.append("## Workspace context")
        for hit in hits:
            label = f"{hit.kind} {hit.symbol}" if hit.symbol else hit.kind
            fence = _fence(hit.text)
            language = one_line(hit.language or "")
            header = f"### {one_line(hit.citation)} ({one_line(label)})"
            block = f"{header}\n{fence}{language}\n{hit.text}\n{fence}"
            parts.append(block)
            citations.append(hit.citation)
            context_tokens += estimate_tokens(block)
    brief_tokens = 0
    if brief and brief.strip():
        section = "## Session notes (from earlier sessions)\n" + brief.strip()
        parts.append(section)
        brief_tokens = estimate_tokens(section)
    parts.append("## Request\n" + request)
    known = {v: kind for hit in hits for v, kind in hit.known}
    return EnrichedPrompt("\n\n".join(parts), tuple(citations), context_tokens, brief_tokens, known)
