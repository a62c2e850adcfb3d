"""JavaScript, TypeScript and TSX: function declarations, `const f = () => ...` / `function` /
`React.memo(...)` declarators and `a.b = function` assignments (function), classes
(containers; methods and arrow-valued fields are "method"s), interfaces, type aliases, enums,
namespaces and modules (containers). `export` and `declare` are unwrapped; a file-wide IIFE is
walked into; big top-level declarations become "constant" chunks."""

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


_JS_FUNCTIONS = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)


def _js_value_kind(value: Node | None) -> str | None:
    if value is None:
        return None
    t = value.type
    if t in _JS_FUNCTIONS:
        return "function"
    if t in ("class", "class_expression"):
        return "class"
    if t == "call_expression":  # React.memo(function ...), forwardRef((p, r) => ...)
        args = value.child_by_field_name("arguments")
        if args is not None and any(a.type in _JS_FUNCTIONS for a in args.named_children):
            return "function"
    return None


def _js(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t in ("function_declaration", "generator_function_declaration"):
        return Def("function", name_of(node))
    if t in ("class_declaration", "abstract_class_declaration", "class"):
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("class", name_of(node), members=members, class_like=True)
    if t == "method_definition":
        return Def("method", name_of(node))
    if t in ("public_field_definition", "field_definition"):
        if _js_value_kind(node.child_by_field_name("value")) == "function":
            field = node.child_by_field_name("name") or node.child_by_field_name("property")
            return Def("method", text_of(field))
        return None
    if t == "export_statement":
        inner = node.child_by_field_name("declaration") or node.child_by_field_name("value")
        return _js(walk, inner, in_class) if inner is not None else None
    if t in ("lexical_declaration", "variable_declaration"):
        declarator = next((c for c in node.named_children if c.type == "variable_declarator"), None)
        if declarator is None:
            return None
        name_node = declarator.child_by_field_name("name")
        if name_node is None or name_node.type != "identifier":
            return None
        value = declarator.child_by_field_name("value")
        kind = _js_value_kind(value)
        if kind == "class" and value is not None:
            members = walk.members(value, value.child_by_field_name("body"))
            return Def("class", text_of(name_node), members=members, class_like=True)
        if kind is None:
            kind = "constant" if not in_class and walk.big(node) else None
        return Def(kind, text_of(name_node)) if kind is not None else None
    if t == "interface_declaration":
        return Def("interface", name_of(node))
    if t == "type_alias_declaration":
        return Def("type", name_of(node))
    if t == "enum_declaration":
        return Def("enum", name_of(node))
    if t in ("internal_module", "module"):
        name = name_of(node)
        if name is not None:
            name = name.strip("'\"`")
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("module", name, members=members)
    if t == "ambient_declaration":
        inner = node.named_children[0] if node.named_child_count else None
        return _js(walk, inner, in_class) if inner is not None else None
    if t == "expression_statement":
        return _js_expression(walk, node, in_class)
    if t == "ERROR":
        return node.named_children
    return None


def _js_expression(walk: Walk, node: Node, in_class: bool) -> Result:
    expr = node.named_children[0] if node.named_child_count else None
    while expr is not None and expr.type == "parenthesized_expression":
        expr = expr.named_children[0] if expr.named_child_count else None
    if expr is None:
        return None
    t = expr.type
    if t in ("internal_module", "module"):
        return _js(walk, expr, in_class)
    if t == "assignment_expression":
        if _js_value_kind(expr.child_by_field_name("right")) != "function":
            return None
        left = expr.child_by_field_name("left")
        if left is None:
            return None
        if left.type == "member_expression":
            obj = text_of(left.child_by_field_name("object"))
            if obj is not None:
                obj = obj.removesuffix(".prototype")
                if obj in ("module", "exports", "module.exports", "this", "window"):
                    obj = None
            return Def("function", name_of(left, "property"), qual=obj)
        return Def("function", text_of(left))
    if t == "call_expression":  # an IIFE wrapping the whole file: walk its body
        fn = expr.child_by_field_name("function")
        while fn is not None and fn.type == "parenthesized_expression":
            fn = fn.named_children[0] if fn.named_child_count else None
        if fn is not None and fn.type == "call_expression":  # (function () {...}())
            fn = fn.child_by_field_name("function")
        if fn is not None and fn.type in _JS_FUNCTIONS:
            body = fn.child_by_field_name("body")
            if body is not None and body.type == "statement_block":
                return body.named_children
    return None


SPECS = (
    LanguageSpec(
        name="javascript",
        extensions=(".js", ".mjs", ".cjs", ".jsx"),
        grammar=tree_sitter_grammar("tree_sitter_javascript"),
        definitions=_js,
        comments=frozenset({"comment", "decorator"}),
    ),
    LanguageSpec(
        name="typescript",
        extensions=(".ts", ".mts", ".cts"),
        grammar=tree_sitter_grammar("tree_sitter_typescript", "language_typescript"),
        definitions=_js,
        comments=frozenset({"comment", "decorator"}),
    ),
    LanguageSpec(
        name="tsx",
        extensions=(".tsx",),
        grammar=tree_sitter_grammar("tree_sitter_typescript", "language_tsx"),
        definitions=_js,
        comments=frozenset({"comment", "decorator"}),
    ),
)
