"""Parsing a citation: `path:6-8`, `path:6`, `path#L6-L8`, `path:symbol` or `symbol`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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
        start = int(m["start"])
        end = int(m["end"]) if m["end"] else start
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
    p = p.removeprefix("./")
    if not p or p.startswith("/") or ".." in PurePosixPath(p).parts:
        raise CitationError(f"{path!r}: expected a path inside the workspace")
    return p
