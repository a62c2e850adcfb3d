"""The memory benchmarks' oracle of cited lines: the lines a citation names, and what "the same
lines" means. Written apart from OCP's own (citations/lines.py), so that the benchmarks check
OCP against a reading of their own; shared by bench_memory.py and memory_sessions.py."""

from __future__ import annotations

import textwrap
from pathlib import Path


def norm(lines: list[str]) -> str:
    """Dedented, trailing blanks dropped, blank lines at both ends dropped."""
    body = [ln.rstrip() for ln in lines]
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    return textwrap.dedent("\n".join(body))


def same_lines(a: list[str], b: list[str]) -> bool:
    return norm(a) == norm(b)


def lines_at(root: Path, citation: str) -> list[str] | None:
    """The lines `path:start-end` names below `root`; None when the file or the lines are gone."""
    path, span = citation.rsplit(":", 1)
    start, end = (int(x) for x in span.split("-"))
    try:
        lines = (root / path).read_text("utf-8").splitlines()
    except OSError:
        return None
    return lines[start - 1 : end] if end <= len(lines) else None
