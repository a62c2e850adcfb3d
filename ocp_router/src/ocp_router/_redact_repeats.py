"""Where values already found recur in a text: every occurrence of each, overlapping ones too.

Redaction hides a secret wherever it repeats (`redact._echo_hits`), and the index marks where
the values a file names recur in each chunk (ocp_server's index/file_secrets.py). A search of
the text for each value costs their number times its length: 20,000 distinct `.env` passwords
in 580 KB took 6.6 µs a character. With more than a few values, one pass over the text looks
each position's first characters up among the values' instead (a dictionary), then compares
only the values that start so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["PREFIX", "occurrences"]

#: Characters of a value looked up at each position (values this long or longer).
PREFIX = 8
# Up to this many values, a C-speed search of the text for each costs less than the pass
# (about 1 ns a character a value, against about 0.1 µs a character).
_FEW = 32


def occurrences(text: str, values: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(start, value) for every occurrence in `text` of each of `values` (distinct, not
    empty), overlapping ones too; in no set order."""
    values = list(values)
    if len(values) <= _FEW:
        yield from _searched(text, values)
        return
    by_prefix: dict[str, list[str]] = {}
    short: list[str] = []
    for value in values:
        if len(value) < PREFIX:
            short.append(value)  # none come from redaction (_ECHO_MIN); searched for alone
        else:
            by_prefix.setdefault(value[:PREFIX], []).append(value)
    yield from _searched(text, short)
    get = by_prefix.get
    for i in range(len(text) - PREFIX + 1):
        starting = get(text[i : i + PREFIX])
        if starting is not None:
            for value in starting:
                if text.startswith(value, i):
                    yield i, value


def _searched(text: str, values: Iterable[str]) -> Iterator[tuple[int, str]]:
    for value in values:
        i = text.find(value)
        while i >= 0:
            yield i, value
            i = text.find(value, i + 1)
