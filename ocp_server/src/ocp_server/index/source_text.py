"""A source file's bytes as UTF-8 text, whatever encoding its editor saved it in: UTF-8 with a
byte-order mark (Visual Studio, Notepad), UTF-16 or UTF-32 with one (PowerShell scripts, .rc
files, some C# and .reg files), UTF-16 or UTF-32 without one, and Windows-1252 (Latin-1's
superset: older editors on Windows, `café` in a comment).

Read as raw bytes, a UTF-8 mark stayed as `\\ufeff` before line 1's first word, UTF-16's NUL
bytes read as a binary's (skipped), and a Windows-1252 `é` became a replacement character.
Read as their text, every check that reads a file's bytes (binary, secret files by content, the
values a file names, redaction flags) and every citation's line count sees the text a UTF-8
file would hold: a secret in one is as hidden as in any other. No encoding here has a line
break where UTF-8 has none (Windows-1252's 0x85 is `…`, not NEL), so lines are counted as
before. Both readers, the indexer (file_chunks.py) and the citations (citations/view.py), go
through here, so their lines agree.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["source_text", "utf8_bytes"]

# UTF-32's marks first: UTF-32 LE's starts with UTF-16 LE's. Each codec reads its mark (the
# byte order) and leaves it out of the text.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A UTF-16 file without a mark is told by its NUL bytes, as chardet's UTF1632Prober tells it:
# in mostly-ASCII text, nearly every high byte of a code unit is NUL, nearly no low byte. Looked
# for in the bytes the binary check reads; then the whole file must decode, and hold no
# character a text does not (a NUL, a control character but for whitespace and ESC), or it
# stays a binary.
_HEAD = 8192
_MIN_UNITS = 20
_NUL_SHARE = 0.94
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffe\uffff]")
# Text whose NULs say less: UTF-16 of mostly CJK (its ASCII, the line breaks and spaces, alone
# has NUL high bytes), UTF-32 (every unit's top byte is NUL, a binary's 32-bit numbers' too).
# Taken only when it also reads as a text of a few scripts: a line break, and nearly every
# character of its head ASCII or of the scripts below (Latin-1, Greek, Cyrillic, punctuation
# and symbols, CJK with kana and its compatibility forms, Hangul, full-width forms); a
# binary's numbers spread over the rest.
_FEW_SCRIPTS_SHARE = 0.95
_OTHER_SCRIPT = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\xff\u0370-\u04ff\u2000-\u2bff\u3000-\u9fff"
    "\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef]"
)


def _cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Bytes that are no UTF-8, read as Windows-1252 (its five unassigned bytes replaced): a
    Latin-1 file, or a Latin-1 line in a UTF-8 one, keeps its `é`."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end


codecs.register_error("ocp-cp1252", _cp1252)


def _unmarked(data: bytes) -> str | None:
    """`data` as UTF-16 or UTF-32 text without a byte-order mark, None when it is no such
    text."""
    head = data[:_HEAD]
    units = len(head) // 2
    if len(data) % 2 or units < _MIN_UNITS:
        return None
    low, high = head[0::2], head[1::2]
    for nuls, others, codec in ((high, low, "utf-16-le"), (low, high, "utf-16-be")):
        if nuls.count(0) >= _NUL_SHARE * units and others.count(0) <= (1 - _NUL_SHARE) * units:
            return _text(data, codec)
    if len(data) % 4 == 0:
        for top, codec in ((head[3::4], "utf-32-le"), (head[0::4], "utf-32-be")):
            if not top.strip(b"\0"):
                return _few_scripts(_text(data, codec))
    if _utf8_with_nuls(head):
        return None
    for nuls, others, codec in ((high, low, "utf-16-le"), (low, high, "utf-16-be")):
        if nuls.count(0) > others.count(0) <= (1 - _NUL_SHARE) * units:
            return _few_scripts(_text(data, codec))
    return None


def _utf8_with_nuls(head: bytes) -> bool:
    """`head` is UTF-8 text with NUL bytes (NUL-separated records): read as UTF-16, its
    letters pair into CJK-looking characters of `_OTHER_SCRIPT`'s scripts. UTF-16 of those
    scripts is no such text without its NULs: Cyrillic's and Greek's high bytes are control
    characters (0x04, 0x03), CJK's and kana's bytes past 0x7f no UTF-8."""
    try:  # not final: a character the head's end cuts is left out
        text = codecs.getincrementaldecoder("utf-8")().decode(head.replace(b"\0", b""))
    except UnicodeDecodeError:
        return False
    return _NOT_TEXT.search(text) is None


def _text(data: bytes, codec: str) -> str | None:
    """`data` decoded by `codec` when it is text in it: no lone surrogate (nor, in UTF-32, a
    number past U+10FFFF), no character a text does not hold."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if _NOT_TEXT.search(text) else text


def _few_scripts(text: str | None) -> str | None:
    """`text` when it has lines and its head is of a few scripts (`_OTHER_SCRIPT`)."""
    if text is None or ("\n" not in text and "\r" not in text):
        return None
    head = text[: _HEAD // 2]
    others = len(_OTHER_SCRIPT.findall(head))
    return text if others <= (1 - _FEW_SCRIPTS_SHARE) * len(head) else None


def utf8_bytes(data: bytes) -> bytes:
    """`data` as UTF-8: without a UTF-8 byte-order mark; decoded from UTF-16 or UTF-32 when it
    starts with their mark, or without one when its NUL bytes are those of such text; bytes
    that are no UTF-8 read as Windows-1252 when `data` holds no NUL. Else (a binary, also one
    that only starts like UTF-16: bytes no such text holds, a NUL character in it) `data` as
    it is."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for mark, codec in _MARKS:
        if data.startswith(mark):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:  # a lone surrogate, an odd length: not that text
                return data
            return data if "\0" in text else text.encode("utf-8")
    if b"\0" in data:
        unmarked = _unmarked(data) if b"\0" in data[:_HEAD] else None
        return data if unmarked is None else unmarked.encode("utf-8")
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="ocp-cp1252").encode("utf-8")
    return data


def source_text(data: bytes) -> str:
    """`data` as the text the index reads of it (`utf8_bytes`, bytes no UTF-8 holds replaced):
    the lines a citation counts."""
    return utf8_bytes(data).decode("utf-8", errors="replace")
