"""Lines cited within a definition that a split took out of it: a stretch of its body moved
to a new function it calls in their place (an "extract function" refactoring). A short
block (an import, `x = 1`) found just anywhere in its file proves nothing (blocks.py), but
found in a function the cited one calls, and only there, with a line beside it as it was
and gone from the cited one (moved with it: a like line of a helper that was there all along,
beside a line the cited function still has, is another's), it is the cited code moved with
its stretch. The citation keeps the cited definition's
name: the lines are looked for through it again at each check, so that the split undone
(the helper gone, the lines back where they were) finds them in it as before."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocp_server.citations.blocks import places_in
from ocp_server.citations.context import context_of
from ocp_server.citations.definitions import FUNCTION_KINDS
from ocp_server.citations.values import Definition, Stored

__all__ = ["extracted_place"]

CALL_DEPTH = 3  # a helper split off a helper split off the cited definition, and once more
_CALLED = re.compile(r"(?<!def )(?<!\w)([A-Za-z_]\w*)\s*\(")


def extracted_place(
    defs: Sequence[Definition], lines: Sequence[str], c: Stored, holders: Sequence[Definition]
) -> tuple[int, int] | None:
    """The one place of the cited block within the functions the cited definitions
    (`holders`, where it is no longer found) call, or those call in turn, with at least
    one of the lines around it as it was (context.py) and no longer in the holders; None when
    none or several have it, or the lines around were not kept (saved before m048)."""
    if not c.context or not holders:
        return None
    spans = [(d.start_line, d.end_line) for d in _called(defs, lines, holders)]
    places = places_in(lines, c, spans)
    if len(places) != 1:
        return None
    at = places[0]
    return at if _moved_beside(lines, at, c.context, holders) else None


def _moved_beside(
    lines: Sequence[str], at: tuple[int, int], context: str, holders: Sequence[Definition]
) -> bool:
    """Whether a line beside `at` is the one the cited block had there (`context`) and is
    no longer in `holders`: it went with the block."""
    held = {lines[i].strip() for d in holders for i in range(d.start_line - 1, d.end_line)}
    above = next((lines[i] for i in range(at[0] - 2, -1, -1) if lines[i].strip()), None)
    below = next((lines[i] for i in range(at[1], len(lines)) if lines[i].strip()), None)
    now, then = context_of(lines, *at).split(":", 2)[:2], context.split(":", 2)[:2]
    return any(
        line is not None and line.strip() not in held and k < len(then) and now[k] == then[k]
        for k, line in enumerate((above, below))
    )


def _called(
    defs: Sequence[Definition], lines: Sequence[str], holders: Sequence[Definition]
) -> list[Definition]:
    """The functions of the file that `holders` call, directly or through up to CALL_DEPTH
    calls, other than those within a holder (searched already) or holding one."""
    searched = [(d.start_line, d.end_line) for d in holders]

    def apart(d: Definition) -> bool:
        return not any(
            (lo <= d.start_line and d.end_line <= hi) or (d.start_line <= lo and hi <= d.end_line)
            for lo, hi in searched
        )

    functions = [d for d in defs if d.kind in FUNCTION_KINDS and apart(d)]
    reached: list[Definition] = []
    callers = list(holders)
    for _ in range(CALL_DEPTH):
        text = "\n".join("\n".join(lines[d.start_line - 1 : d.end_line]) for d in callers)
        names = set(_CALLED.findall(text))
        callers = [d for d in functions if d.symbol in names and d not in reached]
        if not callers:
            break
        reached += callers
    return reached
