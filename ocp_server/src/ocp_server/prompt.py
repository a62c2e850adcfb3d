"""The enriched prompt a paid model receives: workspace context with citations, the session
brief, then the request unchanged. Local models get the raw request only (seed 000)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ocp_router.tokens import estimate_tokens
from ocp_server.brief import Brief
from ocp_server.brief.sections import as_prompt_notes
from ocp_server.index.models import SearchResult
from ocp_server.sent_budget import fitted_counted

PREAMBLE = (
    "You are answering a developer's request about their codebase. The workspace context and "
    "session notes below were retrieved for this request; rely on them where relevant and cite "
    "code as path:start-end."
)

CONTEXT_HEADER = "## Workspace context"
NOTES_HEADER = "## Session notes (from earlier sessions)\n"
REQUEST_HEADER = "## Request\n"
SEPARATOR = "\n\n"  # between the prompt's parts
# The parts of the budget's frame: what the prompt adds whatever was retrieved.
_FRAME = f"{PREAMBLE}{SEPARATOR}{CONTEXT_HEADER}{SEPARATOR}{REQUEST_HEADER}"
# Each part counted alone rounds its estimate: the whole may come out this much over the sum.
_ROUNDING_SLACK = 6


@dataclass(frozen=True, slots=True)
class EnrichedPrompt:
    text: str
    citations: tuple[str, ...]
    # what was added to the request (all but the request: the preamble, the code, the brief,
    # their headings and separators), as sent: what `max_context_tokens` bounds
    context_tokens: int = 0
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
    """The tokens of what a paid prompt's context budget leaves after its frame that the
    session brief may take: a quarter (no floor: the shares add up to what is left)."""
    return budget // 4


def context_share(budget: int) -> int:
    """The tokens of what a paid prompt's context budget leaves after its frame that the
    workspace code may take: the rest, as `code_tokens` counts it (each block whole, header,
    fences and separator too)."""
    return budget - brief_share(budget)


def context_budget_said(budget: int) -> str:
    """A route's context budget as the prompt's session notes say what they left out to fit
    it: the route's own terms, not restore's (its `max_tokens` is the brief's share)."""
    return f"the context budget (max_context_tokens={budget:,})"


def frame_tokens() -> int:
    """What the budget keeps for the prompt's fixed parts (the preamble, the headings and
    the separators between them) and for the rounding of its parts' counts."""
    return estimate_tokens(_FRAME) + _ROUNDING_SLACK


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
    """The tokens of the hits' blocks as sent (headers, fences and the separator before each
    included, texts redacted with the secrets their files hold): what the code's share
    counts."""
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
        estimate_tokens(SEPARATOR + _block(header, hit, text))
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
    notes = as_prompt_notes(brief.text)
    if not remembered or not notes:
        return None
    return NOTES_HEADER + notes


async def brief_tokens(brief: Brief) -> int:
    """The tokens of the brief's section as sent, its header and the separator before it
    included: its rows are stored redacted, but one stored before the rule that finds its
    secret is redacted on the way out."""
    section = brief_section(brief)
    return estimate_tokens(SEPARATOR + (await sent_texts([section]))[0]) if section else 0


async def added_tokens(prompt: EnrichedPrompt, request: str) -> int:
    """The tokens of what `prompt` adds to `request`, as sent (redacted as the paid boundary
    redacts it, with the secrets the hits' files hold)."""
    added = prompt.text.removesuffix(request)
    return estimate_tokens((await sent_texts([added], (), prompt.known))[0]) if added else 0


def build_prompt(request: str, hits: Sequence[SearchResult], brief: str | None) -> EnrichedPrompt:
    """The prompt around `request`: the request alone when there is nothing to add."""
    parts = []
    if hits:
        parts.append(CONTEXT_HEADER)
        parts.extend(_block(_header(hit), hit, hit.text) for hit in hits)
    if brief and (notes := as_prompt_notes(brief)):  # as brief_section counts it
        parts.append(NOTES_HEADER + notes)
    if not parts:
        return EnrichedPrompt(request, ())
    known = {v: kind for hit in hits for v, kind in hit.known}
    citations = tuple(hit.citation for hit in hits)
    text = SEPARATOR.join([PREAMBLE, *parts, REQUEST_HEADER + request])
    return EnrichedPrompt(text, citations, known=known)


async def enriched(
    request: str,
    budget: int,
    search: Callable[[int], Awaitable[tuple[SearchResult, ...]]],
    restore: Callable[[int], Awaitable[Brief]],
) -> EnrichedPrompt:
    """The prompt around `request` whose added part keeps to `budget` tokens as sent (its
    `context_tokens`): the workspace code `search(max_tokens)` finds and the session brief
    `restore(max_tokens)` writes, in their shares of what the frame leaves, each fitted as
    sent (`fitted_counted`), then the whole, refitted into less when the parts' counts ran
    short of it. The request alone when nothing fits."""

    async def build(limit: int) -> EnrichedPrompt:
        left = limit - frame_tokens()
        if left <= 0:
            return build_prompt(request, (), None)
        hits, _ = await fitted_counted(search, code_tokens, context_share(left))
        brief, _ = await fitted_counted(restore, brief_tokens, brief_share(left))
        return build_prompt(request, hits, brief.text if brief_section(brief) else None)

    async def added(prompt: EnrichedPrompt) -> int:
        return await added_tokens(prompt, request)

    prompt, tokens = await fitted_counted(build, added, budget)
    return replace(prompt, context_tokens=tokens)
