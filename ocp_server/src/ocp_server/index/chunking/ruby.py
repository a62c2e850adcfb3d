"""Ruby: classes and modules (containers), methods (functions at top level) and singleton
methods; a `class << self` body belongs to the enclosing class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocp_server.index.chunking.spec import (
    Def,
    LanguageSpec,
    Result,
    Walk,
    dotted,
    name_of,
    split_qualified,
    text_of,
    tree_sitter_grammar,
)

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["SPECS"]


def _ruby(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t == "method":
        return Def("method" if in_class else "function", name_of(node))
    if t == "singleton_method":
        obj = node.child_by_field_name("object")
        qual = None if obj is None or obj.type == "self" else dotted(text_of(obj))
        return Def("method", name_of(node), qual=qual)
    if t in ("class", "module"):
        qual, name = split_qualified(name_of(node))
        members = walk.members(node, node.child_by_field_name("body"))
        return Def(t, name, qual=qual, members=members, class_like=True)
    if t == "singleton_class":  # class << self: its methods belong to the enclosing class
        return walk.members(node, node.child_by_field_name("body"))
    if t in ("body_statement", "ERROR"):
        return node.named_children
    return None


SPECS = (
    LanguageSpec(
        name="ruby",
        extensions=(".rb", ".rake", ".gemspec", ".ru"),
        filenames=(
            "rakefile",
            "gemfile",
            "guardfile",
            "podfile",
            "vagrantfile",
            "brewfile",
            "fastfile",
        ),
        grammar=tree_sitter_grammar("tree_sitter_ruby"),
        definitions=_ruby,
        comments=frozenset({"comment"}),
    ),
)
