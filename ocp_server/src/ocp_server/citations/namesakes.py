"""Namesakes: the definitions of a file sharing the cited one's name. A copy of a function
pasted under its own name (kept for old callers, shadowed) may sit at the very lines cited,
while the function the memory is about, edited, sits below it: the cited lines are found
unchanged in a definition of the cited name, and overloads share a name too. What tells them
apart is how many namesakes the file had when the citation was last confirmed (saved, or
checked valid or moved): one more now, another of them holding the cited code changed, and
which is the cited one is no longer known, so the citation is not served as a fact."""

from __future__ import annotations

from collections.abc import Sequence

from ocp_server.citations.blocks import find_block, holder_of, most_alike, most_alike_stretch
from ocp_server.citations.definitions import matches
from ocp_server.citations.lines import content_hash, normalized
from ocp_server.citations.values import Definition, Stored

__all__ = ["changed_namesake", "count_namesakes"]


def count_namesakes(defs: Sequence[Definition], symbol: str | None) -> int | None:
    """How many definitions of the file bear `symbol` (as a_copy matches names); None for
    lines no definition holds."""
    return None if not symbol else sum(1 for d in defs if matches(d, symbol) == 2)


def changed_namesake(
    defs: Sequence[Definition], lines: Sequence[str], c: Stored, start: int, end: int
) -> tuple[Definition, str] | None:
    """The namesake holding the cited code changed, and its changed text (normalized), when
    the cited code was found unchanged at `start`-`end` and the file defines the cited name
    more times than when the citation was last confirmed (`c.namesakes`); None when it did
    not grow, when another namesake holds the code unchanged too, or none holds it alike."""
    if not c.symbol or c.namesakes is None:
        return None
    named = [d for d in defs if matches(d, c.symbol) == 2]
    if len(named) <= c.namesakes:
        return None
    here = holder_of(named, start, end)
    others = [d for d in named if d != here]
    old = normalized(c.content.splitlines())
    if c.whole:
        hashes = (content_hash(lines[d.start_line - 1 : d.end_line]) for d in others)
        if c.content_hash in hashes:
            return None
        alike = most_alike(others, lines, old)
        return (
            None
            if alike is None
            else (alike, normalized(lines[alike.start_line - 1 : alike.end_line]))
        )
    if any(find_block(lines, c, d.start_line, d.end_line) for d in others):
        return None
    holder, text = most_alike_stretch(others, lines, old)
    return None if holder is None else (holder, text)
