"""Lines cited within a definition that was renamed (`load` now `read`): a long block is found
anywhere in its file (blocks.py), but a short one (`x = 1`, `return None`) found just anywhere
proves nothing, and the definitions of its name, where it is looked for, are gone. It is the
cited code when its name is gone from the file, the file holds it at one place only with both
lines around it as they were (context.py), and the definition holding it there sits where the
cited one did (a method of the same class, a function of the module): the definition renamed.
The citation takes the name it bears now, so the rename undone is followed back the same way."""

from __future__ import annotations

from collections.abc import Sequence

from ocp_server.citations.blocks import holder_of, places_in
from ocp_server.citations.context import by_context
from ocp_server.citations.definitions import bare_name
from ocp_server.citations.values import Definition, Stored

__all__ = ["renamed_place"]


def renamed_place(
    defs: Sequence[Definition], lines: Sequence[str], c: Stored
) -> tuple[int, int, Definition] | None:
    """The one place of the cited block in the file with both lines around it as they were,
    and the definition holding it, of the cited one's scope; None when none or several
    places have them, no definition holds it, or one of another scope does, the block is
    punctuation alone, or the lines around were not kept (saved before m048). Asked only
    when no definition of the cited name is left in the file."""
    if not c.context or not c.symbol or not any(ch.isalnum() for ch in c.content):
        return None  # (a closing bracket proves nothing either)
    at = by_context(lines, places_in(lines, c, [(1, len(lines))]), c.context)
    if at is None:
        return None
    holder = holder_of(defs, *at)
    if holder is None or _scope(holder.name, holder.symbol) != _scope(
        c.symbol, bare_name(c.symbol)
    ):
        return None
    return at[0], at[1], holder


def _scope(name: str, bare: str) -> str:
    """What holds a definition: `Loader.` of `Loader.read`, nothing of a module's function."""
    return name[: len(name) - len(bare)]
