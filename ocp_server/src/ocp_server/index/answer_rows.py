"""The chunk rows a snapshot's searches answered with, kept for its next searches."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ANSWER_ROWS_CHARS", "ANSWER_ROWS_MAX", "AnswerRows", "ChunkRow"]


class ChunkRow(NamedTuple):
    """A chunk's row as a search's answer reads it back, its text unpacked."""

    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    scope: str | None
    text: str
    tokens: int | None  # its count at index time (None: from before counts were stored)
    clean: int  # 1: redaction finds nothing in it under this process's rules
    # the values its file names as secrets that occur in it, with their kinds (file_secrets)
    known: tuple[tuple[str, str], ...] = ()
    # a piece of a line longer than a chunk: the character of the line its text starts at
    line_from: int | None = None
    names_clean: bool = False  # `redact_name` leaves its symbol and scope as they are


class AnswerRows:
    """The rows of the chunks a snapshot's searches answered with, by chunk id, kept for its
    next searches: the same chunks come back for many queries (on the benchmark's corpora,
    half to four fifths of the hits of a list of distinct queries had come back before), and
    reading one again costs a database read and an unpacking of its text.

    Within a generation a chunk's text, lines and names do not change (every index write of
    chunks moves the generation on; a raw SQL change that does not is not seen), and the rows
    die with their snapshot. Its redaction flag may be filled in later without a new
    generation, so only a row whose flag was known under this process's rules is kept (by
    the caller): a kept 1 stays true, a kept 0 only costs a redaction. At most `max_rows`
    rows and `max_chars` characters of text; the oldest go first."""

    __slots__ = ("_chars", "_rows", "max_chars", "max_rows")

    def __init__(self, max_chars: int, max_rows: int) -> None:
        self.max_chars = max_chars
        self.max_rows = max_rows
        self._rows: dict[int, ChunkRow] = {}
        self._chars = 0

    def get(self, chunk_id: int) -> ChunkRow | None:
        return self._rows.get(chunk_id)

    def put(self, chunk_id: int, row: ChunkRow) -> None:
        if chunk_id in self._rows or len(row.text) > self.max_chars or self.max_rows < 1:
            return
        self._rows[chunk_id] = row
        self._chars += len(row.text)
        while self._chars > self.max_chars or len(self._rows) > self.max_rows:
            oldest = next(iter(self._rows))
            self._chars -= len(self._rows.pop(oldest).text)

    def __len__(self) -> int:
        return len(self._rows)


#: Kept per snapshot for its answers: about 4 MB of text, and a bound on the rows too, so many
#: small chunks cannot add up past it in row objects (two to three thousand chunks of the
#: benchmark's corpora fill the text first).
ANSWER_ROWS_CHARS = 4_000_000
ANSWER_ROWS_MAX = 5_000
