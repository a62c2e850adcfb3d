"""Counts said in words: `1 file`, `2 files`. One definition for every line a user or a model
reads ("1 files indexed", "1 tools offered" and "the file has 1 lines" were said before)."""

from __future__ import annotations

__all__ = ["counted", "per_second"]


def counted(n: int, one: str, many: str | None = None) -> str:
    """`n` things: `1 tool`, `2 tools`, `1,200 files`; `many` defaults to `one` and an s."""
    return f"{n:,} {one if n == 1 else (many if many is not None else one + 's')}"


def per_second(rate: float, one: str, many: str | None = None) -> str:
    """A rate: `850 files/s`, `1 file/s`, `0.4 files/s` (a slow run under 10 a second read
    "0 files/s" in whole numbers)."""
    figure = f"{rate:,.0f}" if rate >= 9.95 else f"{rate:.1f}".removesuffix(".0")
    return f"{figure} {one if figure == '1' else (many if many is not None else one + 's')}/s"
