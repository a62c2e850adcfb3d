"""The named definitions of a file, with their full spans, from the index's chunker."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ocp_server.citations.values import Definition
from ocp_server.index.chunking import chunk_text
from ocp_server.index.languages import detect_language

__all__ = ["FUNCTION_KINDS", "bare_name", "definitions", "matches", "overload_stub"]

FUNCTION_KINDS = frozenset({"function", "method"})  # what the index does not look into
_OVERLOAD = re.compile(r"\s*@(?:\w+\.)*overload\b")


@dataclass(slots=True)
class _Span:
    name: str
    symbol: str
    kind: str
    start: int
    end: int


def definitions(path: str, text: str) -> list[Definition]:
    """Every named definition of a file, with its full span (a class with its methods)."""
    return list(_definitions(path, text))


@lru_cache(maxsize=64)  # saves and checks parse the same few files again and again
def _definitions(path: str, text: str) -> tuple[Definition, ...]:
    spans: list[_Span] = []
    last: dict[str, _Span] = {}
    scope_end: dict[str, int] = {}
    for c in chunk_text(path, text, detect_language(path)):
        if c.scope:
            scope_end[c.scope] = max(scope_end.get(c.scope, 0), c.end_line)
        if not c.symbol:
            continue
        joiner = " > " if c.kind == "section" else "."
        name = f"{c.scope}{joiner}{c.symbol}" if c.scope else c.symbol
        prev = last.get(name)
        # Parts of one long definition share a name and kind, and touch or overlap.
        if prev is not None and prev.kind == c.kind and c.start_line <= prev.end + 1:
            prev.end = max(prev.end, c.end_line)
            continue
        last[name] = _Span(name, c.symbol, c.kind, c.start_line, c.end_line)
        spans.append(last[name])
    out = []
    for s in spans:
        end = s.end
        for scope, scope_stop in scope_end.items():  # a container ends with its members
            if scope == s.name or scope.startswith((f"{s.name}.", f"{s.name} > ")):
                end = max(end, scope_stop)
        out.append(Definition(s.name, s.symbol, s.kind, s.start, end))
    return tuple(out)


def matches(d: Definition, symbol: str) -> int:
    """2: the qualified name; 1: the bare name (a function moved into a class); 0: no."""
    if d.name.endswith(symbol):
        if d.name == symbol or d.name.endswith(f".{symbol}"):
            return 2
    elif not symbol.endswith(d.symbol):
        # (told cheaply, as of most definitions a check goes through: the bare name is a tail
        # of the symbol)
        return 0
    return 1 if d.symbol == bare_name(symbol) else 0


def bare_name(symbol: str) -> str:
    return symbol.rsplit(".", 1)[-1].rsplit(" > ", 1)[-1]


def overload_stub(lines: Sequence[str], d: Definition) -> bool:
    """The definition is an `@overload` stub (its decorators, before its `def`, say so)."""
    for line in lines[d.start_line - 1 : d.end_line]:
        if not line.lstrip().startswith("@"):
            return False
        if _OVERLOAD.match(line):
            return True
    return False
