"""Cut a source file into chunks for the lexical (FTS5) workspace index.

A chunk is a contiguous range of lines with an optional definition name. The agent asks a
question, the index answers with a chunk, and the chunk's `symbol`, `kind`, `scope` and line range
tell it *what* it is looking at and *where*.

How a file is cut, by kind:

* **Code in one of the twelve grammars** (see `languages.SYNTAX_LANGUAGES`) is parsed with
  tree-sitter and cut along definitions. Only the top level and the bodies of *containers*
  (classes, structs, interfaces, traits, impls, enums, modules and namespaces) are walked, never
  function bodies, so the cost is a parse plus a few dozen node visits.

  - A definition chunk starts at its leading comments, doc comments, decorators and attributes
    (comment siblings directly above it, with no blank line between and not trailing code on
    their own line; a `/** doc block */` may stand one blank line above, as JSDoc often does)
    and ends at its last line. Python docstrings are inside the body anyway.
  - A container that has member definitions (methods, nested types) gets a *header* chunk from
    its first leading line up to just before its first member (so a class's chunk holds its
    signature, docstring and fields however many methods follow) and every member gets its own
    chunk with `scope` = the container's dotted path (`"Outer.Inner"`). A container without
    member definitions (a struct, an enum, an interface of signatures, a small data class) is one
    chunk. Bodiless members (abstract/interface method signatures, C++ prototypes, properties)
    stay in the container's text.
  - Lines between definitions (imports, constants, small statements, fields declared between
    methods) are gathered into `"preamble"` chunks: consecutive such lines form one chunk, scoped
    to the enclosing container (None at top level). Runs that are only closing delimiters
    (`}`, `end`, `#endif`, `})(jQuery);`) are appended to the chunk before them, and access
    modifier lines (`public:`, `private`, `class << self`) are prepended to the member after
    them, instead of becoming one-line chunks.
  - Top-level assignments (Python, JS/TS, Go, Rust consts) that span at least
    `min_chunk_lines` lines become `"constant"` chunks named after the variable; shorter ones
    merge into the preamble.
  - A definition longer than `max_chunk_lines` is cut into consecutive parts of at most
    `max_chunk_lines` lines (balanced, preferring blank lines as cut points) overlapping by
    `min(window_overlap, max_chunk_lines // 4)` lines; every part keeps symbol, kind and scope.
    A preamble run longer than `max_chunk_lines` is cut at statement boundaries (a statement
    keeps its leading comments) into pieces of about `window_lines` lines, so top-level test
    calls or script steps stay whole; a piece still longer than `max_chunk_lines` (one huge
    statement) is line-windowed.
  - Syntax errors are tolerated: tree-sitter recovers and the walk treats ERROR nodes as
    transparent, so the definitions it still recognises are chunked and the rest is preamble.

  What counts as a definition (kind), per grammar; containers are marked with *:

  - python: function_definition (function/method), class_definition* (class), both also
    under decorated_definition; big module-level assignments (constant)
  - javascript/typescript/tsx: function_declaration, generator_function_declaration,
    `const f = () => ...` / `function` / `React.memo(...)` declarators and `a.b = function`
    assignments (function), class_declaration* / abstract_class_declaration* (class),
    method_definition and arrow-valued class fields (method), interface_declaration
    (interface), type_alias_declaration (type), enum_declaration (enum), internal_module* /
    module* (module); export_statement and ambient_declaration are unwrapped, a file-wide IIFE
    is walked into
  - go: function_declaration (function), method_declaration (method, scope = receiver type),
    type_declaration (struct/interface/type), big const/var declarations (constant)
  - rust: function_item (function/method), struct_item / union_item (struct), enum_item
    (enum), type_item (type), trait_item* (trait), impl_item* (impl, symbol = the type),
    mod_item* (module), macro_definition (macro), big const/static items (constant)
  - java: class_declaration* / record_declaration* (class), interface_declaration* /
    annotation_type_declaration* (interface), enum_declaration* (enum), method_declaration
    with a body, constructor_declaration, compact_constructor_declaration (method)
  - c/cpp: function_definition (function; method inside a class or when named `A::f`),
    struct/union/class_specifier* with a body (struct/class), enum_specifier (enum), typedefs
    of those, template_declaration (unwrapped), namespace_definition* (module); preprocessor
    conditionals and `extern "C"` blocks are walked into
  - csharp: class/record/struct/interface declarations* (class/struct/interface),
    enum_declaration (enum), delegate_declaration (type), method/constructor/destructor/
    operator declarations with a body (method), namespace_declaration* and
    file_scoped_namespace_declaration (module / scope)
  - ruby: class* (class), module* (module), method (method; function at top level),
    singleton_method (method); `class << self` bodies belong to the enclosing class
  - php: class_declaration* (class), interface_declaration* (interface), trait_declaration*
    (trait), enum_declaration* (enum), method_declaration with a body (method),
    function_definition (function), namespace_definition (module, or scope for the statement
    form)

* **Markdown** is cut at ATX (`## Title`) and setext headings outside fenced code: one
  `"section"` chunk per heading, `symbol` = heading text, `scope` = the enclosing headings joined
  with `" > "` (heading text often contains dots). Text before the first heading is a
  `"preamble"`; sections longer than `max_chunk_lines` are windowed and keep their symbol.

* **Everything else** (unknown languages, plain-text kinds, files too big or too minified to
  parse, grammars that fail to load): windows of `window_lines` lines overlapping by
  `window_overlap`; a last window that would add fewer than `min_chunk_lines` new lines is
  folded into the one before it.

Invariants (tested as properties): every non-blank line of the file is inside at least one
chunk; `1 <= start_line <= end_line`; no chunk starts or ends on a blank line; and `text` is
exactly lines `start_line..end_line` joined with `"\\n"` -- except when those lines exceed
`max_chunk_chars` characters, in which case the chunk is cut into line groups, and a single line
longer than that (minified code, embedded data) into consecutive character slices of that one
line, so no chunk's text is longer than `max_chunk_chars`.

Lines are split on `"\\n"`, `"\\r\\n"` and a lone `"\\r"` (as editors and git count them), so CRLF
files get the same line numbers as LF ones and `text` never contains `"\\r"`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from ocp_server.index.languages import SYNTAX_LANGUAGES, detect_language

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser

__all__ = ["Chunk", "MAX_CHUNK_CHARS", "chunk_text"]

#: Default cap on the characters in one chunk's text.
MAX_CHUNK_CHARS = 8192
#: Files larger than this are windowed rather than parsed (generated code, bundles, dumps).
MAX_PARSE_CHARS = 1_000_000
#: A file whose longest line is longer than this and is over a quarter of the file is treated as
#: minified or data and windowed rather than parsed.
MINIFIED_LINE_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Chunk:
    """A contiguous range of one file's lines, and what it defines."""

    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive
    symbol: str | None  # definition name; markdown: heading text; windows and preamble: None
    kind: str  # "function", "method", "class", ..., "section", "window", "preamble"
    scope: str | None  # dotted enclosing scope ("AuthService", "outer.Inner"); None at top level
    text: str  # lines start_line..end_line joined with "\n" (see the module notes on long lines)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def chunk_text(
    path: str,
    text: str,
    language: str | None = None,
    *,
    max_chunk_lines: int = 150,
    min_chunk_lines: int = 6,
    window_lines: int = 60,
    window_overlap: int = 10,
    max_chunk_chars: int = MAX_CHUNK_CHARS,
) -> list[Chunk]:
    """Cut `text` (the content of `path`) into chunks, in file order.

    `language` overrides detection from `path` (see `languages.detect_language`). Never raises
    on content: unparsable, binary-looking or enormous input is windowed.
    """
    if max_chunk_lines < 1 or min_chunk_lines < 1 or window_lines < 1:
        raise ValueError("max_chunk_lines, min_chunk_lines and window_lines must be >= 1")
    if not 0 <= window_overlap < window_lines:
        raise ValueError("window_overlap must be >= 0 and < window_lines")
    if max_chunk_chars < 64:
        raise ValueError("max_chunk_chars must be >= 64")

    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        return []

    opts = _Options(max_chunk_lines, min_chunk_lines, window_lines, window_overlap)
    cutter = _Cutter(lines, opts)
    lang = language if language is not None else detect_language(path)
    if lang == "c" and language is None and path.endswith(".h") and _CPP_HINT.search(text):
        lang = "cpp"

    spans: list[_Span] | None = None
    if lang in SYNTAX_LANGUAGES and _parsable(text, lines):
        spans = _TreeWalker(lang, lines, cutter, opts).run(text)
    elif lang == "markdown":
        spans = _markdown_spans(lines, cutter)
    if spans is None:
        spans = [_Span(0, len(lines) - 1, None, "window", None)]

    return cutter.finish(spans, max_chunk_chars)


