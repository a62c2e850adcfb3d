"""What a save keeps: its texts redacted (at_rest.py), in a worker thread when they are many.

A save at its limits holds 3.5 MB of text; redacted on the event loop, it held up every
other call (a ping, a search) for about a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ocp_server.at_rest import redacted, redacted_decision, redacted_state
from ocp_server.memory.values import DecisionIn, NoteIn

__all__ = ["OFF_LOOP_CHARS", "SaveTexts", "kept"]

# A save with more text than this is redacted in a worker thread: a few pages. Ordinary text
# costs 0.05 µs a character, text dense with secrets' names up to 60 (`password=password=…`):
# 20 KB of it held every other call for 1-2 s on the event loop. The thread's hop is 0.1 ms.
OFF_LOOP_CHARS = 4_000


async def kept(texts: SaveTexts) -> SaveTexts:
    """`texts` as memory stores them."""
    if texts.chars() < OFF_LOOP_CHARS:
        return texts.redacted()
    return await asyncio.to_thread(texts.redacted)


@dataclass(frozen=True, slots=True)
class SaveTexts:
    """The texts a save stores, as given and then as kept (redacted)."""

    decisions: Sequence[DecisionIn]
    notes: Sequence[str | NoteIn]
    open_items: Sequence[str]
    state: Mapping[str, str]
    outcome: str | None
    summary: str | None = None

    def chars(self) -> int:
        return (
            sum(len(d.title) + len(d.decision) + len(d.rationale or "") for d in self.decisions)
            + sum(len(n if isinstance(n, str) else n.text) for n in self.notes)
            + sum(map(len, self.open_items))
            + sum(len(k) + len(str(v)) for k, v in self.state.items())
            + len(self.outcome or "")
            + len(self.summary or "")
        )

    def redacted(self) -> SaveTexts:
        return SaveTexts(
            [_redacted_decision(d) for d in self.decisions],
            [
                NoteIn(redacted(n.text), n.citations)
                if isinstance(n, NoteIn)
                else NoteIn(redacted(n))
                for n in self.notes
            ],
            [redacted(text) for text in self.open_items],
            dict(redacted_state(key, str(value)) for key, value in self.state.items()),
            redacted(self.outcome) if self.outcome else self.outcome,
            redacted(self.summary) if self.summary else self.summary,
        )


def _redacted_decision(d: DecisionIn) -> DecisionIn:
    title, decision, rationale = redacted_decision(d.title, d.decision, d.rationale)
    return replace(d, title=title, decision=decision, rationale=rationale)
