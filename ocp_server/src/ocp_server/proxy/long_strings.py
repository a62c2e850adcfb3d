"""A request body's long JSON strings read a piece at a time.

json reads a string in one C call, which holds the GIL for all of it: 18-26 ms for a 15 MB
message, and the proxy's other connections wait that long (body.py parses a large body in a
worker thread, but the interpreter hands the GIL over only between calls). Here a string long
enough to hold a block of BLOCK_CHARS without a quote is found (a `find` a block at a time),
read in pieces of about PIECE_CHARS by the same C reader, and replaced in the text by a
placeholder string; the rest is parsed as before and the placeholders then give way to the
strings. The values are json.loads' own: a piece ends neither inside an escape nor between
the two escapes of a surrogate pair, and any piece json would refuse (a control character, a
bad escape) raises ValueError, on which the caller parses the text whole, for json's error.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

__all__ = ["LongStrings", "taken_out"]

BLOCK_CHARS = 1 << 18  # a string holding an aligned block this long without a quote is "long"
PIECE_CHARS = 1 << 20  # read per call (a few ms)
_ESCAPE_CHARS = 6  # the longest escape, \uXXXX
_NO_ESCAPE = re.compile(rf"[^\\]{{{_ESCAPE_CHARS}}}")

_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class LongStrings:
    """The strings taken out of a text, by the placeholder that stands in for each."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.values: dict[str, str] = {}

    def put_back(self, body: Any) -> Any:
        """`body` (parsed from the text with placeholders) with each placeholder value
        replaced by its string; ValueError for a placeholder used as a key."""
        if type(body) is str:
            return self.values.get(body, body)
        left = len(self.values)
        level = [body] if isinstance(body, dict | list) else []
        while level and left:  # level by level: a body's depth was bounded already
            deeper: list[Any] = []
            for container in level:
                items = container.items() if type(container) is dict else enumerate(container)
                for key, value in items:
                    if type(key) is str and key.startswith(self.token):
                        raise ValueError("a long string as a key")
                    if type(value) is str:
                        if value.startswith(self.token) and value in self.values:
                            container[key] = self.values[value]
                            left -= 1
                    elif isinstance(value, dict | list):
                        deeper.append(value)
            level = deeper
        return body


def taken_out(text: str) -> tuple[str, LongStrings | None]:
    """`text` with each long string (see the module's docstring) replaced by a placeholder,
    and what they stood for; (text, None) when it has none. ValueError where the text is not
    JSON as far as this reads it."""
    spans: list[tuple[int, int]] = []  # (opening quote, closing quote)
    pos = counted = quotes = 0  # unescaped quotes before `counted`
    while (block := _quote_free_block(text, pos)) >= 0:
        opening = _quote_before(text, block)
        closing = _quote_after(text, block + BLOCK_CHARS)
        if opening < 0 or closing < 0:
            raise ValueError("a string never closed")
        # unescaped quotes before `opening` (which may be the last one counted)
        before = quotes + _quotes(text, counted, opening) if opening >= counted else quotes - 1
        if before % 2 == 0:  # it opens a string (the block is not between two)
            spans.append((opening, closing))
        pos = counted = closing + 1
        quotes = before + 2  # none between the two
    if not spans:
        return text, None
    # Unguessable, and with a character raw JSON text cannot hold: no other value is one.
    token = "\x00ocp-long-string-" + secrets.token_hex(16)
    taken = LongStrings(token)
    parts: list[str] = []
    at = 0
    for n, (opening, closing) in enumerate(spans):
        placeholder = f"{token}-{n}"
        taken.values[placeholder] = _read(text, opening + 1, closing)
        parts += [text[at:opening], json.dumps(placeholder)]
        at = closing + 1
    parts.append(text[at:])
    return "".join(parts), taken


def _quote_free_block(text: str, pos: int) -> int:
    """The start of the first block of BLOCK_CHARS from `pos` (at a multiple of it past
    `pos`) without a quote, or -1."""
    for start in range(pos, len(text) - BLOCK_CHARS + 1, BLOCK_CHARS):
        if text.find('"', start, start + BLOCK_CHARS) < 0:
            return start
    return -1


def _escaped(text: str, quote: int) -> bool:
    """Whether the quote at `quote` is escaped (an odd run of backslashes before it)."""
    run = quote
    while run > 0 and text[run - 1] == "\\":
        run -= 1
    return (quote - run) % 2 == 1


def _quote_before(text: str, end: int) -> int:
    """The last unescaped quote before `end`, a piece at a time, or -1."""
    while end > 0:
        start = max(0, end - PIECE_CHARS)
        found = text.rfind('"', start, end)
        if found < 0:
            end = start
        elif _escaped(text, found):
            end = found
        else:
            return found
    return -1


def _quote_after(text: str, start: int) -> int:
    """The first unescaped quote from `start`, a piece at a time, or -1."""
    while start < len(text):
        found = text.find('"', start, start + PIECE_CHARS)
        if found < 0:
            start += PIECE_CHARS
        elif _escaped(text, found):
            start = found + 1
        else:
            return found
    return -1


def _quotes(text: str, start: int, end: int) -> int:
    """How many unescaped quotes text[start:end] has (`start` not inside an escape). Each
    piece ends where no run of backslashes crosses its end: without its escaped backslashes
    and then its escaped quotes, a piece's quotes are the unescaped ones."""
    count = 0
    while start < end:
        stop = min(end, start + PIECE_CHARS)
        while stop < end and text[stop - 1] == "\\":
            stop += 1
        piece = text[start:stop].replace("\\\\", "").replace('\\"', "")
        count += piece.count('"')
        start = stop
    return count


def _read(text: str, start: int, end: int) -> str:
    """The value of the string whose characters (escapes as written) are text[start:end],
    read a piece at a time by json's own reader."""
    pieces = []
    while start < end:
        stop = min(end, start + PIECE_CHARS)
        if "\\" in text[stop - _ESCAPE_CHARS : stop]:
            # not inside an escape, nor between a surrogate pair's two: no backslash just
            # before (where none is found within a piece, the rest is read at once)
            safe = _NO_ESCAPE.search(text, stop - _ESCAPE_CHARS, min(end, stop + PIECE_CHARS))
            stop = safe.end() if safe else end
        value, _ = _scanstring(text[start:stop] + '"', 0)
        pieces.append(value)
        start = stop
    return "".join(pieces)
