"""Cut a source file into chunks for the lexical (FTS5) workspace index.

A chunk is a contiguous range of lines with an optional definition name. The agent asks a
question, the index answers with a chunk, and the chunk's `symbol`, `kind`, `scope` and line range
tell it *what* it is looking at and *where*.

How a file is cut, by kind:

* **Code in one of the tree-sitter languages** (`registry.SPECS`) is parsed with
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
  - What counts as a definition (kind) is each language module's `definitions` function,
    listed in its docstring: `python.py`, `javascript.py` (JS/TS/TSX), `c_family.py`
    (C/C++/C#/Java), `go.py`, `rust.py`, `ruby.py`, `php.py`. `spec.py` is the interface they
    implement, `registry.py` finds them, `walker.py` is the walk above and `cutter.py` the
    splitting and the window fallback.

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
line, each with `line_from`, the character of the line it starts at (a blank slice is left
out), so no chunk's text is longer than `max_chunk_chars`.

Lines are split on `"\\n"`, `"\\r\\n"` and a lone `"\\r"` (as editors and git count them), so CRLF
files get the same line numbers as LF ones and `text` never contains `"\\r"`.
"""

from __future__ import annotations

from ocp_server.index import languages
from ocp_server.index.chunking.cutter import Chunk, Cutter, Options, Span
from ocp_server.index.chunking.markdown import markdown_spans
from ocp_server.index.chunking.registry import SPECS
from ocp_server.index.chunking.walker import TreeWalker

__all__ = ["Chunk", "MAX_CHUNK_CHARS", "chunk_text"]

#: Default cap on the characters in one chunk's text.
MAX_CHUNK_CHARS = 8192
#: Files larger than this are windowed rather than parsed (generated code, bundles, dumps).
MAX_PARSE_CHARS = 1_000_000
#: A file whose longest line is longer than this and is over a quarter of the file is treated as
#: minified or data and windowed rather than parsed.
MINIFIED_LINE_CHARS = 4096


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

    opts = Options(max_chunk_lines, min_chunk_lines, window_lines, window_overlap)
    cutter = Cutter(lines, opts)
    lang = language if language is not None else languages.detect_language(path)
    spec = SPECS.get(lang) if lang is not None else None
    if spec is not None and language is None and spec.refine is not None:
        spec = SPECS[spec.refine(path, text)]

    spans: list[Span] | None = None
    if spec is not None:
        if _parsable(text, lines):
            spans = TreeWalker(spec, lines, cutter, opts).run(text)
    elif lang == "markdown":
        spans = markdown_spans(lines, cutter)
    if spans is None:
        spans = [Span(0, len(lines) - 1, None, "window", None)]

    return cutter.finish(spans, max_chunk_chars)


def _parsable(text: str, lines: list[str]) -> bool:
    if len(text) > MAX_PARSE_CHARS:
        return False
    longest = max(map(len, lines))
    return not (longest > MINIFIED_LINE_CHARS and longest * 4 > len(text))
