"""Splitting a streamed answer (server-sent events, NDJSON) into lines, with a cap on the line
still being read: an upstream that never sends a newline would otherwise grow the buffer
without bound. Both tiers read through it (upstream.py relays, local.py parses)."""

from __future__ import annotations

# Far above any line an honest upstream sends (a Messages or Chat Completions event, an Ollama
# NDJSON line: a few KB, a whole long answer well under 1 MiB), far below trouble.
MAX_LINE_BYTES = 8 * 1024 * 1024


class LineTooLong(Exception):
    """The upstream sent more than MAX_LINE_BYTES without ending the line."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upstream sent a line longer than {limit:,} bytes")


class LineBuffer:
    """Takes chunks, gives back what ends in a newline; keeps the unfinished line, up to
    `limit` bytes, after which `feed` raises LineTooLong."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> bytes:
        """Every complete line so far, newlines kept (b"" when none has ended yet)."""
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            self._pending += chunk
            if len(self._pending) > self.limit:
                raise LineTooLong(self.limit)
            return b""
        complete = bytes(self._pending) + chunk[:end] if self._pending else chunk[:end]
        self._pending = bytearray(chunk[end:])
        if len(self._pending) > self.limit:
            raise LineTooLong(self.limit)
        return complete

    def rest(self) -> bytes:
        """The unfinished last line (an upstream need not end its last line)."""
        rest, self._pending = bytes(self._pending), bytearray()
        return rest
