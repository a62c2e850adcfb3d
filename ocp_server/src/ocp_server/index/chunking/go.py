"""Go: functions, methods (scoped to their receiver type), type declarations (struct, interface
or type) and big const/var blocks ("constant")."""

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


_GO_TYPES = {"struct_type": "struct", "interface_type": "interface"}


def _go(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t == "function_declaration":
        return Def("function", name_of(node))
    if t == "method_declaration":
        return Def("method", name_of(node), qual=_go_receiver(node))
    if t == "type_declaration":
        for spec in node.named_children:
            if spec.type in ("type_spec", "type_alias"):
                typ = spec.child_by_field_name("type")
                kind = _GO_TYPES.get(typ.type, "type") if typ is not None else "type"
                return Def(kind, name_of(spec))
        return None
    if t in ("const_declaration", "var_declaration") and walk.big(node):
        for spec in node.named_children:
            if spec.type in ("const_spec", "var_spec"):
                return Def("constant", name_of(spec))
        return None
    if t == "ERROR":
        return node.named_children
    return None


def _go_receiver(node: Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return None
    for param in receiver.named_children:
        if param.type != "parameter_declaration":
            continue
        typ = param.child_by_field_name("type")
        while typ is not None and typ.type in ("pointer_type", "parenthesized_type"):
            typ = typ.named_children[0] if typ.named_child_count else None
        if typ is not None and typ.type == "generic_type":
            typ = typ.child_by_field_name("type")
        return text_of(typ)
    return None


SPECS = (
    LanguageSpec(
        name="go",
        extensions=(".go",),
        grammar=tree_sitter_grammar("tree_sitter_go"),
        definitions=_go,
        comments=frozenset({"comment"}),
    ),
)
