"""A brief's text, a line at a time: folded onto one line, cut to a cap (redacted whole
first), and its dates."""

from __future__ import annotations

import time
from typing import Final

from ocp_router.redact_names import redact_name_head

__all__ = ["ago", "cap", "one_line", "when"]


def one_line(text: str) -> str:
    return " ".join(text.split())


def cap(text: str, limit: int) -> tuple[str, bool]:
    """One line of at most `limit` characters; True when it was cut."""
    line = one_line(text)
    if len(line) <= limit:
        return line, False
    # redacted whole, then cut: a token cut short here (a row stored before the rule that
    # finds it) is no longer found by the redaction on the way out, and its head went out
    return redact_name_head(line, limit - 1).rstrip() + "…", True


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def ago(seconds: float) -> str:
    """How long ago, in the largest whole unit: "3 weeks ago", "1 day ago", "just now"."""
    for unit, size in _AGES:
        n = int(max(0.0, seconds) // size)
        if n:
            return f"{n} {unit}{'s' * (n != 1)} ago"
    return "just now"


_AGES: Final = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)
