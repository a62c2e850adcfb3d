"""Python: functions and methods, classes (containers), both also under decorators; big
module-level assignments become "constant" chunks. Docstrings sit inside the bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocp_server.index.chunking.spec import (
    Def,
    LanguageSpec,
    Result,
    Walk,
    name_of,
    text_of,
    tree_sitter_grammar,
)

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["SPECS"]


def _python(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t == "function_definition":
        return Def("method" if in_class else "function", name_of(node))
    if t == "class_definition":
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("class", name_of(node), members=members, class_like=True)
    if t == "decorated_definition":
        inner = node.child_by_field_name("definition")
        return _python(walk, inner, in_class) if inner is not None else None
    if t == "expression_statement" and not in_class and walk.big(node):
        assign = node.named_children[0] if node.named_child_count else None
        if assign is not None and assign.type == "assignment":
            left = assign.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                return Def("constant", text_of(left))
        return None
    if t == "ERROR":
        return node.named_children
    return None


SPECS = (
    LanguageSpec(
        name="python",
        extensions=(".py", ".pyi", ".pyw"),
        grammar=tree_sitter_grammar("tree_sitter_python"),
        definitions=_python,
        comments=frozenset({"comment"}),
    ),
)
