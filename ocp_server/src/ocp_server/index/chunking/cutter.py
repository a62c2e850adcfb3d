"""Spans into chunks: trimming blank edges, splitting what is too long, capping characters.

Every way of cutting a file (the syntax walk, markdown headings, plain windows) produces `Span`s,
0-based inclusive line ranges with a symbol, kind and scope; `Cutter.finish` turns them into the
`Chunk`s the index stores. A file nothing else can cut is one `"window"` span, which `finish`
windows into `window_lines`-line pieces: the generic text fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Chunk", "Cutter", "Options", "Span"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A contiguous range of one file's lines, and what it defines."""

    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive
    symbol: str | None  # definition name; markdown: heading text; windows and preamble: None
    kind: str  # "function", "method", "class", ..., "section", "window", "preamble"
    scope: str | None  # dotted enclosing scope ("AuthService", "outer.Inner"); None at top level
    text: str  # lines start_line..end_line joined with "\n" (see the module notes on long lines)
    # a piece of one line longer than a chunk: the character of the line `text` starts at
    # (0-based); None when `text` is whole lines
    line_from: int | None = None


@dataclass(frozen=True, slots=True)
class Options:
    max_lines: int
    min_lines: int
    window: int
    overlap: int


@dataclass(slots=True)
class Span:
    start: int
    end: int
    symbol: str | None
    kind: str
    scope: str | None


# Kinds that are cut into windows when oversized (the others are definitions: balanced parts).
WINDOWED_KINDS = frozenset({"window", "preamble", "section"})


class Cutter:
    """Turns spans into Chunks: trims blank edges, splits oversized spans, caps characters."""

    __slots__ = ("blank", "lines", "opts")

    def __init__(self, lines: list[str], opts: Options) -> None:
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

    def finish(self, spans: list[Span], max_chars: int) -> list[Chunk]:
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
            elif span.kind in WINDOWED_KINDS:
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

    def emit(self, out: list[Chunk], start: int, end: int, span: Span, max_chars: int) -> None:
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
                for at, piece in slices(lines[row], max_chars):
                    out.append(
                        Chunk(row + 1, row + 1, span.symbol, span.kind, span.scope, piece, at)
                    )
                group_start, size = row + 1, 0
                continue
            size += n
        if size:
            self._add(out, group_start, end, span)

    def _add(self, out: list[Chunk], start: int, end: int, span: Span) -> None:
        part = self.trim(start, end)
        if part is not None:
            a, b = part
            text = "\n".join(self.lines[a : b + 1])
            out.append(Chunk(a + 1, b + 1, span.symbol, span.kind, span.scope, text))


def slices(line: str, max_chars: int) -> list[tuple[int, str]]:
    """Consecutive slices of one enormous line, cut after a space or punctuation when possible,
    each with the character it starts at (a blank slice is left out)."""
    pieces: list[tuple[int, str]] = []
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
            pieces.append((pos, piece))
        pos = cut
    return pieces
