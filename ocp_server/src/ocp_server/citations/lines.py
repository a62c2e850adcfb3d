"""Cited lines as text: splitting, comparing (dedented, trailing blanks dropped), hashing,
and saying in short what changed."""

from __future__ import annotations

import difflib
import hashlib
import textwrap
from collections.abc import Mapping, Sequence

from ocp_router.redact import MARKER_OPEN, redact
from ocp_router.redact_names import redact_name_head
from ocp_server.at_rest import redacted

__all__ = ["content_hash", "diff_summary", "normalized", "split_lines"]


def split_lines(text: str) -> list[str]:
    """Lines as the chunker and editors count them (\\n, \\r\\n and a lone \\r)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def normalized(lines: Sequence[str]) -> str:
    """Dedented, trailing blanks dropped, blank lines at both ends dropped."""
    body = [ln.rstrip() for ln in lines]
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    return textwrap.dedent("\n".join(body))


def content_hash(lines: Sequence[str]) -> str:
    return hashlib.blake2b(normalized(lines).encode(), digest_size=16).hexdigest()


def trimmed(lines: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """`start`..`end` (1-based) without blank lines at either end; unchanged if all blank."""
    s, e = start, end
    while s < e and not lines[s - 1].strip():
        s += 1
    while e > s and not lines[e - 1].strip():
        e -= 1
    return (s, e) if lines[s - 1].strip() else (start, end)


def diff_summary(old: str, new: str, limit: int = 2, known: Mapping[str, str] | None = None) -> str:
    """The first changed lines, `-old` and `+new`, each cut short; redacted (`known`: secrets
    found elsewhere, hidden where they recur)."""
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        text = " ".join(line[1:].split())
        if not text:
            continue
        (removed if line[0] == "-" else added).append(text)
    if not removed and not added:
        return "only blank lines changed"
    shown = [f"-`{_cut(t)}`" for t in removed[:limit]] + [f"+`{_cut(t)}`" for t in added[:limit]]
    more = max(0, len(removed) - limit) + max(0, len(added) - limit)
    tail = f" (+{more} more changed line{'s' * (more != 1)})" if more else ""
    return redact(" ".join(shown) + tail, known).text


def describe_change(old: str, now: str, known: Mapping[str, str] | None = None) -> str:
    """What changed from the kept text to `now`, compared as memory keeps texts (redacted): a
    line with a secret in it has not changed while its secret has not. `known`: the values the
    files of both name as secrets (a cited stretch may only quote one its file names above)."""
    shown = redacted(now, known)
    if shown == old and MARKER_OPEN in old:
        return "only a value that is kept redacted changed"
    return diff_summary(old, shown, known=known)


def _cut(text: str, limit: int = 70) -> str:
    # redacted whole, then cut: a token cut short is no longer found by the redaction after
    return text if len(text) <= limit else redact_name_head(text, limit - 1) + "…"
