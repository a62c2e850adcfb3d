"""The syntax walk: parse with tree-sitter, cut along the definitions a `LanguageSpec` names.

Only the top level and the bodies of containers are walked, never function bodies. Grammars are
loaded on first use; parsers are cached per thread (tree-sitter's are not thread-safe).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from ocp_server.index.chunking.cutter import Cutter, Options, Span
from ocp_server.index.chunking.spec import Def, LanguageSpec, Namespace, Result, end_row

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser

__all__ = ["TreeWalker", "parser"]

_languages: dict[str, Language] = {}
_local = threading.local()


def parser(spec: LanguageSpec) -> Parser:
    """This thread's parser for `spec`'s grammar (loading the grammar on first use)."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    name = spec.name
    found = parsers.get(name)
    if found is None:
        from tree_sitter import Parser

        language = _languages.get(name)
        if language is None:
            language = _languages[name] = spec.grammar()
        found = parsers[name] = Parser(language)
    return found


_CLOSER = re.compile(r"[)\]}]|end\s*(?:#.*|[.;)].*)?$|#\s*endif\b|;+$")
_MODIFIER = re.compile(
    r"(?:(?:public|private|protected|internal)(?:\s+slots)?\s*:?|signals\s*:|Q_SLOTS\s*:"
    r"|class\s*<<\s*self|module_function|extend\s+self)$"
)


def _doc_block(node: Node) -> bool:
    text = node.text
    return text is not None and text.startswith(b"/**")


def _join(scope: str | None, name: str | None) -> str | None:
    if not name:
        return scope
    return f"{scope}.{name}" if scope else name


class TreeWalker:
    """One file's walk: definitions become spans, the lines between them preamble spans."""

    def __init__(self, spec: LanguageSpec, lines: list[str], cutter: Cutter, opts: Options) -> None:
        self.spec = spec
        self.lines = lines
        self.cutter = cutter
        self.opts = opts
        self.comments = spec.comments
        self.spans: list[Span] = []
        self.definitions = spec.definitions

    def run(self, text: str) -> list[Span] | None:
        try:
            tree_parser = parser(self.spec)
        except (ImportError, ValueError, OSError):  # grammar missing or incompatible
            return None
        if text.startswith("\ufeff"):
            text = " " + text[1:]
        try:
            tree = tree_parser.parse(text.encode("utf-8", "replace"))
            root = tree.root_node
            flat = self._flatten(root.named_children, in_class=False)
            self._scope(flat, None, 0, len(self.lines) - 1, 0)
        except RecursionError:  # absurdly nested containers
            return None
        return self.spans

    # -- generic walk ----------------------------------------------------------------------

    def _flatten(self, nodes: list[Node], in_class: bool) -> list[tuple[Node, Result]]:
        out: list[tuple[Node, Result]] = []
        for node in nodes:
            result = self.definitions(self, node, in_class)
            if isinstance(result, list):
                out.extend(self._flatten(result, in_class))
            else:
                out.append((node, result))
        return out

    def _lead(self, flat: list[tuple[Node, Result]], i: int, start: int) -> int:
        """First row of the comments/attributes directly above flat[i] (which starts at start).
        A `/** doc block */` right above may stand one blank line away, as JSDoc often does."""
        lead = start
        j = i - 1
        comments = self.comments
        while j >= 0:
            node = flat[j][0]
            if node.type not in comments:
                break
            gap = lead - 1 - end_row(node)  # blank rows between
            if gap > (1 if j == i - 1 and _doc_block(node) else 0):
                break
            row = node.start_point.row
            if j > 0 and end_row(flat[j - 1][0]) >= row:  # trails code on its line
                break
            lead = row
            j -= 1
        return lead

    def _scope(
        self,
        flat: list[tuple[Node, Result]],
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
            if isinstance(result, Namespace):
                current = _join(scope, result.name)
                continue
            assert isinstance(result, Def)
            start = node.start_point.row
            end = end_row(node)
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
        gap: tuple[list[tuple[Node, Result]], int, int],
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
                if end_row(node) - piece + 1 > target:
                    cut = max(piece + 1, self._lead(flat, k, row))
                    self.spans.append(Span(piece, cut - 1, None, "preamble", scope))
                    piece = cut
            self.spans.append(Span(piece, end, None, "preamble", scope))
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
        self.spans.append(Span(start, end, None, "preamble", scope))
        return None

    def _emit(self, node: Node, result: Def, lead: int, end: int, scope: str | None) -> None:
        scope = _join(scope, result.qual)
        if result.members is None:
            self.spans.append(Span(lead, end, result.symbol, result.kind, scope))
            return
        flat = self._flatten(result.members, result.class_like)
        first = next((k for k, (_, r) in enumerate(flat) if isinstance(r, Def)), None)
        if first is None:
            self.spans.append(Span(lead, end, result.symbol, result.kind, scope))
            return
        first_lead = self._lead(flat, first, flat[first][0].start_point.row)
        header_end = max(lead, first_lead - 1)
        first_span = len(self.spans)
        self.spans.append(Span(lead, header_end, result.symbol, result.kind, scope))
        self._scope(flat, _join(scope, result.symbol), header_end + 1, end, first_span)

    def members(self, node: Node, body: Node | None) -> list[Node]:
        """Member candidates of a container: its body's children, plus comments between the
        header and the body (tree-sitter hangs those on the container in Python and Ruby)."""
        if body is None:
            return []
        limit = body.start_byte
        pre = [c for c in node.named_children if c.type in self.comments and c.end_byte <= limit]
        return pre + body.named_children if pre else body.named_children

    def big(self, node: Node) -> bool:
        return end_row(node) - node.start_point.row + 1 >= self.opts.min_lines
