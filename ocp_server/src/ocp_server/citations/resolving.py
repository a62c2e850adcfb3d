"""Resolving a citation as written (`path:start-end`, `path:symbol`, a bare symbol) to the
code it names now, or a CitationError saying why it cannot be."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocp_router.redact_names import redact_name_head
from ocp_router.words import counted
from ocp_server.citations.blocks import located
from ocp_server.citations.lines import trimmed
from ocp_server.citations.parsing import parse_citation
from ocp_server.citations.relative_to import files_ending_in, not_indexed, places
from ocp_server.citations.values import Located
from ocp_server.errors import CitationError

if TYPE_CHECKING:
    from ocp_server.citations.view import CodeView

__all__ = ["resolve"]

MAX_CITED_LINES = 2_000


async def resolve(view: CodeView, raw: str, scope: str | None = None) -> Located:
    """The cited code now, or CitationError saying why not (`scope`: as `places`)."""
    parsed = parse_citation(raw, view.workspace)
    cited = None if parsed.path is None else await _indexed_path(view, raw, parsed.path, scope)
    if parsed.start is not None:
        assert cited is not None and parsed.end is not None
        return await _resolve_lines(view, cited, parsed.start, parsed.end)
    assert parsed.symbol is not None
    if cited is not None:
        found = await view.defined_in(cited, parsed.symbol)
    else:
        found = []
        for path in await view.files_naming(parsed.symbol, parts=True):
            found += await view.defined_in(path, parsed.symbol)
    if not found:
        where = f"in {cited}" if cited else "in the index"
        # The index names no definition nested in a function: only its file is walked.
        nested = "" if parsed.path else f"; one nested in a function: path:{parsed.symbol}"
        raise CitationError(
            f"{raw!r}: no definition named {parsed.symbol!r} {where} "
            f"(cite path:start-end for lines that are not a definition{nested})",
            not_indexed=cited is None,  # the index names the files defining it
        )
    if len(found) > 1:  # typing's @overload stubs name what the implementation does
        found = [f for f in found if not await view.overload_stub(*f)] or found
    if len(found) > 1:
        places = ", ".join(f"{p}:{d.name} ({p}:{d.start_line}-{d.end_line})" for p, d in found)
        # redacted whole, then cut: a name holding a token cut at 600 keeps its head
        shown = redact_name_head(places, 600)
        raise CitationError(f"{raw!r} is ambiguous: {shown}; cite one of them")
    path, d = found[0]
    lines = await view.lines(path)
    assert lines is not None
    return await view.counted(located(path, lines, d.start_line, d.end_line, d.name, True))


async def _indexed_path(view: CodeView, raw: str, path: str, scope: str | None) -> str:
    """The indexed file a citation's `path` names, at the first of its `places`."""
    for candidate in (tried := places(raw, path, scope)):
        if view.too_large(candidate) and view.by_its_name_indexable(candidate):
            raise CitationError(view.unreadable(candidate))  # skipped, or will be
        if await view.indexed(candidate):
            return candidate
    meant = await files_ending_in(view.db, path, view.ocpignore)
    raise CitationError(not_indexed(path, view.workspace, tried, meant), not_indexed=True)


async def _resolve_lines(view: CodeView, path: str, start: int, end: int) -> Located:
    lines = await view.lines(path)
    if lines is None:
        raise CitationError(view.unreadable(path))
    if end > len(lines):
        raise CitationError(f"{path}:{start}-{end}: the file has {counted(len(lines), 'line')}")
    if end - start + 1 > MAX_CITED_LINES:
        raise CitationError(f"{path}:{start}-{end}: cite at most {MAX_CITED_LINES} lines")
    start, end = trimmed(lines, start, end)
    holder = None
    for d in await view.definitions(path):
        inside = d.start_line <= start and end <= d.end_line
        if inside and (holder is None or d.end_line - d.start_line < holder[1] - holder[0]):
            holder = (d.start_line, d.end_line, d.name)
    whole = holder is not None and (holder[0], holder[1]) == (start, end)
    return await view.counted(
        located(path, lines, start, end, holder[2] if holder else None, whole)
    )
