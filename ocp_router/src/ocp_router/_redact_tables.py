"""Secrets `redact` finds in Markdown tables, which notes and summaries use for settings and
credentials: the cell after a secret's name (`| STRIPE_KEY | ... |`), the cells of a column
whose header names one (`| API key |` over `|---|`), and a random value in the value column of
a `| key | value |` table, whatever its row is named (`| stripe | 8f3kQ9x... |`). The
assignment scan calls these where it stops at a secret's name that ends a cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_name_class import classify_name, words_of_name
from ocp_router._redact_phrases import random_by_nature
from ocp_router._redact_values import chosen_password, high_entropy, machine_made

__all__ = ["before_cell_end", "table_hits"]

# Markdown tables: a cell naming a secret, a row's cells, the line under a header.
_NAME_CELL_RE = re.compile(r"[A-Za-z][\w.-]*(?: [A-Za-z][\w.-]*){0,3}")
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")
_SEPARATOR_RE = re.compile(r"[ \t]*\|(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*(?::?-+:?[ \t]*)?\r?")
_CELL_KINDS = {
    "password": "password_assignment",
    "secret": "generic_secret_assignment",
    "generic": "generic_secret_assignment",
}
# `| key | value |`: the rows name settings, any of which may hold a secret.
_VALUE_HEADERS = frozenset({"value", "values"})


def before_cell_end(text: str, end: int) -> bool:
    """The name ending at `end` ends a Markdown table cell (`| API key |`, `| `DB_PASSWORD` |`)."""
    return text[end : end + 8].lstrip(" \t`*").startswith("|")


def _cells(line: str) -> list[str] | None:
    """The cells of a Markdown table line that starts with a pipe, stripped, or None."""
    if not line.lstrip().startswith("|"):
        return None
    return [c.strip() for c in _CELL_SPLIT_RE.split(line)]


def _cell_value(cell: str) -> str:
    return cell.strip("`*'\"")


def table_hits(text: str, start: int, name_end: int) -> Iterator[Hit]:
    """Values a Markdown table ties to a secret's name: the next cell of a row that names it
    (`| STRIPE_KEY | ... |`), and the cells of a column whose header names it (`| API key |`
    over `|---|`). Only a machine-made value, or a chosen password, counts, as in a sentence."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = _line_end(text, name_end)
    cells = _cells(text[line_start:line_end])
    col = len(_CELL_SPLIT_RE.findall(text, line_start, start))  # `\|` is a cell's text
    if cells is None or not 0 < col < len(cells) - 1:
        return
    name = _cell_value(cells[col])
    words = words_of_name(name)
    name_class = classify_name("_".join(words))
    if name_class is None or not _NAME_CELL_RE.fullmatch(name):
        return
    if col + 1 < len(cells) - 1:  # in a row: the name, then its value
        hit = _table_cell_hit(text, line_start, col + 1, words, name_class)
        if hit is not None:
            yield hit
            return
    sep_end = _line_end(text, line_end + 1)
    if line_end == len(text) or not _SEPARATOR_RE.fullmatch(text, line_end + 1, sep_end):
        return
    key_value = (
        words in (("key",), ("keys",))
        and col + 1 < len(cells) - 1
        and _cell_value(cells[col + 1]).lower() in _VALUE_HEADERS
    )
    for row_start in _rows(text, sep_end + 1):  # a header: its column, to the end of the table
        hit = _table_cell_hit(text, row_start, col, words, name_class)
        if hit is not None:
            yield hit
        if key_value and (hit := _key_value_hit(text, row_start, col)) is not None:
            yield hit


def _rows(text: str, row_start: int) -> Iterator[int]:
    """Where each row of a table starts, from `row_start` to the table's end, or to a row
    that is a header of its own (a separator line under it): that header reads its own
    column, so that a text of headers one under another is read once, not once a header."""
    while row_start < len(text) and text[row_start : row_start + 256].lstrip(" \t").startswith("|"):
        end = _line_end(text, row_start)
        if end < len(text) and _SEPARATOR_RE.fullmatch(text, end + 1, _line_end(text, end + 1)):
            return
        yield row_start
        row_start = end + 1


def _key_value_hit(text: str, row_start: int, col: int) -> Hit | None:
    """A random value (mixed case, digits: what the neutral rule takes after `name:`) in a
    `| key | value |` row whose name is not of something random by nature (sha256, id)."""
    s, e = _cell_span(text, row_start, col + 1)
    v = text[s:e]
    if any(c.isspace() for c in v) or not high_entropy(v):
        return None
    ns, ne = _cell_span(text, row_start, col)
    return None if random_by_nature(text[ns:ne]) else (s, e, PRIORITY["high_entropy_string"])


def _pipe(text: str, pos: int) -> int:
    """Where the next cell border (a pipe not escaped) is from `pos`, or -1."""
    m = _CELL_SPLIT_RE.search(text, pos)
    return m.start() if m else -1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _cell_span(text: str, row_start: int, col: int) -> tuple[int, int]:
    """Where the text of cell `col` of the table row at `row_start` is, stripped of blanks
    and quotes; empty when the row has no such cell."""
    s = row_start
    for _ in range(col):
        s = _pipe(text, s) + 1
        if s == 0:
            return row_start, row_start
    e = _pipe(text, s)
    if e < 0 or "\n" in text[s:e]:
        return row_start, row_start
    while s < e and text[s] in " \t":
        s += 1
    while e > s and text[e - 1] in " \t":
        e -= 1
    if e - s >= 2 and text[s] in "`'\"" and text[e - 1] == text[s]:
        s, e = s + 1, e - 1
    return s, e


def _table_cell_hit(
    text: str, row_start: int, col: int, words: tuple[str, ...], name_class: str
) -> Hit | None:
    """The value in cell `col` of the table row at `row_start`, if it is a secret."""
    s, e = _cell_span(text, row_start, col)
    v = text[s:e]
    if not v or any(c.isspace() for c in v):
        return None
    found = chosen_password(v) if name_class == "password" else machine_made(v, words)
    return (s, e, PRIORITY[_CELL_KINDS[name_class]]) if found else None
