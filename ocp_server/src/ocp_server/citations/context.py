"""The lines around a cited block, kept when it is saved or confirmed: which of the places a
short block (an import, a constant) is at now is the cited one, when its file holds it at
several. Kept as hashes of the nearest line above and below that is not blank, each read
redacted with the values its file names as secrets (`FileLines.known`, as memory's copy of
the cited lines is): a secret beside the cited lines is not kept, even as a hash of its line;
and how many lines follow the block, which a block shifted down by lines added above it keeps
(`after_place`: its place when a copy with one of its neighbours went in above it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from ocp_router.redact import redact
from ocp_server.citations.values import FileLines

__all__ = ["after_place", "by_context", "context_of", "sides_as_they_were"]

_NONE = "-"  # no line there: the block starts or ends its file


def context_of(lines: Sequence[str], start: int, end: int) -> str:
    """`above:below:after`, the hashes of the nearest lines around `start`..`end` (1-based)
    that are not blank, and how many lines follow `end`."""
    return f"{_sides(lines, start, end)}:{len(lines) - end}"


def _sides(lines: Sequence[str], start: int, end: int) -> str:
    above = next((lines[i] for i in range(start - 2, -1, -1) if lines[i].strip()), None)
    below = next((lines[i] for i in range(end, len(lines)) if lines[i].strip()), None)
    known = lines.known if isinstance(lines, FileLines) else None
    return f"{_hash(above, known)}:{_hash(below, known)}"


def by_context(
    lines: Sequence[str], places: Iterable[tuple[int, int]], context: str | None
) -> tuple[int, int] | None:
    """The one of `places` with both lines around it as they were (`context`), None when no
    place or several have: a line beside it changed too, it is not told from the others."""
    if not context:
        return None  # saved before the lines around were kept (m048): as before, a guess
    sides = _split(context)[:2]
    fits = [p for p in places if _sides(lines, p[0], p[1]).split(":") == sides]
    return fits[0] if len(fits) == 1 else None


def sides_as_they_were(now: str, then: str) -> int:
    """How many of the two lines around a block (`now`, `context_of`'s) are those it had
    (`then`)."""
    return sum(a == b for a, b in zip(_split(now)[:2], _split(then)[:2], strict=False))


def after_place(lines: Sequence[str], size: int, then: str) -> tuple[int, int] | None:
    """The place of a block of `size` lines with as many lines after it as it had (`then`),
    None when not known (kept before they were counted) or off the file."""
    parts = _split(then)
    if len(parts) < 3 or not parts[2].isdigit():
        return None
    end = len(lines) - int(parts[2])
    return (end - size + 1, end) if end - size + 1 >= 1 else None


def _split(context: str) -> list[str]:
    return context.split(":", 2)


def _hash(line: str | None, known: Mapping[str, str] | None) -> str:
    if line is None:
        return _NONE
    text = redact(line.strip(), known).text
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
