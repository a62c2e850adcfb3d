"""Parsing a citation: `path:6-8`, `path:6`, `path#L6-L8`, `path:symbol` or `symbol`."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ocp_server.errors import CitationError

__all__ = ["Parsed", "parse_citation"]

RANGE = re.compile(r"^(?P<path>.+?)(?::|#L)(?P<start>\d+)(?:-L?(?P<end>\d+))?$")
SYMBOL = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*(?:\(\))?$")


@dataclass(frozen=True, slots=True)
class Parsed:
    path: str | None
    start: int | None = None
    end: int | None = None
    symbol: str | None = None


def parse_citation(raw: str, workspace: Path | None = None) -> Parsed:
    """`path:6-8`, `path:6`, `path#L6-L8`, `path:symbol` or `symbol` (CitationError if none)."""
    text = raw.strip()
    if not text:
        raise CitationError("empty citation: expected path:start-end or a symbol name")
    if "\0" in text:  # no path or name holds one (and the file system refuses it)
        raise CitationError(f"{raw!r} is not a citation: it holds a NUL character")
    if m := RANGE.match(text):
        start = _line_number(raw, m["start"])
        end = _line_number(raw, m["end"]) if m["end"] else start
        if start < 1 or end < start:
            raise CitationError(f"{raw!r}: lines must be start-end with 1 <= start <= end")
        return Parsed(relative(m["path"], workspace), start, end)
    if SYMBOL.match(text):
        return Parsed(None, symbol=normal_symbol(text))
    head, sep, tail = text.partition(":")
    if sep and tail and not tail.startswith(":") and SYMBOL.match(tail):
        return Parsed(relative(head, workspace), symbol=normal_symbol(tail))
    raise CitationError(
        f"{raw!r} is not a citation: expected path:start-end (src/auth.py:6-8), path:symbol "
        "(src/auth.py:verify_token) or a symbol (verify_token, SessionStore.rotate_session)"
    )


def _line_number(raw: str, digits: str) -> int:
    """A line number in any one script's decimal digits (`\\d`: `٦` is 6, `６` too); one
    mixing two scripts is refused (int() reads `1٣` as 13: a place never meant)."""
    if not digits.isascii() and len({ord(d) - unicodedata.decimal(d) for d in digits}) > 1:
        raise CitationError(
            f"{raw!r}: a line number mixes the digits of two scripts ({digits!r}): write it "
            "in one (ASCII 0-9)"
        )
    return int(digits)


def normal_symbol(text: str) -> str:
    return text.removesuffix("()").replace("::", ".").replace("#", ".")


def relative(path: str, workspace: Path | None) -> str:
    p = path.strip().replace("\\", "/")
    if workspace is not None and os.path.isabs(p):
        try:
            p = Path(p).resolve().relative_to(workspace.resolve()).as_posix()
        except ValueError:
            raise CitationError(f"{path!r} is outside the workspace {workspace}") from None
        except RuntimeError:  # raised for a symlink loop before Python 3.13
            raise CitationError(f"{path!r} cannot be resolved: a symlink loop") from None
    if p.startswith("/"):
        raise CitationError(f"{path!r}: expected a path inside the workspace")
    # `.`, `//` and `..` read as the path they name (the index keys files by that path); a
    # `..` out of a symbolic link names another file than its text: refused, not guessed.
    parts: list[str] = []
    link = None
    for part in p.split("/"):
        if part == "..":
            if not parts:
                raise CitationError(
                    f"{path!r} is outside the workspace: cite a path inside the workspace"
                )
            if (
                link is None
                and workspace is not None
                and (workspace / "/".join(parts)).is_symlink()
            ):
                link = "/".join(parts)
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise CitationError(f"{path!r}: expected a path inside the workspace")
    named = "/".join(parts)
    if link is not None:
        raise CitationError(
            f"{path!r}: '..' after a symbolic link ({link}) names another file than {named}: "
            "cite the path without '..'"
        )
    return named
