"""The lines around a cited block, kept when it is saved or confirmed: which of the places a
short block (an import, a constant) is at now is the cited one, when its file holds it at
several. Kept as hashes of the nearest line above and below that is not blank, each read
redacted with the values its file names as secrets (`FileLines.known`, as memory's copy of
the cited lines is): a secret beside the cited lines is not kept, even as a hash of its line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from ocp_router.redact import redact
from ocp_server.citations.values import FileLines

__all__ = ["by_context", "context_of", "neither_side_as_it_was"]

_NONE = "-"  # no line there: the block starts or ends its file


def context_of(lines: Sequence[str], start: int, end: int) -> str:
    """`above:below`, the hashes of the nearest lines around `start`..`end` (1-based) that are
    not blank."""
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
    fits = [p for p in places if context_of(lines, p[0], p[1]) == context]
    return fits[0] if len(fits) == 1 else None


def neither_side_as_it_was(now: str, then: str) -> bool:
    """Whether both lines around a block (`now`, `context_of`'s) differ from those it had
    (`then`): with one side as it was, it is where it was, a line beside it edited (its file
    may repeat it with the same lines around, which `then` never told apart)."""
    return all(a != b for a, b in zip(now.split(":", 1), then.split(":", 1), strict=False))


def _hash(line: str | None, known: Mapping[str, str] | None) -> str:
    if line is None:
        return _NONE
    text = redact(line.strip(), known).text
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