# --------------------------------------------------------------------------------------------
# Spans: line ranges (0-based, inclusive) before they are trimmed, split and turned into Chunks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Options:
    max_lines: int
    min_lines: int
    window: int
    overlap: int


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    symbol: str | None
    kind: str
    scope: str | None


# Kinds that are cut into windows when oversized (the others are definitions: balanced parts).
_WINDOWED_KINDS = frozenset({"window", "preamble", "section"})


class _Cutter:
    """Turns spans into Chunks: trims blank edges, splits oversized spans, caps characters."""

    __slots__ = ("blank", "lines", "opts")

    def __init__(self, lines: list[str], opts: _Options) -> None:
        self.lines = lines
        self.opts = opts
        self.blank = [not line or line.isspace() for line in lines]

    def trim(self, start: int, end: int) -> tuple[int, int] | None:
        blank = self.blank
        while start <= end and blank[start]:
            start += 1
        while end >= start and blank[end]:
            end -= 1
        return (start, end) if start <= end else None

    def finish(self, spans: list[_Span], max_chars: int) -> list[Chunk]:
        out: list[Chunk] = []
        o = self.opts
        for span in spans:
            trimmed = self.trim(span.start, span.end)
            if trimmed is None:
                continue
            start, end = trimmed
            if span.kind == "window":
                parts = self.windows(start, end)
            elif end - start + 1 <= o.max_lines:
                parts = [(start, end)]
            elif span.kind in _WINDOWED_KINDS:
                parts = self.windows(start, end)
            else:
                parts = self.balanced(start, end)
            for a, b in parts:
                part = self.trim(a, b)
                if part is not None:
                    self.emit(out, part[0], part[1], span, max_chars)
        out.sort(key=lambda c: (c.start_line, c.end_line))
        return out

    def windows(self, start: int, end: int) -> list[tuple[int, int]]:
        o = self.opts
        parts: list[tuple[int, int]] = []
        a = start
        while True:
            b = a + o.window - 1
            if b >= end or end - b < o.min_lines:
                parts.append((a, end))
                return parts
            parts.append((a, b))
            a = b + 1 - o.overlap

    def balanced(self, start: int, end: int) -> list[tuple[int, int]]:
        """Parts of at most max_lines lines, near-equal, cut at a blank line when one is close."""
        o = self.opts
        overlap = min(o.overlap, o.max_lines // 4)
        total = end - start + 1
        count = -(-(total - overlap) // (o.max_lines - overlap))
        size = -(-(total - overlap) // count) + overlap
        parts: list[tuple[int, int]] = []
        a = start
        blank = self.blank
        while True:
            if end - a < o.max_lines:  # the rest fits in one part
                parts.append((a, end))
                return parts
            b = a + size - 1
            floor = a + max(overlap + 1, (size * 3) // 4)
            for r in range(b, floor - 1, -1):
                if blank[r]:
                    b = r
                    break
            parts.append((a, b))
            a = b + 1 - overlap

    def emit(self, out: list[Chunk], start: int, end: int, span: _Span, max_chars: int) -> None:
        lines = self.lines
        if end == start:
            text = lines[start]
        else:
            text = "\n".join(lines[start : end + 1])
        if len(text) <= max_chars:
            out.append(Chunk(start + 1, end + 1, span.symbol, span.kind, span.scope, text))
            return
        # Too many characters: groups of whole lines, and slices of any single enormous line.
        count = -(-len(text) // max_chars)
        target = -(-len(text) // count)
        group_start = start
        size = 0
        for row in range(start, end + 1):
            n = len(lines[row]) + 1
            if size and size + n > target:
                self._add(out, group_start, row - 1, span)
                group_start, size = row, 0
            if n - 1 > max_chars:
                for piece in _slices(lines[row], max_chars):
                    out.append(Chunk(row + 1, row + 1, span.symbol, span.kind, span.scope, piece))
                group_start, size = row + 1, 0
                continue
            size += n
        if size:
            self._add(out, group_start, end, span)

    def _add(self, out: list[Chunk], start: int, end: int, span: _Span) -> None:
        part = self.trim(start, end)
        if part is not None:
            a, b = part
            text = "\n".join(self.lines[a : b + 1])
            out.append(Chunk(a + 1, b + 1, span.symbol, span.kind, span.scope, text))


def _slices(line: str, max_chars: int) -> list[str]:
    """Consecutive slices of one enormous line, cut after a space or punctuation when possible."""
    pieces: list[str] = []
    pos = 0
    n = len(line)
    look = min(256, max_chars // 4)
    while pos < n:
        cut = pos + max_chars
        if cut < n:
            best = -1
            for sep in (" ", ";", ",", ")", "}", ">"):
                best = max(best, line.rfind(sep, cut - look, cut))
            if best > pos:
                cut = best + 1
        piece = line[pos:cut]
        if piece.strip():
            pieces.append(piece)
        pos = cut
    return pieces


def _parsable(text: str, lines: list[str]) -> bool:
    if len(text) > MAX_PARSE_CHARS:
        return False
    longest = max(map(len, lines))
    return not (longest > MINIFIED_LINE_CHARS and longest * 4 > len(text))


# A ".h" header that is really C++.
_CPP_HINT = re.compile(
    r"^\s*(?:namespace\b[\w:\s]*\{|template\s*<|class\s+\w+[^;\n]*$|(?:public|private|protected)\s*:)"
    r"|\w::\w",
    re.MULTILINE,
)


# --------------------------------------------------------------------------------------------
# Grammars and parsers (loaded on first use; parsers are per thread, tree-sitter's are not
# thread-safe)
# --------------------------------------------------------------------------------------------

_languages: dict[str, Language] = {}
_local = threading.local()


def _load_language(name: str) -> Language:
    from tree_sitter import Language

    if name == "python":
        import tree_sitter_python

        return Language(tree_sitter_python.language())
    if name == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    if name == "typescript":
        import tree_sitter_typescript

        return Language(tree_sitter_typescript.language_typescript())
    if name == "tsx":
        import tree_sitter_typescript

        return Language(tree_sitter_typescript.language_tsx())
    if name == "go":
        import tree_sitter_go

        return Language(tree_sitter_go.language())
    if name == "rust":
        import tree_sitter_rust

        return Language(tree_sitter_rust.language())
    if name == "java":
        import tree_sitter_java

        return Language(tree_sitter_java.language())
    if name == "c":
        import tree_sitter_c

        return Language(tree_sitter_c.language())
    if name == "cpp":
        import tree_sitter_cpp

        return Language(tree_sitter_cpp.language())
    if name == "csharp":
        import tree_sitter_c_sharp

        return Language(tree_sitter_c_sharp.language())
    if name == "ruby":
        import tree_sitter_ruby

        return Language(tree_sitter_ruby.language())
    if name == "php":
        import tree_sitter_php

        return Language(tree_sitter_php.language_php())
    raise ValueError(f"no grammar for {name!r}")


def _parser(name: str) -> Parser:
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    parser = parsers.get(name)
    if parser is None:
        from tree_sitter import Parser

        language = _languages.get(name)
        if language is None:
            language = _languages[name] = _load_language(name)
        parser = parsers[name] = Parser(language)
    return parser


# --------------------------------------------------------------------------------------------
# The syntax walk
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Def:
    """What a node defines. `members` is set for containers (their member candidates)."""

    kind: str
    symbol: str | None
    qual: str | None = None  # extra scope from the name itself: `A::f`, Go receivers, `def A.f`
    members: list[Node] | None = None
    class_like: bool = False  # functions among the members are "method"s


@dataclass(slots=True)
class _Namespace:
    """A statement namespace (`namespace Foo;`): it scopes the siblings after it."""

    name: str | None


_Result: TypeAlias = "_Def | _Namespace | list[Node] | None"  # list: transparent, splice these

_COMMENTS: dict[str, frozenset[str]] = {
    "python": frozenset({"comment"}),
    "javascript": frozenset({"comment", "decorator"}),
    "typescript": frozenset({"comment", "decorator"}),
    "tsx": frozenset({"comment", "decorator"}),
    "go": frozenset({"comment"}),
    "rust": frozenset({"line_comment", "block_comment", "attribute_item"}),
    "java": frozenset({"line_comment", "block_comment"}),
    "c": frozenset({"comment"}),
    "cpp": frozenset({"comment", "attribute_declaration"}),
    "csharp": frozenset({"comment"}),
    "ruby": frozenset({"comment"}),
    "php": frozenset({"comment"}),
}

_GO_TYPES = {"struct_type": "struct", "interface_type": "interface"}
_C_TRANSPARENT = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef", "ERROR"}
)

_CLOSER = re.compile(r"[)\]}]|end\s*(?:#.*|[.;)].*)?$|#\s*endif\b|;+$")
_MODIFIER = re.compile(
    r"(?:(?:public|private|protected|internal)(?:\s+slots)?\s*:?|signals\s*:|Q_SLOTS\s*:"
    r"|class\s*<<\s*self|module_function|extend\s+self)$"
)


def _doc_block(node: Node) -> bool:
    text = node.text
    return text is not None and text.startswith(b"/**")


def _end_row(node: Node) -> int:
    """The last row a node occupies (a node ending at column 0 ends on the row before)."""
    end = node.end_point
    if end.column == 0 and end.row > node.start_point.row:
        return end.row - 1
    return end.row


def _text(node: Node | None) -> str | None:
    if node is None:
        return None
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else None


def _name(node: Node, field: str = "name") -> str | None:
    return _text(node.child_by_field_name(field))


def _join(scope: str | None, name: str | None) -> str | None:
    if not name:
        return scope
    return f"{scope}.{name}" if scope else name


def _dotted(name: str | None) -> str | None:
    """`a::b::C` / `App\\Auth` -> `a.b.C` / `App.Auth`."""
    if name is None:
        return None
    return name.replace("::", ".").replace("\\", ".").strip(".") or None


def _split_qualified(name: str | None) -> tuple[str | None, str | None]:
    """`A::B::f` -> ("A.B", "f"); `f` -> (None, "f")."""
    dotted = _dotted(name)
    if dotted is None or "." not in dotted:
        return None, dotted
    qual, _, last = dotted.rpartition(".")
    return qual, last


class _TreeWalker:
    def __init__(self, lang: str, lines: list[str], cutter: _Cutter, opts: _Options) -> None:
        self.lang = lang
        self.lines = lines
        self.cutter = cutter
        self.opts = opts
        self.comments = _COMMENTS[lang]
        self.spans: list[_Span] = []
        classify: dict[str, Callable[[Node, bool], _Result]] = {
            "python": self._python,
            "javascript": self._js,
            "typescript": self._js,
            "tsx": self._js,
            "go": self._go,
            "rust": self._rust,
            "java": self._java,
            "c": self._c,
            "cpp": self._c,
            "csharp": self._csharp,
            "ruby": self._ruby,
            "php": self._php,
        }
        self.classify = classify[lang]

    def run(self, text: str) -> list[_Span] | None:
        try:
            parser = _parser(self.lang)
        except (ImportError, ValueError, OSError):  # grammar missing or incompatible
            return None
        if text.startswith("\ufeff"):
            text = " " + text[1:]
        try:
            tree = parser.parse(text.encode("utf-8", "replace"))
            root = tree.root_node
            flat = self._flatten(root.named_children, in_class=False)
            self._scope(flat, None, 0, len(self.lines) - 1, 0)
        except RecursionError:  # absurdly nested containers
            return None
        return self.spans

    # -- generic walk ----------------------------------------------------------------------

    def _flatten(self, nodes: list[Node], in_class: bool) -> list[tuple[Node, _Result]]:
        out: list[tuple[Node, _Result]] = []
        for node in nodes:
            result = self.classify(node, in_class)
            if isinstance(result, list):
                out.extend(self._flatten(result, in_class))
            else:
                out.append((node, result))
        return out

    def _lead(self, flat: list[tuple[Node, _Result]], i: int, start: int) -> int:
        """First row of the comments/attributes directly above flat[i] (which starts at start).
        A `/** doc block */` right above may stand one blank line away, as JSDoc often does."""
        lead = start
        j = i - 1
        comments = self.comments
        while j >= 0:
            node = flat[j][0]
            if node.type not in comments:
                break
            gap = lead - 1 - _end_row(node)  # blank rows between
            if gap > (1 if j == i - 1 and _doc_block(node) else 0):
                break
            row = node.start_point.row
            if j > 0 and _end_row(flat[j - 1][0]) >= row:  # trails code on its line
                break
            lead = row
            j -= 1
        return lead

    def _scope(
        self,
        flat: list[tuple[Node, _Result]],
        scope: str | None,
        lo: int,
        hi: int,
        first_span: int,
    ) -> None:
        """Emit members of one scope and the preamble between them, covering rows lo..hi."""
        cursor = lo
        current = scope
        gap_from = 0  # index in flat of the first node after the previous member
        for i, (node, result) in enumerate(flat):
            if result is None:
                continue
            if isinstance(result, _Namespace):
                current = _join(scope, result.name)
                continue
            assert isinstance(result, _Def)
            start = node.start_point.row
            end = _end_row(node)
            lead = self._lead(flat, i, start)
            gap = (flat, gap_from, i)
            attached = self._gap(cursor, lead - 1, current, first_span, lead, gap)
            if attached is not None:
                lead = min(lead, attached)
            self._emit(node, result, lead, end, current)
            cursor = max(cursor, end + 1)
            gap_from = i + 1
        self._gap(cursor, hi, current, first_span, None, (flat, gap_from, len(flat)))

    def _gap(
        self,
        start: int,
        end: int,
        scope: str | None,
        first_span: int,
        next_lead: int | None,
        gap: tuple[list[tuple[Node, _Result]], int, int],
    ) -> int | None:
        """Rows between members. Returns a new lead for the next member if they attach to it.

        `gap` is (flat, i, j): the statements flat[i:j] lying in these rows. A run longer than
        max_lines is cut at statement boundaries (with their leading comments) into pieces of
        about `window` lines; a single statement longer than that is windowed later.
        """
        trimmed = self.cutter.trim(start, end) if start <= end else None
        if trimmed is None:
            return None
        start, end = trimmed
        if end - start + 1 > self.opts.max_lines:
            flat, first, last = gap
            target = self.opts.window
            piece = start
            for k in range(first, last):
                node = flat[k][0]
                if node.type in self.comments:
                    continue
                row = node.start_point.row
                if row <= piece or row > end:
                    continue
                if _end_row(node) - piece + 1 > target:
                    cut = max(piece + 1, self._lead(flat, k, row))
                    self.spans.append(_Span(piece, cut - 1, None, "preamble", scope))
                    piece = cut
            self.spans.append(_Span(piece, end, None, "preamble", scope))
            return None
        if end - start < 3:
            # Short runs of closing delimiters and access modifiers do not make chunks: closers
            # go to the chunk before, modifiers after the last closer to the member after.
            last_closer = start - 1
            for row in range(start, end + 1):
                line = self.lines[row].strip()
                if not line or _MODIFIER.match(line):
                    continue
                if len(line) <= 80 and _CLOSER.match(line):
                    last_closer = row
                    continue
                break
            else:
                split = last_closer + 1 if next_lead is not None else end + 1
                if split > start:
                    if len(self.spans) > first_span:
                        previous = self.spans[-1]
                        previous.end = max(previous.end, split - 1)
                    elif next_lead is not None:
                        return start
                    else:
                        split = start  # nothing around to attach to: a preamble after all
                if split > end:
                    return None
                if split > start or next_lead is not None:
                    return split
        self.spans.append(_Span(start, end, None, "preamble", scope))
        return None

    def _emit(self, node: Node, result: _Def, lead: int, end: int, scope: str | None) -> None:
        scope = _join(scope, result.qual)
        if result.members is None:
            self.spans.append(_Span(lead, end, result.symbol, result.kind, scope))
            return
        flat = self._flatten(result.members, result.class_like)
        first = next((k for k, (_, r) in enumerate(flat) if isinstance(r, _Def)), None)
        if first is None:
            self.spans.append(_Span(lead, end, result.symbol, result.kind, scope))
            return
        first_lead = self._lead(flat, first, flat[first][0].start_point.row)
        header_end = max(lead, first_lead - 1)
        first_span = len(self.spans)
        self.spans.append(_Span(lead, header_end, result.symbol, result.kind, scope))
        self._scope(flat, _join(scope, result.symbol), header_end + 1, end, first_span)

    def _members(self, node: Node, body: Node | None) -> list[Node]:
        """Member candidates of a container: its body's children, plus comments between the
        header and the body (tree-sitter hangs those on the container in Python and Ruby)."""
        if body is None:
            return []
        limit = body.start_byte
        pre = [c for c in node.named_children if c.type in self.comments and c.end_byte <= limit]
        return pre + body.named_children if pre else body.named_children

    def _big(self, node: Node) -> bool:
        return _end_row(node) - node.start_point.row + 1 >= self.opts.min_lines

    # -- per-language classification -------------------------------------------------------

    def _python(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t == "function_definition":
            return _Def("method" if in_class else "function", _name(node))
        if t == "class_definition":
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("class", _name(node), members=members, class_like=True)
        if t == "decorated_definition":
            inner = node.child_by_field_name("definition")
            return self._python(inner, in_class) if inner is not None else None
        if t == "expression_statement" and not in_class and self._big(node):
            assign = node.named_children[0] if node.named_child_count else None
            if assign is not None and assign.type == "assignment":
                left = assign.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    return _Def("constant", _text(left))
            return None
        if t == "ERROR":
            return node.named_children
        return None

    _JS_FUNCTIONS = frozenset(
        {"arrow_function", "function_expression", "function", "generator_function"}
    )

    def _js_value_kind(self, value: Node | None) -> str | None:
        if value is None:
            return None
        t = value.type
        if t in self._JS_FUNCTIONS:
            return "function"
        if t in ("class", "class_expression"):
            return "class"
        if t == "call_expression":  # React.memo(function ...), forwardRef((p, r) => ...)
            args = value.child_by_field_name("arguments")
            if args is not None and any(a.type in self._JS_FUNCTIONS for a in args.named_children):
                return "function"
        return None

    def _js(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t in ("function_declaration", "generator_function_declaration"):
            return _Def("function", _name(node))
        if t in ("class_declaration", "abstract_class_declaration", "class"):
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("class", _name(node), members=members, class_like=True)
        if t == "method_definition":
            return _Def("method", _name(node))
        if t in ("public_field_definition", "field_definition"):
            if self._js_value_kind(node.child_by_field_name("value")) == "function":
                field = node.child_by_field_name("name") or node.child_by_field_name("property")
                return _Def("method", _text(field))
            return None
        if t == "export_statement":
            inner = node.child_by_field_name("declaration") or node.child_by_field_name("value")
            return self._js(inner, in_class) if inner is not None else None
        if t in ("lexical_declaration", "variable_declaration"):
            declarator = next(
                (c for c in node.named_children if c.type == "variable_declarator"), None
            )
            if declarator is None:
                return None
            name_node = declarator.child_by_field_name("name")
            if name_node is None or name_node.type != "identifier":
                return None
            value = declarator.child_by_field_name("value")
            kind = self._js_value_kind(value)
            if kind == "class" and value is not None:
                members = self._members(value, value.child_by_field_name("body"))
                return _Def("class", _text(name_node), members=members, class_like=True)
            if kind is None:
                kind = "constant" if not in_class and self._big(node) else None
            return _Def(kind, _text(name_node)) if kind is not None else None
        if t == "interface_declaration":
            return _Def("interface", _name(node))
        if t == "type_alias_declaration":
            return _Def("type", _name(node))
        if t == "enum_declaration":
            return _Def("enum", _name(node))
        if t in ("internal_module", "module"):
            name = _name(node)
            if name is not None:
                name = name.strip("'\"`")
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("module", name, members=members)
        if t == "ambient_declaration":
            inner = node.named_children[0] if node.named_child_count else None
            return self._js(inner, in_class) if inner is not None else None
        if t == "expression_statement":
            return self._js_expression(node, in_class)
        if t == "ERROR":
            return node.named_children
        return None

    def _js_expression(self, node: Node, in_class: bool) -> _Result:
        expr = node.named_children[0] if node.named_child_count else None
        while expr is not None and expr.type == "parenthesized_expression":
            expr = expr.named_children[0] if expr.named_child_count else None
        if expr is None:
            return None
        t = expr.type
        if t in ("internal_module", "module"):
            return self._js(expr, in_class)
        if t == "assignment_expression":
            if self._js_value_kind(expr.child_by_field_name("right")) != "function":
                return None
            left = expr.child_by_field_name("left")
            if left is None:
                return None
            if left.type == "member_expression":
                obj = _text(left.child_by_field_name("object"))
                if obj is not None:
                    obj = obj.removesuffix(".prototype")
                    if obj in ("module", "exports", "module.exports", "this", "window"):
                        obj = None
                return _Def("function", _name(left, "property"), qual=obj)
            return _Def("function", _text(left))
        if t == "call_expression":  # an IIFE wrapping the whole file: walk its body
            fn = expr.child_by_field_name("function")
            while fn is not None and fn.type == "parenthesized_expression":
                fn = fn.named_children[0] if fn.named_child_count else None
            if fn is not None and fn.type == "call_expression":  # (function () {...}())
                fn = fn.child_by_field_name("function")
            if fn is not None and fn.type in self._JS_FUNCTIONS:
                body = fn.child_by_field_name("body")
                if body is not None and body.type == "statement_block":
                    return body.named_children
        return None

    def _go(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t == "function_declaration":
            return _Def("function", _name(node))
        if t == "method_declaration":
            return _Def("method", _name(node), qual=self._go_receiver(node))
        if t == "type_declaration":
            for spec in node.named_children:
                if spec.type in ("type_spec", "type_alias"):
                    typ = spec.child_by_field_name("type")
                    kind = _GO_TYPES.get(typ.type, "type") if typ is not None else "type"
                    return _Def(kind, _name(spec))
            return None
        if t in ("const_declaration", "var_declaration") and self._big(node):
            for spec in node.named_children:
                if spec.type in ("const_spec", "var_spec"):
                    return _Def("constant", _name(spec))
            return None
        if t == "ERROR":
            return node.named_children
        return None

    @staticmethod
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
            return _text(typ)
        return None

    def _rust(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t == "function_item":
            return _Def("method" if in_class else "function", _name(node))
        if t in ("struct_item", "union_item"):
            return _Def("struct", _name(node))
        if t == "enum_item":
            return _Def("enum", _name(node))
        if t == "type_item" and not in_class:  # not associated types in impls
            return _Def("type", _name(node))
        if t == "trait_item":
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("trait", _name(node), members=members, class_like=True)
        if t == "impl_item":
            typ = node.child_by_field_name("type")
            while typ is not None and typ.type in ("generic_type", "reference_type"):
                typ = typ.child_by_field_name("type")
            if typ is not None and typ.type == "scoped_type_identifier":
                typ = typ.child_by_field_name("name")
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("impl", _text(typ), members=members, class_like=True)
        if t == "mod_item":
            body = node.child_by_field_name("body")
            if body is None:
                return None
            return _Def("module", _name(node), members=self._members(node, body))
        if t == "macro_definition":
            return _Def("macro", _name(node))
        if t in ("const_item", "static_item") and self._big(node):
            return _Def("constant", _name(node))
        if t in ("foreign_mod_item", "ERROR"):
            body = node.child_by_field_name("body")
            return body.named_children if body is not None else node.named_children
        return None

    def _java(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t in ("class_declaration", "record_declaration"):
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("class", _name(node), members=members, class_like=True)
        if t in ("interface_declaration", "annotation_type_declaration"):
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("interface", _name(node), members=members, class_like=True)
        if t == "enum_declaration":
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("enum", _name(node), members=members, class_like=True)
        if t == "method_declaration":
            if node.child_by_field_name("body") is None:
                return None
            return _Def("method", _name(node))
        if t in ("constructor_declaration", "compact_constructor_declaration"):
            return _Def("method", _name(node))
        if t in ("enum_body_declarations", "ERROR"):
            return node.named_children
        return None

    _C_TYPES = {
        "struct_specifier": "struct",
        "union_specifier": "struct",
        "class_specifier": "class",
        "enum_specifier": "enum",
    }

    def _c(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t == "function_definition":
            if in_class and node.child_by_field_name("body") is None:
                return None  # `= default;`, `= delete;`
            declarator = self._c_declarator(node.child_by_field_name("declarator"))
            qual, name = _split_qualified(declarator)
            method = qual is not None or in_class
            return _Def("method" if method else "function", name, qual=qual)
        kind = self._C_TYPES.get(t)
        if kind is not None:
            body = node.child_by_field_name("body")
            if body is None:
                return None
            qual, name = _split_qualified(_name(node))
            if kind == "enum":
                return _Def(kind, name, qual=qual)
            return _Def(kind, name, qual=qual, members=self._members(node, body), class_like=True)
        if t == "type_definition":
            typ = node.child_by_field_name("type")
            kind = self._C_TYPES.get(typ.type) if typ is not None else None
            if typ is None or kind is None or typ.child_by_field_name("body") is None:
                return None
            name = _text(node.child_by_field_name("declarator")) or _name(typ)
            return _Def(kind, name)
        if t == "template_declaration":
            for child in node.named_children:
                if child.type in ("function_definition", "class_specifier", "struct_specifier"):
                    return self._c(child, in_class)
            return None
        if t == "namespace_definition":
            name = _dotted(_name(node))
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("module", name, members=members)
        if t == "linkage_specification":
            body = node.child_by_field_name("body")
            if body is None:
                return None
            return body.named_children if body.type == "declaration_list" else [body]
        if t in _C_TRANSPARENT:
            return node.named_children
        return None

    @staticmethod
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
                return _text(node)
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

    def _csharp(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t in self._CS_FUNCTIONS:
            if node.child_by_field_name("body") is None:
                return None
            return _Def("method" if in_class else "function", _name(node) or "operator")
        kind = self._CS_TYPES.get(t)
        if kind is not None:
            members = self._members(node, node.child_by_field_name("body"))
            return _Def(kind, _name(node), members=members, class_like=True)
        if t == "enum_declaration":
            return _Def("enum", _name(node))
        if t == "delegate_declaration":
            return _Def("type", _name(node))
        if t == "namespace_declaration":
            members = self._members(node, node.child_by_field_name("body"))
            return _Def("module", _name(node), members=members)
        if t == "file_scoped_namespace_declaration":
            return _Namespace(_name(node))
        if t in ("declaration_list", "ERROR"):
            return node.named_children
        return None

    def _ruby(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t == "method":
            return _Def("method" if in_class else "function", _name(node))
        if t == "singleton_method":
            obj = node.child_by_field_name("object")
            qual = None if obj is None or obj.type == "self" else _dotted(_text(obj))
            return _Def("method", _name(node), qual=qual)
        if t in ("class", "module"):
            qual, name = _split_qualified(_name(node))
            members = self._members(node, node.child_by_field_name("body"))
            return _Def(t, name, qual=qual, members=members, class_like=True)
        if t == "singleton_class":  # class << self: its methods belong to the enclosing class
            return self._members(node, node.child_by_field_name("body"))
        if t in ("body_statement", "ERROR"):
            return node.named_children
        return None

    _PHP_TYPES = {
        "class_declaration": "class",
        "interface_declaration": "interface",
        "trait_declaration": "trait",
        "enum_declaration": "enum",
    }

    def _php(self, node: Node, in_class: bool) -> _Result:
        t = node.type
        if t == "method_declaration":
            if node.child_by_field_name("body") is None:
                return None
            return _Def("method", _name(node))
        if t == "function_definition":
            return _Def("method" if in_class else "function", _name(node))
        kind = self._PHP_TYPES.get(t)
        if kind is not None:
            members = self._members(node, node.child_by_field_name("body"))
            return _Def(kind, _name(node), members=members, class_like=True)
        if t == "namespace_definition":
            name = _dotted(_name(node))
            body = node.child_by_field_name("body")
            if body is None:
                return _Namespace(name)
            return _Def("module", name, members=self._members(node, body))
        if t in ("compound_statement", "ERROR"):
            return node.named_children
        return None


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_NOT_PARAGRAPH = re.compile(r" {0,3}(?:[-*+>|]|\d+[.)]|#|<|`{3}|~{3}| {4})")


def _markdown_spans(lines: list[str], cutter: _Cutter) -> list[_Span] | None:
    headings: list[tuple[int, int, str]] = []  # (row, level, text)
    blank = cutter.blank
    fence: str | None = None
    row = 0
    n = len(lines)
    if lines[0].rstrip() == "---":  # YAML front matter
        for r in range(1, min(n, 200)):
            if lines[r].rstrip() in ("---", "..."):
                row = r + 1
                break
    while row < n:
        line = lines[row]
        match = _FENCE.match(line)
        if fence is not None:
            if (
                match is not None
                and match.group(1)[0] == fence[0]
                and len(match.group(1)) >= len(fence)
            ):
                fence = None
        elif match is not None:
            fence = match.group(1)
        elif line.lstrip(" ").startswith("#"):
            atx = _ATX.match(line)
            if atx is not None:
                headings.append((row, len(atx.group(1)), (atx.group(2) or "").strip()))
        elif (
            row > 0
            and not blank[row - 1]
            and _SETEXT.match(line)
            and not _NOT_PARAGRAPH.match(lines[row - 1])
            and (not headings or headings[-1][0] != row - 1)
            and not _SETEXT.match(lines[row - 1])
        ):
            level = 1 if line.strip()[0] == "=" else 2
            headings.append((row - 1, level, lines[row - 1].strip()))
        row += 1
    if not headings:
        return None
    spans: list[_Span] = []
    if headings[0][0] > 0:
        spans.append(_Span(0, headings[0][0] - 1, None, "preamble", None))
    stack: list[tuple[int, str]] = []
    for i, (start, level, title) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        scope = " > ".join(t for _, t in stack) or None
        end = headings[i + 1][0] - 1 if i + 1 < len(headings) else n - 1
        spans.append(_Span(start, end, title or None, "section", scope))
        stack.append((level, title))
    return spans
