"""C, C++, C# and Java: the brace languages with classes and namespaces.

* c/cpp: function definitions (methods inside a class or when named `A::f`), struct, union and
  class specifiers with a body (containers), enums, typedefs of those, templates (unwrapped),
  namespaces (containers); preprocessor conditionals and `extern "C"` blocks are walked into.
  A `.h` header that looks like C++ (`CPP_HINT`) is parsed as C++.
* java: classes, records, interfaces, annotation types and enums (containers), methods with a
  body, constructors.
* csharp: classes, records, structs and interfaces (containers), enums, delegates, methods,
  constructors, destructors and operators with a body, namespaces (block or file-scoped)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ocp_server.index.chunking.spec import (
    Def,
    LanguageSpec,
    Namespace,
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


# A ".h" header that is really C++.
CPP_HINT = re.compile(
    r"^\s*(?:namespace\b[\w:\s]*\{|template\s*<|class\s+\w+[^;\n]*$|(?:public|private|protected)\s*:)"
    r"|\w::\w",
    re.MULTILINE,
)
_C_TRANSPARENT = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef", "ERROR"}
)


def _java(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t in ("class_declaration", "record_declaration"):
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("class", name_of(node), members=members, class_like=True)
    if t in ("interface_declaration", "annotation_type_declaration"):
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("interface", name_of(node), members=members, class_like=True)
    if t == "enum_declaration":
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("enum", name_of(node), members=members, class_like=True)
    if t == "method_declaration":
        if node.child_by_field_name("body") is None:
            return None
        return Def("method", name_of(node))
    if t in ("constructor_declaration", "compact_constructor_declaration"):
        return Def("method", name_of(node))
    if t in ("enum_body_declarations", "ERROR"):
        return node.named_children
    return None


_C_TYPES = {
    "struct_specifier": "struct",
    "union_specifier": "struct",
    "class_specifier": "class",
    "enum_specifier": "enum",
}


def _c(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t == "function_definition":
        if in_class and node.child_by_field_name("body") is None:
            return None  # `= default;`, `= delete;`
        declarator = _c_declarator(node.child_by_field_name("declarator"))
        qual, name = split_qualified(declarator)
        method = qual is not None or in_class
        return Def("method" if method else "function", name, qual=qual)
    kind = _C_TYPES.get(t)
    if kind is not None:
        body = node.child_by_field_name("body")
        if body is None:
            return None
        qual, name = split_qualified(name_of(node))
        if kind == "enum":
            return Def(kind, name, qual=qual)
        return Def(kind, name, qual=qual, members=walk.members(node, body), class_like=True)
    if t == "type_definition":
        typ = node.child_by_field_name("type")
        kind = _C_TYPES.get(typ.type) if typ is not None else None
        if typ is None or kind is None or typ.child_by_field_name("body") is None:
            return None
        name = text_of(node.child_by_field_name("declarator")) or name_of(typ)
        return Def(kind, name)
    if t == "template_declaration":
        for child in node.named_children:
            if child.type in ("function_definition", "class_specifier", "struct_specifier"):
                return _c(walk, child, in_class)
        return None
    if t == "namespace_definition":
        name = dotted(name_of(node))
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("module", name, members=members)
    if t == "linkage_specification":
        body = node.child_by_field_name("body")
        if body is None:
            return None
        return body.named_children if body.type == "declaration_list" else [body]
    if t in _C_TRANSPARENT:
        return node.named_children
    return None


def _c_declarator(node: Node | None) -> str | None:
    while node is not None:
        t = node.type
        if t in (
            "identifier",
            "field_identifier",
            "qualified_identifier",
            "destructor_name",
            "operator_name",
            "type_identifier",
            "template_function",
        ):
            return text_of(node)
        inner = node.child_by_field_name("declarator")
        if inner is None:
            named = node.named_children
            inner = named[0] if named else None
        node = inner
    return None


_CS_FUNCTIONS = frozenset(
    {
        "method_declaration",
        "constructor_declaration",
        "destructor_declaration",
        "operator_declaration",
        "conversion_operator_declaration",
        "local_function_statement",
    }
)
_CS_TYPES = {
    "class_declaration": "class",
    "record_declaration": "class",
    "record_struct_declaration": "struct",
    "struct_declaration": "struct",
    "interface_declaration": "interface",
}


def _csharp(walk: Walk, node: Node, in_class: bool) -> Result:
    t = node.type
    if t in _CS_FUNCTIONS:
        if node.child_by_field_name("body") is None:
            return None
        return Def("method" if in_class else "function", name_of(node) or "operator")
    kind = _CS_TYPES.get(t)
    if kind is not None:
        members = walk.members(node, node.child_by_field_name("body"))
        return Def(kind, name_of(node), members=members, class_like=True)
    if t == "enum_declaration":
        return Def("enum", name_of(node))
    if t == "delegate_declaration":
        return Def("type", name_of(node))
    if t == "namespace_declaration":
        members = walk.members(node, node.child_by_field_name("body"))
        return Def("module", name_of(node), members=members)
    if t == "file_scoped_namespace_declaration":
        return Namespace(name_of(node))
    if t in ("declaration_list", "ERROR"):
        return node.named_children
    return None


def _c_or_cpp(path: str, text: str) -> str:
    return "cpp" if path.endswith(".h") and CPP_HINT.search(text) else "c"


SPECS = (
    LanguageSpec(
        name="c",
        extensions=(".c", ".h"),
        grammar=tree_sitter_grammar("tree_sitter_c"),
        definitions=_c,
        comments=frozenset({"comment"}),
        refine=_c_or_cpp,
    ),
    LanguageSpec(
        name="cpp",
        extensions=(
            ".cc",
            ".cpp",
            ".cxx",
            ".c++",
            ".hh",
            ".hpp",
            ".hxx",
            ".h++",
            ".ipp",
            ".inl",
            ".tpp",
            ".cu",
        ),
        grammar=tree_sitter_grammar("tree_sitter_cpp"),
        definitions=_c,
        comments=frozenset({"comment", "attribute_declaration"}),
    ),
    LanguageSpec(
        name="java",
        extensions=(".java",),
        grammar=tree_sitter_grammar("tree_sitter_java"),
        definitions=_java,
        comments=frozenset({"line_comment", "block_comment"}),
    ),
    LanguageSpec(
        name="csharp",
        extensions=(".cs", ".csx"),
        grammar=tree_sitter_grammar("tree_sitter_c_sharp"),
        definitions=_csharp,
        comments=frozenset({"comment"}),
    ),
)
