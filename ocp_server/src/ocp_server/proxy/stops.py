"""The client's stop sequences, matched by the proxy in a local model's answer.

Anthropic's answer names the sequence that stopped it (`stop_reason: "stop_sequence"`,
`stop_sequence: "<it>"`). A local server told the sequences strips the one it met and says
only "stop" (Ollama's `done_reason`, an OpenAI-compatible server's `finish_reason`), the same
as for an answer that ended by itself: which one, or whether any, is lost. So in that dialect
the sequences are not sent to the model; its text is watched here, and at the first sequence
reached the answer ends: the text before it is kept, and the local stream is closed (the
server stops generating when its client goes).

While streaming, the last (longest sequence - 1) characters are held back until the next
piece shows whether a sequence starts in them: text a sequence cuts off never reaches the
client. That delays the text by a few characters, and keeps the work per piece a few `find`s
over a short buffer whatever the sequences are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

from ocp_router import estimate_tokens
from ocp_server.proxy.chat import Event, Usage


class StopWatch:
    """Finds the first of `sequences` reached in text fed piece by piece."""

    def __init__(self, sequences: Sequence[str]) -> None:
        self.sequences = list(dict.fromkeys(s for s in sequences if s))
        self._keep = max((len(s) for s in self.sequences), default=1) - 1
        self._held = ""

    def feed(self, text: str) -> tuple[str, str | None]:
        """(the text that may be sent now, the sequence reached or None). After a sequence is
        reached the text ends: the first part is all that comes before it."""
        buffer = self._held + text
        found: tuple[int, int, str] | None = None  # (end, start, sequence): the first reached
        for sequence in self.sequences:
            start = buffer.find(sequence)
            if start >= 0 and (found is None or (start + len(sequence), start) < found[:2]):
                found = (start + len(sequence), start, sequence)
        if found is not None:
            self._held = ""
            return buffer[: found[1]], found[2]
        cut = max(len(buffer) - self._keep, 0)
        self._held = buffer[cut:]
        return buffer[:cut], None

    def flush(self) -> str:
        """The text held back, once no more comes."""
        held, self._held = self._held, ""
        return held


async def watch_stops(
    events: AsyncIterator[Event], sequences: Sequence[str], prompt: str
) -> AsyncIterator[Event]:
    """`events` until one of `sequences` is reached in their text; then the text before it
    and a `done` that names it (`events` closed, not read on). Its usage is OCP's estimate:
    the local server reports usage only in the `done` it never got to send."""
    watch = StopWatch(sequences)
    sent: list[str] = []
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if event.kind == "thinking":  # not the answer's text: no sequence is sought in it
                yield event
                continue
            if event.kind != "text":
                if held := watch.flush():
                    sent.append(held)
                    yield Event("text", text=held)
                yield event
                continue
            text, reached = watch.feed(event.text)
            if text:
                sent.append(text)
                yield Event("text", text=text)
            if reached is not None:
                output = estimate_tokens("".join(sent) + reached)
                usage = Usage(estimate_tokens(prompt), output)
                yield Event("done", stop="stop_sequence", stop_sequence=reached, usage=usage)
                return
