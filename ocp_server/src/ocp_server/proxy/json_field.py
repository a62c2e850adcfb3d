"""One top-level field of a JSON object read in chunks, without holding the object: the usage
of a non-streaming paid answer too long to read whole (upstream.py relays it as it comes).

Only the structure is followed (strings, brackets, the nesting depth), not the grammar: enough
to tell the object's own `"usage": {...}` from a "usage" inside a string or deeper down (a tool
call's input), and to tell a whole object from one cut short. A key is compared as sent, so a
key spelled with escapes ("\\u0075sage") is not recognised: no provider writes one."""

from __future__ import annotations

import json
import re
from typing import Any

# Outside strings only these bytes change the structure; inside one, only an unescaped quote.
_STRUCTURE = re.compile(rb'["{}\[\]]')
_QUOTE, _BACKSLASH, _OPEN_OBJECT = 0x22, 0x5C, 0x7B
_KEY_LIMIT = 64  # a longer depth-1 string is no key this looks for


class TopLevelField:
    """Feed the object's bytes in order; `value` is then the named field's value when it is
    an object or a list of at most `limit` bytes (the last one given, as json.loads reads a
    repeated key), else None; `whole` says whether the bytes made one closed object."""

    def __init__(self, name: str, limit: int = 64 * 1024) -> None:
        self._name = name.encode()
        self._limit = limit
        self.value: Any = None
        self._depth = 0
        self._opened = self._broken = False
        self._in_string = False
        self._backslashes = 0  # the run of backslashes that ended the last chunk, in a string
        self._key: bytearray | None = None  # the depth-1 string being read, while short
        self._key_from = 0
        self._last_key: bytes | None = None  # the depth-1 string just read, if a key may follow
        self._capture: bytearray | None = None  # the value being read
        self._capture_depth = 0

    @property
    def whole(self) -> bool:
        return self._opened and not self._broken and self._depth == 0 and not self._in_string

    @property
    def cut_short(self) -> bool:
        """An object was opened and its bytes, fine so far, ended before it closed."""
        return self._opened and not self._broken and (self._depth > 0 or self._in_string)

    def feed(self, chunk: bytes) -> None:
        pos, capture_from = 0, 0
        while pos < len(chunk) and not self._broken:
            if self._in_string:
                pos = self._skip_string(chunk, pos)
                continue
            found = _STRUCTURE.search(chunk, pos)
            if found is None:
                self._broken = not self._opened and bool(chunk[pos:].strip())
                break
            i = found.start()
            pos = i + 1
            byte = chunk[i]
            if self._opened and self._depth == 0:
                self._broken = True  # more after the object closed
                break
            if not self._opened:
                self._opened = True
                if byte != _OPEN_OBJECT or chunk[:i].strip():
                    self._broken = True  # not an object: nothing to find
                    break
            if byte == _QUOTE:
                self._in_string = True
                self._backslashes = 0
                self._key = bytearray() if self._depth == 1 else None
                self._key_from = pos
            elif byte in b"{[":
                if self._depth == 1 and self._last_key == self._name:
                    self._capture, self._capture_depth, capture_from = bytearray(), 1, i
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth < 0:
                    self._broken = True
                elif self._capture is not None and self._depth == self._capture_depth:
                    self._capture += chunk[capture_from : i + 1]
                    self._captured()
            if byte != _QUOTE:
                self._last_key = None
        if self._in_string and self._key is not None:
            self._add_to_key(chunk[self._key_from :])
            self._key_from = 0
        if self._capture is not None:
            self._capture += chunk[capture_from:]
            if len(self._capture) > self._limit:
                self._capture = None

    def _skip_string(self, chunk: bytes, pos: int) -> int:
        """Past the string's closing quote, or to the chunk's end (noting the backslashes it
        ended with: the first quote of the next chunk may be escaped by them)."""
        quote = chunk.find(b'"', pos)
        if quote == -1:
            run = len(chunk) - len(chunk.rstrip(b"\\"))
            self._backslashes = run + self._backslashes if run == len(chunk) - pos else run
            return len(chunk)
        before = pos + len(chunk[pos:quote].rstrip(b"\\"))
        run = quote - before + (self._backslashes if before == pos == 0 else 0)
        self._backslashes = 0
        if run % 2:  # an escaped quote: still in the string
            return quote + 1
        self._in_string = False
        if self._key is not None:
            self._add_to_key(chunk[self._key_from : quote])
            self._last_key = bytes(self._key) if self._key is not None else None
            self._key = None
        return quote + 1

    def _add_to_key(self, piece: bytes) -> None:
        if self._key is not None:
            self._key += piece
            if len(self._key) > _KEY_LIMIT:
                self._key = None

    def _captured(self) -> None:
        assert self._capture is not None
        try:
            value = json.loads(self._capture) if len(self._capture) <= self._limit else None
        except ValueError:
            value = None
        self.value, self._capture = value, None
