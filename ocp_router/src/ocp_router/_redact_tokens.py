"""Secrets `redact` recognises by their own shape wherever they stand: provider tokens by
prefix (`TOKEN_PATTERNS` of _redact_shapes.py; _redact_scan.py's gates let a text that holds
none skip them), Discord bot tokens and a GCP service account's private key.

A token that stands alone before may have a word glued after it (`see <AKIA...>x.txt`,
`<hf_...>_notes`): its closing boundary is then not asked for, if what follows is a word
of three letters or more, or letters before a file's extension; a letter or two (`<token>q`)
is a longer name, digits more random data. A routable GitLab token keeps its
.<version><crc> tail when a word is glued to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router import _redact_scan as _scan
from ocp_router._redact_at_start import (
    GLUED_RUN,
    escaped_hits,
    glued_after_at_start,
    tokens_at_start,
)
from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_glued import glued_hits
from ocp_router._redact_shapes import (
    TOKEN_CHARS,
    TOKEN_PATTERNS,
    TokenPattern,
    loose_regex,
    random_body,
)
from ocp_router._redact_values import is_filler, wordy

__all__ = ["discord_hits", "gcp_hits", "pattern_hits"]

_DISCORD_RE = re.compile(r"\.(?<=[A-Za-z0-9_-]{24}\.)[\w-]{6,7}\.[\w-]{27,40}(?![\w-])")


def discord_hits(text: str) -> Iterator[Hit]:
    """Discord bot tokens: base64 user id (24-28 characters, M/N/O first) . time . HMAC,
    found from the first dot (a leading letter class would be tried at every position)."""
    for m in _DISCORD_RE.finditer(text):
        start = m.start()
        floor = max(0, start - 28)
        while start > floor and text[start - 1] in TOKEN_CHARS:
            start -= 1
        head = text[start : m.start()]
        if start and text[start - 1] in TOKEN_CHARS or head[:1] not in ("M", "N", "O"):
            continue
        if len(head) >= 24 and random_body(head) and random_body(m.group()[1:]):
            yield start, m.end(), PRIORITY["discord_token"]


_GCP_RE = re.compile(r"\"private_key(?:_id)?\"\s*:\s*\"(?P<v>(?:[^\"\\]|\\.)+)\"")


def gcp_hits(text: str) -> Iterator[Hit]:
    for m in _GCP_RE.finditer(text):
        if not is_filler(m.group("v")):
            yield m.start("v"), m.end("v"), PRIORITY["gcp_service_account"]


def pattern_hits(text: str) -> Iterator[Hit]:
    """Every token in `text`, those glued to a word by a prefix no word ends in too
    (_redact_glued.py: its prefixes pass the gates of `may_hold_token` wherever they stand)."""
    if not _scan.may_hold_token(text):
        return
    yield from _token_hits(text)
    yield from glued_hits(text, tokens_at_start, glued_after_at_start)
    yield from escaped_hits(text)


# Each pattern with its loose regex (None: it has no closing lookahead to drop).
_LOOSE = tuple((p, loose_regex(p) if p.group == 0 else None) for p in TOKEN_PATTERNS)
_GLUED_AFTER_RE = re.compile(r"[_-]?(?:[A-Z]?[a-z]{3,}|[A-Za-z]+(?=\.[A-Za-z]))")


def _token_hits(text: str) -> Iterator[Hit]:
    rare = _scan.may_hold_rare_token(text)
    for p, loose in _LOOSE:
        if p.rare and not rare or p.needs and p.needs not in text:
            continue
        prio = PRIORITY[p.kind]
        if loose is None:
            for m in p.regex.finditer(text):
                hit = _judged(p, text, m)
                if hit is not None:
                    yield hit[0], hit[1], prio
            continue
        # Led by the loose regex, the strict one is tried where it matches: the same hits as
        # its finditer, and a token a word is glued after (AKIA<...>x.txt) is seen too.
        pos = 0
        while (lm := loose.search(text, pos)) is not None:
            sm = p.regex.match(text, lm.start())
            if sm is not None:
                pos = sm.end()
                hit = _judged(p, text, sm)
                if hit is not None:
                    yield hit[0], hit[1], prio
                continue
            pos = lm.start() + 1
            end = _word_glued_after(p, text, lm)
            if end:
                pos = end
                yield lm.start() - p.back, end, prio


def _judged(p: TokenPattern, text: str, m: re.Match[str]) -> tuple[int, int] | None:
    start, end = m.span(p.group)
    start -= p.back
    check = p.glued if p.glued and start and text[start - 1] == "_" else p.check
    return (start, end) if check is None or check(text[start:end]) else None


def _word_glued_after(p: TokenPattern, text: str, m: re.Match[str]) -> int:
    """Where the token `m` (its regex's closing boundary not asked for) ends when a word is
    glued after it; 0 if none is. A word, not a letter or two (`<token>q`: a longer name or
    data) nor digits (more random data: a blob), unless a file's extension follows (`x.txt`)."""
    start, end = m.start() - p.back, m.end()
    run = end
    limit = min(len(text), end + GLUED_RUN)
    while run < limit and text[run] in TOKEN_CHARS:
        run += 1
    word = _GLUED_AFTER_RE.match(text, end)
    if word is None or word.end() != run:
        return 0
    token = text[start:end]
    check = p.glued if p.glued and start and text[start - 1] == "_" else p.check
    if check is not None and not check(token):
        return 0
    return end if any(c.isdigit() for c in token) and not wordy(token) else 0
