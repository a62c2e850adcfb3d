"""A path as text the database and the wire can hold.

A folder's name need not be UTF-8 (a Latin-1 `Übung` made by an old system, an archive's
names): Python spells its bytes as lone surrogates, which SQLite's text and JSON refuse
("surrogates not allowed"). The workspace's path is stored (meta, sessions) and told (status):
with such a name every tool call failed, and the server said only "internal error". The bytes
that are not UTF-8 are written as `\\xff` escapes instead: the same path always gives the same
text, and a person reading it sees which byte it was. A backslash of the name's own that
would read as such an escape is one too (`\\x5c`): each path has its own text (m046 rewrote
the records an older server made of folders named so).
"""

from __future__ import annotations

import os
import re

__all__ = ["path_text", "text_path"]

# The escapes text_path reads back: a byte that is not UTF-8 (0x80-0xff, as backslashreplace
# writes it: `\\x` and two lower-case hex digits), and a backslash (0x5c) that was in the name
_ESCAPED = re.compile(r"\\x(5c|[89a-f][0-9a-f])")
_ESCAPED_BYTES = re.compile(rb"\\x(5c|[89a-f][0-9a-f])")


def path_text(path: str | os.PathLike[str]) -> str:
    """`path` as text, its bytes that are not UTF-8 as `\\xNN`, and a backslash of its own
    that would read as such an escape as `\\x5c` (a name holding `\\xff` as text is not the
    name holding that byte); any other path as it is."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        if "\\x" not in text or not _ESCAPED.search(text):
            return text
    text = _ESCAPED.sub(lambda m: "\\x5c" + m[0][1:], text)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def text_path(text: str) -> str:
    """The path `path_text` gave `text` for: its escapes back as the bytes they were (as
    Python spells them: a backslash, or lone surrogates)."""
    if "\\x" not in text:
        return text
    raw = _ESCAPED_BYTES.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    return os.fsdecode(raw)
