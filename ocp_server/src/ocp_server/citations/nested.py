"""Definitions nested in functions (`outer.inner`, `outer.Local.method`), which the index does
not name: it cuts along the top level and the bodies of classes, never into function bodies.

Found by a walk of the syntax tree with the language's own idea of a definition, only into
the functions a citation's name leads to (`outer` of `outer.inner`; for a short name, `inner`
or `Local.method`, those whose lines define `inner` or `Local`: `CodeView.definitions_of`),
and only when it names a definition the index does not have (so the common case costs
nothing).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ocp_server.citations.values import Definition
from ocp_server.index.chunking import MAX_PARSE_CHARS
from ocp_server.index.chunking.registry import SPECS
from ocp_server.index.chunking.spec import Def, LanguageSpec, end_row
from ocp_server.index.chunking.walker import parser
from ocp_server.index.languages import detect_language

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["defining_lines", "nested_definitions"]

MAX_DEPTH = 200  # syntax nesting walked; deeper is generated code, not a citation's target


def nested_definitions(
    path: str, text: str, known: frozenset[str], within: tuple[tuple[int, int], ...]
) -> list[Definition]:
    """The definitions within these line spans (the functions to look into) whose qualified
    names are not in `known` (the index's)."""
    return [d for d in _definitions(path, text, within) if d.name not in known]


class _Members:
    """What a language's `definitions` asks of the walk; members are walked here anyway."""

    def members(self, node: Node, body: Node | None) -> list[Node]:
        return []

    def big(self, node: Node) -> bool:
        return False  # an assignment in a function is not a "constant"


@lru_cache(maxsize=16)
def _definitions(
    path: str, text: str, within: tuple[tuple[int, int], ...]
) -> tuple[Definition, ...]:
    spec = _spec(path, text)
    if spec is None or len(text) > MAX_PARSE_CHARS:
        return ()
    try:
        tree = parser(spec).parse(text.encode("utf-8", "replace"))
    except (ImportError, ValueError, OSError):  # grammar missing or incompatible
        return ()
    found: list[Definition] = []
    todo: list[tuple[Node, str | None, bool, int]] = [(tree.root_node, None, False, 0)]
    walk = _Members()
    while todo:
        node, scope, in_class, depth = todo.pop()
        if depth > MAX_DEPTH:
            continue
        for child in reversed(node.named_children):
            first, last = child.start_point.row + 1, end_row(child) + 1
            if not any(first <= end and start <= last for start, end in within):
                continue  # outside the functions looked into: not walked
            result = spec.definitions(walk, child, in_class)
            if isinstance(result, list):  # transparent (export, ERROR): its children instead
                todo.extend((n, scope, in_class, depth + 1) for n in reversed(result))
            elif isinstance(result, Def) and result.symbol:
                qual = ".".join(p for p in (scope, result.qual) if p) or None
                name = f"{qual}.{result.symbol}" if qual else result.symbol
                found.append(Definition(name, result.symbol, result.kind, first, last))
                todo.append((child, name, result.class_like, depth + 1))
            else:  # a block, a statement: definitions may sit inside it
                todo.append((child, scope, in_class, depth + 1))
    return tuple(sorted(found, key=lambda d: (d.start_line, -d.end_line)))


def _spec(path: str, text: str) -> LanguageSpec | None:
    language = detect_language(path)
    spec = SPECS.get(language) if language is not None else None
    if spec is not None and spec.refine is not None:
        spec = SPECS[spec.refine(path, text)]
    return spec


def defining_lines(text: str, name: str) -> list[int]:
    """The lines (1-based) that look like they define `name`: the word after a keyword that
    introduces a definition in the languages indexed (def, class, function, fn, func, ...), or
    before `= function`, `= (...) =>`. A cheap filter before a syntax-tree walk, not a parse:
    a line it lets through that defines nothing costs a walk, never a wrong answer."""
    if not name.isidentifier() or name not in text:
        return []
    pattern = _DEFINING.get(name)
    if pattern is None:
        word = re.escape(name)
        pattern = re.compile(
            rf"\b(?:{_KEYWORDS})\s+{word}\b|\b{word}\s*=\s*(?:async\s+)?(?:function\b|\(|\w+\s*=>)"
        )
        if len(_DEFINING) > 256:
            _DEFINING.clear()
        _DEFINING[name] = pattern
    found: list[int] = []
    at = text.find(name)
    while at >= 0:  # only the lines the name is on are matched (C-speed finds between)
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        if pattern.search(text, start, end):
            found.append(text.count("\n", 0, start) + 1)
        at = text.find(name, end)
    return found


_KEYWORDS = "def|class|function|fn|func|fun|struct|interface|enum|trait|type|record|object|module"
_DEFINING: dict[str, re.Pattern[str]] = {}
