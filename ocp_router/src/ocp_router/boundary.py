"""The paid boundary: what a paid provider receives is built here, and redacted.

`OCPRouter` builds the paid request when, and only when, an attempt goes to a paid tier (a
request decided local that escalates gets one too). Secrets in every part of it (system
prompt, earlier turns, the request and what happened since) are replaced by
``[REDACTED:<kind>]`` markers first: on by default, whoever calls the router.

A caller with more to say (ocp-server's workspace code and session notes) implements
`ContextProvider`; the router calls it at that moment and redacts what it returns with the
rest. A request that stays local never calls it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ocp_router.backends.base import Turn
from ocp_router.payload import AgentPayload
from ocp_router.redact import RedactionResult, redact

__all__ = ["ContextProvider", "PaidContext", "PaidPrompt", "build_paid_prompt", "redact_all"]


@dataclass(frozen=True, slots=True)
class PaidContext:
    """What a caller adds for a paid model: the request as it should read it (with retrieved
    code, notes…), and the citations and token count of what was added."""

    prompt: str
    citations: tuple[str, ...] = ()
    context_tokens: int = 0
    # secrets the caller found where the added text came from (a value a file names in a
    # chunk not shown), by kind: hidden wherever they recur in the paid request too
    known: Mapping[str, str] = field(default_factory=dict)


class ContextProvider(Protocol):
    """Supplies context for a paid prompt. Called at most once per route, at its first paid
    attempt; never for a request that stays local. None: send the request as it is."""

    async def paid_context(self, payload: AgentPayload) -> PaidContext | None: ...


@dataclass(frozen=True, slots=True)
class PaidPrompt:
    """Exactly what a paid model receives (after redaction, when on)."""

    prompt: str  # the latest user turn, or the caller's context prompt, + what happened since
    system: str | None
    history: tuple[Turn, ...]
    context: PaidContext | None = None
    redactions: dict[str, int] = field(default_factory=dict)  # by kind, over every part
    prompt_redactions: int = 0  # of those, in `prompt`
    redacted: bool = True  # False: the router was built with redact_paid=False

    @property
    def hidden(self) -> int:
        """How many secret values were replaced by markers."""
        return sum(self.redactions.values())


def redact_all(
    texts: Sequence[str], clean: Sequence[bool] = (), known: Mapping[str, str] | None = None
) -> list[RedactionResult]:
    """`redact` each text, then hide a secret found in one text wherever it recurs verbatim in
    another (a password from a pasted .env quoted again in a later turn). `clean[i]`: the
    caller knows `redact(texts[i])` finds nothing (it was redacted before), so it is not
    redacted again on its own; a secret found in another text is still hidden in it. `known`:
    secrets (and their kinds) found elsewhere, hidden wherever they recur too."""
    results = [
        redact(t) if t and not (i < len(clean) and clean[i]) else RedactionResult(t, ())
        for i, t in enumerate(texts)
    ]
    found: dict[str, str] = dict(known or {})
    for text, result in zip(texts, results, strict=True):
        for r in result.redactions:
            value = text[r.start : r.end]
            if len(value) >= 8 and not any(c.isspace() for c in value):
                found.setdefault(value, r.kind)
    if not found:
        return results
    return [
        redact(text, found)
        if any(v in text for v in found) and any(v in r.text for v in found)
        else r
        for text, r in zip(texts, results, strict=True)
    ]


#: A paid prompt this long (all its parts) is redacted in a worker thread.
THREAD_CHARS = 4_000


def with_since(prompt: str, since: str) -> str:
    """The prompt followed by what happened after the request (an agent loop's tool traffic)."""
    return f"{prompt}\n\n## Since this request\n{since}" if since else prompt


async def build_paid_prompt(
    payload: AgentPayload,
    *,
    context: ContextProvider | None = None,
    prompt: str | None = None,
    redacting: bool = True,
) -> PaidPrompt:
    """The paid request for `payload`: the context provider's prompt (else `prompt`, else the
    latest user turn) plus what happened since, the system prompt and the earlier turns, each
    redacted when `redacting`."""
    added = await context.paid_context(payload) if context is not None else None
    request = added.prompt if added is not None else (prompt or payload.user_turn)
    text = with_since(request, payload.since_request())
    system = payload.system or None
    history = payload.history()
    if not redacting:
        return PaidPrompt(text, system, history, added, redacted=False)
    parts = [text, system or "", *(t.text for t in history)]
    # In a worker thread once it is more than a few pages: text dense with secrets' names
    # costs up to 3 µs a character (`password=password=…`; 60 µs before its runs were hidden
    # whole, when 49 KB of it on the event loop held every other call of the server for
    # seconds). (A paid call follows: the thread's hop costs nothing next to it.)
    known = added.known if added is not None else None
    if sum(map(len, parts)) >= THREAD_CHARS:
        results = await asyncio.to_thread(redact_all, parts, (), known)
    else:
        results = redact_all(parts, (), known)
    counts: Counter[str] = Counter()
    for r in results:
        counts.update(r.counts)
    return PaidPrompt(
        results[0].text,
        results[1].text or None,
        tuple(Turn(t.role, r.text) for t, r in zip(history, results[2:], strict=True)),
        added,
        dict(sorted(counts.items())),
        len(results[0].redactions),
    )
