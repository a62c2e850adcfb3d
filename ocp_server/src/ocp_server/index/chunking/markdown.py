"""Markdown: one `"section"` chunk per ATX (`## Title`) or setext heading outside fenced code.

`symbol` is the heading text, `scope` the enclosing headings joined with `" > "` (heading text
often contains dots). Text before the first heading is a `"preamble"`; YAML front matter is
skipped when looking for headings. Sections longer than `max_chunk_lines` are windowed by the
cutter and keep their symbol.
"""

from __future__ import annotations

import re

from ocp_server.index.chunking.cutter import Cutter, Span

__all__ = ["markdown_spans"]

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_NOT_PARAGRAPH = re.compile(r" {0,3}(?:[-*+>|]|\d+[.)]|#|<|`{3}|~{3}| {4})")


def markdown_spans(lines: list[str], cutter: Cutter) -> list[Span] | None:
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
    spans: list[Span] = []
    if headings[0][0] > 0:
        spans.append(Span(0, headings[0][0] - 1, None, "preamble", None))
    stack: list[tuple[int, str]] = []
    for i, (start, level, title) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        scope = " > ".join(t for _, t in stack) or None
        end = headings[i + 1][0] - 1 if i + 1 < len(headings) else n - 1
        spans.append(Span(start, end, title or None, "section", scope))
        stack.append((level, title))
    return spans
