"""PHP: classes, interfaces, traits and enums (containers), methods with a body, functions, and
namespaces (a container, or for the statement form `namespace Foo;` the scope of what
follows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocp_server.index.chunking.spec import (
    Def,
    LanguageSpec,
    Namespace,
    Result,
    Walk,
    dotted,
    name_of,
    tree_sitter_grammar,
)

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["SPECS"]


_PHP_TYPES = {
    "class_declaration": "class",
    "interface_declaration": "interface",
    "trait_declaration": "trait",
    "enum_declaration": "enum",
}


def _php(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t == "method_declaration":
        if node.child_by_field_name("body") is None:
            return None
        return Def("method", name_of(node))
    if t == "function_definition":
        return Def("method" if in_class else "function", name_of(node))
    kind = _PHP_TYPES.get(t)
    if kind is not None:
        members = walk.members(node, node.child_by_field_name("body"))
        return Def(kind, name_of(node), members=members, class_like=True)
    if t == "namespace_definition":
        name = dotted(name_of(node))
        body = node.child_by_field_name("body")
        if body is None:
            return Namespace(name)
        return Def("module", name, members=walk.members(node, body))
    if t in ("compound_statement", "ERROR"):
        return node.named_children
    return None


SPECS = (
    LanguageSpec(
        name="php",
        extensions=(".php", ".phtml", ".php3", ".php4", ".php5", ".php7", ".phps"),
        grammar=tree_sitter_grammar("tree_sitter_php", "language_php"),
        definitions=_php,
        comments=frozenset({"comment"}),
    ),
)
