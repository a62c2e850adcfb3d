"""A source file's bytes as UTF-8, when Windows tools wrote it as UTF-16 or UTF-32 with a
byte-order mark (PowerShell scripts, .rc files, some C# and .reg files).

Their NUL bytes read as a binary's, and they were skipped. Read as the text their mark names,
every check that reads a file's bytes (binary, secret files by content, the values a file
names, redaction flags) and every citation's line count sees the text a UTF-8 file would hold:
a secret in one is as hidden as in any other. Both readers, the indexer (file_chunks.py) and
the citations (citations/view.py), go through here, so their lines agree.
"""

from __future__ import annotations

import codecs

__all__ = ["source_text", "utf8_bytes"]

# UTF-32's marks first: UTF-32 LE's starts with UTF-16 LE's. Each codec reads its mark (the
# byte order) and leaves it out of the text.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def utf8_bytes(data: bytes) -> bytes:
    """`data` as UTF-8 when it starts with a UTF-16 or UTF-32 byte-order mark and is text in
    that encoding; else `data` as it is. A binary file that only starts like one (bytes no
    such text holds, or a NUL character in it) keeps its bytes, and so stays a binary."""
    for mark, codec in _MARKS:
        if data.startswith(mark):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:  # a lone surrogate, an odd length: not that text
                return data
            return data if "\0" in text else text.encode("utf-8")
    return data


def source_text(data: bytes) -> str:
    """`data` as the text the index reads of it (`utf8_bytes`, bytes no UTF-8 holds replaced):
    the lines a citation counts."""
    return utf8_bytes(data).decode("utf-8", errors="replace")
