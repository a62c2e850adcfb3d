"""Splitting a streamed answer (server-sent events, NDJSON) into lines, with a cap on the line
still being read: an upstream that never ends a line would otherwise grow the buffer without
bound. Both tiers read through it (upstream.py relays, local.py parses).

A line ends as the server-sent events spec (WHATWG HTML) says: CRLF, LF or a bare CR. A CR at
the end of a read is a line end at once (a bare-CR stream is not held back), and an LF at the
start of the next read completes that CRLF rather than ending an empty line of its own."""

from __future__ import annotations

# Far above any line an honest upstream sends (a Messages or Chat Completions event, an Ollama
# NDJSON line: a few KB, a whole long answer well under 1 MiB), far below trouble.
MAX_LINE_BYTES = 8 * 1024 * 1024


class LineTooLong(Exception):
    """The upstream sent more than MAX_LINE_BYTES without ending the line."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upstream sent a line longer than {limit:,} bytes")


class LineBuffer:
    """Takes chunks, gives back what ends in a line end; keeps the unfinished line, up to
    `limit` bytes, after which `feed` raises LineTooLong."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._pending = bytearray()
        self._after_cr = False  # the last read ended in CR: an LF next completes its CRLF
        self._continues_crlf = False  # the last `feed` began with such an LF

    def feed(self, chunk: bytes) -> bytes:
        """Every complete line so far, line ends kept, to relay as it is (b"" when none has
        ended yet). It may begin with the LF of a CRLF split across two reads."""
        if not chunk:
            return b""
        self._continues_crlf = self._after_cr and chunk[0] == 0x0A  # \n
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if end == 0:
            self._after_cr = False
            self._pending += chunk
            if len(self._pending) > self.limit:
                raise LineTooLong(self.limit)
            return b""
        complete = bytes(self._pending) + chunk[:end] if self._pending else chunk[:end]
        self._pending = bytearray(chunk[end:])
        self._after_cr = end == len(chunk) and chunk[-1] == 0x0D  # \r
        if len(self._pending) > self.limit:
            raise LineTooLong(self.limit)
        return complete

    def lines(self, chunk: bytes) -> list[bytes]:
        """`feed`, as the lines it completed, without their line ends."""
        lines = self.feed(chunk).splitlines()  # bytes: only \n, \r\n and \r end a line
        return lines[1:] if self._continues_crlf else lines

    def rest(self) -> bytes:
        """The unfinished last line (an upstream need not end its last line)."""
        rest, self._pending = bytes(self._pending), bytearray()
        self._after_cr = False
        return rest
