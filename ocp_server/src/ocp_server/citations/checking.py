"""Checking a saved citation against the code now: valid where it was, moved (the lines found
at another place, in its file or another) or stale (`changes` says what happened)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ocp_server.citations.blocks import (
    MIN_LOOSE_BLOCK,
    a_copy,
    edited_in_place,
    find_block,
    holder_of,
    located,
    loose_place,
    place_by_context,
)
from ocp_server.citations.changes import what_changed
from ocp_server.citations.context import after_place, context_of, sides_as_they_were
from ocp_server.citations.definitions import matches
from ocp_server.citations.extracted import extracted_place
from ocp_server.citations.lines import content_hash, describe_change, normalized
from ocp_server.citations.namesakes import changed_namesake
from ocp_server.citations.renamed_holder import renamed_place
from ocp_server.citations.values import Check, Located, Status, Stored

if TYPE_CHECKING:
    from ocp_server.citations.view import CodeView

__all__ = ["check"]

NEWEST_SEARCHES = 40  # citations looked for so in one save or restore (a folder deleted whole)


async def check(view: CodeView, c: Stored) -> Check:
    """Where the cited lines are now: valid, moved (with the new place) or stale."""
    lines = await view.lines(c.path)
    if lines is not None:
        if c.end_line <= len(lines):
            if content_hash(
                lines[c.start_line - 1 : c.end_line]
            ) == c.content_hash and not await _a_copy(view, c, lines, c.start_line, c.end_line):
                at = located(c.path, lines, c.start_line, c.end_line, c.symbol, c.whole)
                shifted = await _shifted(view, c, lines, at.context)
                status: Status = "valid" if shifted is None else "moved"
                at = shifted or at
                return await _namesake_changed(view, c, lines, at) or Check(status, at)
        found = await _find(view, c, c.path, lines)
        if (
            found is not None
            and (c.whole or not edited_in_place(lines, c))
            and not await _a_copy(view, c, lines, found.start_line, found.end_line)
        ):
            return await _namesake_changed(view, c, lines, found) or Check("moved", found)
    # Another file's copy of the cited code is where it went only when its own file no
    # longer defines it: changed where it still is, it is stale (a vendored or legacy
    # copy that still reads as cited is not the code the memory is about).
    if c.symbol and (lines is None or not await view.defined_in(c.path, c.symbol)):
        for path in await view.files_naming(c.symbol):
            other = await view.lines(path) if path != c.path else None
            if other is not None and (found := await _find(view, c, path, other)) is not None:
                return Check("moved", found)
    # A whole definition is only the whole one (by its symbol), never a grown one's start.
    if lines is None and not c.whole and view.stat(c.path) == (-1, -1):
        # Its content tells where it went: first where git or the name says, then, for
        # lines no definition holds (those in one follow its name, above), in the files
        # indexed last (a plain `mv` into a new folder under a new name).
        if len(normalized(c.content.splitlines())) >= MIN_LOOSE_BLOCK:
            tries = await view.renamed_to(c.path)
            if not c.symbol and view.newest_searches < NEWEST_SEARCHES:
                view.newest_searches += 1
                tries = [*tries, *await view.newest_like(c.path)]
            for path in tries:
                other = await view.lines(path)
                if other is not None and (found := await _find_loose(view, c, path, other)):
                    return Check("moved", found)
        elif (found := await _find_short(view, c)) is not None:
            return Check("moved", found)
    where, change = await what_changed(view, c, lines)
    return Check("stale", where, change)


async def _shifted(view: CodeView, c: Stored, lines: list[str], now: str | None) -> Located | None:
    """Where the cited lines went when those at their old place read as cited but are a copy
    shifted onto it (`x = 1` twice, two lines apart, two lines added above both). Neither
    line around the old place (`now`, `context_of`'s) is one the block had (context.py, m048),
    and one other place has both: within the definitions of the cited name for lines cited in
    one, anywhere in the file for lines outside any. Or one is (the copy went in with that
    neighbour), and the place with as many lines after it as the block had has both: it went
    down by the lines added above. None when the old place keeps both, or keeps one and that
    place is not it (a line beside it edited; the file may repeat it with the same lines
    around, which its context never told apart), or no other place or several have them: the
    lines are where they were. (A whole definition is told by its name: a copy of it is
    another of that name, namesakes.py.)"""
    if c.whole or not c.context or not now:
        return None
    kept = sides_as_they_were(now, c.context)
    if kept == 2:
        return None
    at = after_place(lines, c.end_line - c.start_line + 1, c.context) if kept == 1 else None
    if kept == 1 and (
        at is None
        or at[0] <= c.start_line
        or content_hash(lines[at[0] - 1 : at[1]]) != c.content_hash
        or sides_as_they_were(context_of(lines, *at), c.context) != 2
    ):
        return None
    if c.symbol:
        named = [d for d in await view.definitions_of(c.path, c.symbol) if matches(d, c.symbol)]
        spans = [(d.start_line, d.end_line) for d in named]
    else:
        named, spans = await view.definitions(c.path), [(1, len(lines))]
    if at is not None:
        if not any(lo <= at[0] and at[1] <= hi for lo, hi in spans):
            return None
    elif (at := place_by_context(lines, c, spans, (c.start_line, c.end_line))) is None:
        return None
    holder = holder_of(named, at[0], at[1])
    return located(c.path, lines, at[0], at[1], holder.name if holder else None, False)


async def _namesake_changed(
    view: CodeView, c: Stored, lines: list[str], at: Located
) -> Check | None:
    """Stale, when the cited code found unchanged at `at` is a copy under the cited name
    and the namesake added since holds it changed (namesakes.py)."""
    defs = await view.definitions_of(c.path, c.symbol) if c.symbol else []
    if (changed := changed_namesake(defs, lines, c, at.start_line, at.end_line)) is None:
        return None
    d, text = changed
    now = located(c.path, lines, d.start_line, d.end_line, d.name, True)
    diff = describe_change(normalized(c.content.splitlines()), text, await view.known(c.path))
    what = f"`{c.symbol}`" if c.whole else "its lines"
    copy = f"`{c.symbol}` is defined more often than when cited; {at.citation} reads as cited"
    return Check("stale", now, f"{what} changed: {diff} ({copy})")


async def _a_copy(view: CodeView, c: Stored, lines: list[str], start: int, end: int) -> bool:
    """`a_copy`, for lines cited within a definition (only they name what they copy)."""
    if not c.symbol or c.whole:
        return False
    return a_copy(await view.definitions(c.path), lines, c, c.symbol, start, end)


async def _find(view: CodeView, c: Stored, path: str, lines: list[str]) -> Located | None:
    """The cited lines in this file, at another place."""
    defs = await view.definitions_of(path, c.symbol)
    if c.symbol:
        holders = sorted(
            (d for d in defs if matches(d, c.symbol)),
            key=lambda d: (-matches(d, c.symbol or ""), abs(d.start_line - c.start_line)),
        )
        for d in holders:
            if c.whole:
                if content_hash(lines[d.start_line - 1 : d.end_line]) == c.content_hash:
                    return located(path, lines, d.start_line, d.end_line, d.name, True)
            elif (at := find_block(lines, c, d.start_line, d.end_line)) is not None:
                return located(path, lines, at[0], at[1], d.name, False)
        if c.whole or path != c.path:
            return None
        if (found := await _find_loose(view, c, path, lines)) is not None:
            return found
        if not holders:  # its definition renamed: found by the lines around, with its new name
            if (moved := renamed_place(defs, lines, c)) is None:
                return None
            return located(path, lines, moved[0], moved[1], moved[2].name, False)
        # split off into a function it calls: found through its name, which it keeps (the
        # name's best holders only: a namesake by the bare name is another class's method)
        best = matches(holders[0], c.symbol)
        at = extracted_place(defs, lines, c, [d for d in holders if matches(d, c.symbol) == best])
        return None if at is None else located(path, lines, at[0], at[1], holders[0].name, False)
    return await _find_loose(view, c, path, lines) if path == c.path else None


async def _find_short(view: CodeView, c: Stored) -> Located | None:
    """A short block of a file that is gone (found just anywhere it proves nothing), where
    its file went: in the file git or the index says it became, nearest its old place; in a
    file of its name in another folder (a plain `mv`), at its very lines."""
    went = await view.moves.renamed_to(c.path)
    name = PurePosixPath(c.path).name
    same_name = [p for p in await view.renamed_to(c.path) if PurePosixPath(p).name == name]
    for path in dict.fromkeys([*went[:1], *same_name]):
        lines = await view.lines(path)
        if lines is None:
            continue
        if went[:1] == [path]:
            at = find_block(lines, c, 1, len(lines))
        elif content_hash(lines[c.start_line - 1 : c.end_line]) == c.content_hash:
            at = (c.start_line, c.end_line)
        else:
            continue
        if at is not None:
            holder = holder_of(await view.definitions(path), at[0], at[1])
            return located(path, lines, at[0], at[1], holder.name if holder else None, False)
    return None


async def _find_loose(view: CodeView, c: Stored, path: str, lines: list[str]) -> Located | None:
    """The cited block anywhere in this file (its own, or the one it was renamed to); a
    short one (found just anywhere it proves nothing) only at its one place in its own."""
    if (at := loose_place(lines, c, own=path == c.path and not c.symbol)) is None:
        return None
    holder = holder_of(await view.definitions(path), at[0], at[1])
    return located(path, lines, at[0], at[1], holder.name if holder else None, False)
