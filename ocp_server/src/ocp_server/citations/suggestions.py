"""Suggesting citations for the identifiers a memory's text names (returned, never added)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ocp_server.citations.definitions import bare_name, matches
from ocp_server.citations.parsing import SYMBOL, normal_symbol
from ocp_server.citations.values import Definition, Suggestion

if TYPE_CHECKING:
    from ocp_server.citations.view import CodeView

__all__ = ["names_in", "suggest"]

SUGGESTIONS_PER_TEXT = 5
_IDENT = re.compile(r"`([^`\s]{2,120})`|\b([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(\(\))?")
_CAMEL = re.compile(r"[a-z][A-Z]")
_PASCAL = re.compile(r"[A-Z][a-z]+[A-Z]")


def identifier_shaped(token: str) -> bool:
    """snake_case, camelCase, PascalCase of two words or more, or dotted: not prose."""
    if "." in token or "_" in token.strip("_"):
        return True
    return _CAMEL.search(token) is not None or _PASCAL.match(token) is not None


def names_in(text: str) -> list[str]:
    """The identifiers a text names, in order, each once: marked (`name`, name()) or shaped
    like one. No I/O and all CPU: a save works them out for all its texts in a worker
    thread (memory/save.py)."""
    names: dict[str, None] = {}
    # Prose repeats its words: each distinct run of non-space characters is read once (no
    # match of _IDENT holds a space or starts on one, and \b sees a space at a run's edges
    # either way), and each distinct match in it once, the repeats dropped in C: a loop over
    # every word of 150 texts of 5,000 characters took half a second of the event loop.
    distinct = " ".join(dict.fromkeys(text.split()))
    for marked_token, word, call in dict.fromkeys(_IDENT.findall(distinct)):
        token = marked_token or word
        if not token:
            continue
        if marked_token or call or identifier_shaped(token):
            name = normal_symbol(token.strip("`"))
            if SYMBOL.match(name):
                names[name] = None
    return list(names)


async def suggest(
    view: CodeView, text: str, cited: Iterable[str] = (), names: Sequence[str] | None = None
) -> list[Suggestion]:
    """Citations for the identifiers a text names that the index defines exactly once.
    `names`: `names_in(text)` when already worked out."""
    skip = {bare_name(s) for s in cited if s}
    if names is None:
        names = names_in(text)
    await asyncio.sleep(0)  # a save of 150 long texts: other calls go between them
    out: list[Suggestion] = []
    for name in [n for n in names if bare_name(n) not in skip][:20]:
        found: list[tuple[str, Definition]] = []
        for path in (await view.files_defining(name))[:5]:
            found += [(path, d) for d in await view.definitions(path) if matches(d, name)]
        exact = [(p, d) for p, d in found if matches(d, name) == 2] or found
        if len(exact) > 1:  # typing's @overload stubs are one function, as when cited
            exact = [f for f in exact if not await view.overload_stub(*f)] or exact
        if len(exact) == 1:
            path, d = exact[0]
            out.append(Suggestion(f"{path}:{d.start_line}-{d.end_line}", d.name, d.kind))
        if len(out) >= SUGGESTIONS_PER_TEXT:
            break
    return out
