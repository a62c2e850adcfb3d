"""What happened to cited code that is not found as it was: the file gone (deleted, renamed,
no longer indexed, too large), the definition changed where it is, moved and changed, or
replaced by the one most alike; with a short diff against what is there now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocp_router.words import counted
from ocp_server.citations.blocks import located, most_alike, most_alike_stretch, region
from ocp_server.citations.definitions import matches
from ocp_server.citations.lines import describe_change, normalized
from ocp_server.citations.values import Located, Stored

if TYPE_CHECKING:
    from ocp_server.citations.view import CodeView

__all__ = ["what_changed"]


async def what_changed(
    view: CodeView, c: Stored, lines: list[str] | None
) -> tuple[Located | None, str]:
    old = normalized(c.content.splitlines())
    if lines is None:
        went: list[str] = []
        if view.stat(c.path) == (-1, -1):
            # a rename known (to git or the index) is no deletion: say where the file went
            went = (await view.moves.renamed_to(c.path))[:1]
            gone = f"{c.path} was " + (f"renamed to {went[0]}" if went else "deleted")
        elif view.too_large(c.path):
            gone = view.unreadable(c.path)
        else:
            gone = f"{c.path} is no longer indexed"
        # A file renamed (git mv, mv) in the same change as an edit: say where it went.
        moved = await _changed_elsewhere(view, c, old) if c.symbol else None
        if moved is None and c.symbol and went:
            moved = await _alike_in(view, c, went[0], old)
        return (moved[0], f"{gone}; {moved[1]}") if moved else (None, gone)
    if c.symbol:
        defs = await view.definitions_of(c.path, c.symbol)
        same = sorted(
            (d for d in defs if matches(d, c.symbol) == 2),
            key=lambda d: abs(d.start_line - c.start_line),
        )
        if same:
            d = same[0]
            now = located(c.path, lines, d.start_line, d.end_line, d.name, True)
            what = "its lines" if not c.whole else f"`{c.symbol}`"
            known = await view.known(c.path)
            text = region(lines, d, c)
            if not c.whole:  # the lines most like the cited ones, which may have shifted
                text = most_alike_stretch([d], lines, old)[1] or text
            return now, f"{what} changed: " + describe_change(old, text, known)
        if (moved := await _changed_elsewhere(view, c, old)) is not None:
            return moved
        elsewhere = [p for p in await view.files_naming(c.symbol) if p != c.path]
        alike = most_alike(defs, lines, old)
        gone = f"`{c.symbol}` is no longer defined in {c.path}" + (
            f" (one in {elsewhere[0]} is not alike)" if elsewhere else " or elsewhere in the index"
        )
        if alike is None:
            return None, gone
        now = located(c.path, lines, alike.start_line, alike.end_line, alike.name, True)
        text = normalized(lines[alike.start_line - 1 : alike.end_line])
        return now, (
            f"{gone}; most alike now: `{alike.name}` at {now.citation}: "
            + describe_change(old, text, await view.known(c.path))
        )
    if c.start_line > len(lines):
        return (
            None,
            f"{c.path} now has {counted(len(lines), 'line')}; lines {c.start_line}- are gone",
        )
    end = min(c.end_line, len(lines))
    text = normalized(lines[c.start_line - 1 : end])
    known = await view.known(c.path)
    return None, f"lines {c.start_line}-{end} changed: " + describe_change(old, text, known)


async def _alike_in(view: CodeView, c: Stored, path: str, old: str) -> tuple[Located, str] | None:
    """The definition of `path` (the file the cited one became) most like the cited
    code, under another name: a function renamed in a file renamed."""
    assert c.symbol is not None
    lines = await view.lines(path)
    if lines is None:
        return None
    alike = most_alike(await view.definitions_of(path, c.symbol), lines, old)
    if alike is None:
        return None
    now = located(path, lines, alike.start_line, alike.end_line, alike.name, True)
    text = normalized(lines[alike.start_line - 1 : alike.end_line])
    return now, (
        f"`{c.symbol}` is no longer defined there; most alike now: `{alike.name}` at "
        f"{now.citation}: " + describe_change(old, text, await view.known(path))
    )


async def _changed_elsewhere(view: CodeView, c: Stored, old: str) -> tuple[Located, str] | None:
    """Moved and changed: a definition of the cited symbol in another file, still much
    like the cited code (a same-named function in another file is not enough)."""
    assert c.symbol is not None
    # Where git says the file went first (an edited function is found by its name in
    # any file, but the renamed file is where it most likely is).
    gone = view.stat(c.path) == (-1, -1)
    renamed = await view.renamed_to(c.path) if gone else []
    elsewhere = [p for p in await view.files_naming(c.symbol) if p != c.path]
    for path in [*renamed[:1], *(p for p in elsewhere if p not in renamed[:1])][:10]:
        other = await view.lines(path)
        if other is None:
            continue
        defs = await view.definitions_of(path, c.symbol)
        named = [d for d in defs if matches(d, c.symbol) == 2]
        if not c.whole and path in renamed:  # in the file the cited one became: the
            # stretch most like the cited lines, wherever in the definition it is now
            moved, now_text = most_alike_stretch(named, other, old)
        else:
            moved = most_alike(named, other, old)
            now_text = region(other, moved, c) if moved else ""
        if moved is not None:
            now = located(path, other, moved.start_line, moved.end_line, moved.name, True)
            what = "changed" if c.whole else "its lines changed"
            return now, (
                f"`{c.symbol}` is now in {now.citation}, {what}: "
                + describe_change(old, now_text, await view.known(c.path, path))
            )
    return None
