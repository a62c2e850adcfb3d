"""Rust: functions (methods inside traits and impls), structs and unions, enums, type aliases,
traits and impls (containers; an impl is named after its type), modules, macros, and big
const/static items ("constant"). Attributes lead their item like comments."""

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


def _rust(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t == "function_item":
        return Def("method" if in_class else "function", name_of(node))
    if t in ("struct_item", "union_item"):
        return Def("struct", name_of(node))
    if t == "enum_item":
        return Def("enum", name_of(node))
    if t == "type_item" and not in_class:  # not associated types in impls
        return Def("type", name_of(node))
    if t == "trait_item":
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("trait", name_of(node), members=members, class_like=True)
    if t == "impl_item":
        typ = node.child_by_field_name("type")
        while typ is not None and typ.type in ("generic_type", "reference_type"):
            typ = typ.child_by_field_name("type")
        if typ is not None and typ.type == "scoped_type_identifier":
            typ = typ.child_by_field_name("name")
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("impl", text_of(typ), members=members, class_like=True)
    if t == "mod_item":
        body = node.child_by_field_name("body")
        if body is None:
            return None
        return Def("module", name_of(node), members=walk.members(node, body))
    if t == "macro_definition":
        return Def("macro", name_of(node))
    if t in ("const_item", "static_item") and walk.big(node):
        return Def("constant", name_of(node))
    if t in ("foreign_mod_item", "ERROR"):
        body = node.child_by_field_name("body")
        return body.named_children if body is not None else node.named_children
    return None


SPECS = (
    LanguageSpec(
        name="rust",
        extensions=(".rs",),
        grammar=tree_sitter_grammar("tree_sitter_rust"),
        definitions=_rust,
        comments=frozenset({"line_comment", "block_comment", "attribute_item"}),
    ),
)
