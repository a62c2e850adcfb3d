"""A path as text the database and the wire can hold.

A folder's name need not be UTF-8 (a Latin-1 `Übung` made by an old system, an archive's
names): Python spells its bytes as lone surrogates, which SQLite's text and JSON refuse
("surrogates not allowed"). The workspace's path is stored (meta, sessions) and told (status):
with such a name every tool call failed, and the server said only "internal error". The bytes
that are not UTF-8 are written as `\\xff` escapes instead: the same path always gives the same
text, and a person reading it sees which byte it was.
"""

from __future__ import annotations

import os
import re

__all__ = ["path_text", "text_path"]

# backslashreplace writes each byte that is not UTF-8 (0x80-0xff) as `\\x` and two lower-case
# hex digits
_ESCAPED = re.compile(rb"\\x([89a-f][0-9a-f])")


def path_text(path: str | os.PathLike[str]) -> str:
    """`path` as text, its bytes that are not UTF-8 as `\\xNN` (plain text left as it is)."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def text_path(text: str) -> str:
    """The path `path_text` gave `text` for: its `\\xNN` escapes back as the bytes they were
    (as Python spells them: lone surrogates). A name that holds such an escape as text (a
    backslash, an x, two digits) gives the same text as that byte: callers that must not miss
    a folder look at both."""
    if "\\x" not in text:
        return text
    raw = _ESCAPED.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    return os.fsdecode(raw)
