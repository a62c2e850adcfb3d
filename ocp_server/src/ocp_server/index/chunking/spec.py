"""What a language module gives the chunker: one `LanguageSpec` per grammar, and the helpers
its `definitions` function uses to read tree-sitter nodes.

A language module (`python.py`, `go.py`, ...) exports `SPECS`, a tuple of `LanguageSpec`s; the
package finds it by that name (see `registry.py`), so adding a language is one module plus its
`tree-sitter-<lang>` dependency. `definitions(walk, node, in_class)` looks at one node of the
top level or of a container's body and answers with a `Result`:

* `Def`: the node defines something (a function, a class, ...); `Def.members` set makes it a
  container whose members are walked in turn (`walk.members(node, body)` collects them);
* `Namespace`: a statement namespace (`namespace Foo;`) that scopes the siblings after it;
* a list of nodes: the node is transparent (an `export`, an `ERROR`, a preprocessor `#if`);
  its children are classified in its place;
* None: not a definition; its lines go into the preamble around the definitions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from tree_sitter import Language, Node

__all__ = [
    "Def",
    "Definitions",
    "LanguageSpec",
    "Namespace",
    "Result",
    "Walk",
    "dotted",
    "end_row",
    "name_of",
    "split_qualified",
    "text_of",
    "tree_sitter_grammar",
]


@dataclass(slots=True)
class Def:
    """What a node defines. `members` is set for containers (their member candidates)."""

    kind: str
    symbol: str | None
    qual: str | None = None  # extra scope from the name itself: `A::f`, Go receivers, `def A.f`
    members: list[Node] | None = None
    class_like: bool = False  # functions among the members are "method"s


@dataclass(slots=True)
class Namespace:
    """A statement namespace (`namespace Foo;`): it scopes the siblings after it."""

    name: str | None


Result: TypeAlias = "Def | Namespace | list[Node] | None"  # list: transparent, splice these


class Walk(Protocol):
    """What the syntax walk offers a `definitions` function."""

    def members(self, node: Node, body: Node | None) -> list[Node]:
        """Member candidates of a container: its body's children, plus comments between the
        header and the body (tree-sitter hangs those on the container in Python and Ruby)."""
        ...

    def big(self, node: Node) -> bool:
        """Whether `node` spans at least `min_chunk_lines` lines (a "constant" chunk)."""
        ...


Definitions: TypeAlias = "Callable[[Walk, Node, bool], Result]"


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """One tree-sitter language: its name, files, grammar and what counts as a definition."""

    name: str  # the language name `languages.detect_language` returns
    extensions: tuple[str, ...]  # lower-case, with the dot: (".py", ".pyi")
    grammar: Callable[[], Language]  # loads the grammar (imports its package on first use)
    definitions: Definitions
    comments: frozenset[str]  # node types that lead a definition: comments, decorators
    filenames: tuple[str, ...] = ()  # lower-case whole file names: ("gemfile",)
    # For a detected (not given) language: (path, text) -> the language to parse it as.
    refine: Callable[[str, str], str] | None = None


def tree_sitter_grammar(package: str, function: str = "language") -> Callable[[], Language]:
    """The loader of the grammar in `package` (a `tree-sitter-<lang>` wheel's module), which
    imports it only when called: `tree_sitter_grammar("tree_sitter_php", "language_php")`."""

    def load() -> Language:
        from tree_sitter import Language

        return Language(getattr(importlib.import_module(package), function)())

    return load


def end_row(node: Node) -> int:
    """The last row a node occupies (a node ending at column 0 ends on the row before)."""
    end = node.end_point
    if end.column == 0 and end.row > node.start_point.row:
        return end.row - 1
    return end.row


def text_of(node: Node | None) -> str | None:
    if node is None:
        return None
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else None


def name_of(node: Node, field: str = "name") -> str | None:
    return text_of(node.child_by_field_name(field))


def dotted(name: str | None) -> str | None:
    """`a::b::C` / `App\\Auth` -> `a.b.C` / `App.Auth`."""
    if name is None:
        return None
    return name.replace("::", ".").replace("\\", ".").strip(".") or None


def split_qualified(name: str | None) -> tuple[str | None, str | None]:
    """`A::B::f` -> ("A.B", "f"); `f` -> (None, "f")."""
    qualified = dotted(name)
    if qualified is None or "." not in qualified:
        return None, qualified
    qual, _, last = qualified.rpartition(".")
    return qual, last
