"""Suggesting citations for the identifiers a memory's text names (returned, never added)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ocp_server.citations.definitions import bare_name, matches
from ocp_server.citations.parsing import SYMBOL, normal_symbol
from ocp_server.citations.values import Definition, Suggestion

if TYPE_CHECKING:
    from ocp_server.citations.view import CodeView

__all__ = ["suggest"]

SUGGESTIONS_PER_TEXT = 5
_IDENT = re.compile(r"`([^`\s]{2,120})`|\b([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(\(\))?")
_CAMEL = re.compile(r"[a-z][A-Z]")
_PASCAL = re.compile(r"[A-Z][a-z]+[A-Z]")


def identifier_shaped(token: str) -> bool:
    """snake_case, camelCase, PascalCase of two words or more, or dotted: not prose."""
    if "." in token or "_" in token.strip("_"):
        return True
    return _CAMEL.search(token) is not None or _PASCAL.match(token) is not None


async def suggest(view: CodeView, text: str, cited: Iterable[str] = ()) -> list[Suggestion]:
    """Citations for the identifiers a text names that the index defines exactly once."""
    skip = {bare_name(s) for s in cited if s}
    names: dict[str, None] = {}
    seen: set[tuple[str, bool]] = set()  # prose repeats its words: each is read once
    for m in _IDENT.finditer(text):
        token, marked = m[1] or m[2], bool(m[1] or m[3])
        if not token or (token, marked) in seen:
            continue
        seen.add((token, marked))
        if marked or identifier_shaped(token):
            name = normal_symbol(token.strip("`"))
            if SYMBOL.match(name) and bare_name(name) not in skip:
                names[name] = None
    await asyncio.sleep(0)  # a save of 150 long texts: other calls go between them
    out: list[Suggestion] = []
    for name in list(names)[:20]:
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
