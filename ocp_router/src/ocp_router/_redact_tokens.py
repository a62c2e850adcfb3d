"""Secrets `redact` recognises by their own shape wherever they stand: provider tokens by
prefix (`TOKEN_PATTERNS` of _redact_shapes.py; _redact_scan.py's gates let a text that holds
none skip them), Discord bot tokens and a GCP service account's private key.

A token that stands alone before may have a word glued after it (`see <AKIA...>x.txt`,
`<hf_...>_notes`): its closing boundary is then not asked for, if what follows is a word
of three letters or more, or letters before a file's extension; digits are more random data.
A letter or two (`<token>q`) end a token only where they cannot be more of it: after a prefix
no word ends in and no name holds (_redact_glued.py's: `AKIA...ab`), after a body of fixed
length a short prefix of Groq's or npm's starts (`gsk_<52>ab`), or where the token's own
alphabet holds no such letter (lower case after AWS's upper-case body, `q` after hex); else
they are read as a longer name or blob. A routable GitLab token keeps its .<version><crc> tail
when a word is glued to it.
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
from ocp_router._redact_glued import GLUED_PREFIX_RE, glued_hits
from ocp_router._redact_shapes import (
    TOKEN_CHARS,
    TOKEN_PATTERNS,
    TokenPattern,
    loose_regex,
    random_body,
)
from ocp_router._redact_split import split_hits
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
    yield from split_hits(text, tokens_at_start)


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
    glued after it; 0 if none is. A word, or a letter or two that cannot be more of the token
    (`_stray_letters`); not digits (more random data: a blob), unless a file's extension
    follows (`x.txt`)."""
    start, end = m.start() - p.back, m.end()
    run = end
    limit = min(len(text), end + GLUED_RUN)
    while run < limit and text[run] in TOKEN_CHARS:
        run += 1
    word = _GLUED_AFTER_RE.match(text, end)
    token = text[start:end]
    if (word is None or word.end() != run) and not _stray_letters(text, start, token, run):
        return 0
    check = p.glued if p.glued and start and text[start - 1] == "_" else p.check
    if check is not None and not check(token):
        return 0
    return end if any(c.isdigit() for c in token) and not wordy(token) else 0


_HEX = frozenset("0123456789abcdefABCDEF")
# Short prefixes before a body of one length in both cases and digits (Groq's 52, npm's 36):
# a letter after the body cannot be more of it, and no identifier or blob starts so (a word
# glued before is ruled out by their own patterns), so `gsk_<52>ab` is the key and `ab`.
# Hugging Face's body has no fixed length: its pattern takes such letters in already.
_FIXED_MIXED_CASE_RE = re.compile(r"gsk_[A-Za-z0-9]{52}|npm_[A-Za-z0-9]{36}")


def _stray_letters(text: str, start: int, token: str, run: int) -> bool:
    """The one or two letters glued after `token` (to `run`) end it: its prefix is one no word
    ends in and no name holds (AKIA, GOCSPX-, ...), or no such letter could be more of its
    body (`NRAA-<hex>q`, `AKIA<upper and digits>ab`). Otherwise (`sk_<48 hex>ab`, an
    alphanumeric body and `q`) they may be the rest of a longer blob or name."""
    end = start + len(token)
    glued = text[end:run]
    if not (1 <= len(glued) <= 2 and glued.isascii() and glued.isalpha()):
        return False
    if GLUED_PREFIX_RE.match(text, start, end) or _FIXED_MIXED_CASE_RE.fullmatch(token):
        return True
    tail = token[-16:]  # the body's alphabet, as far as its last characters show it
    if all(c in _HEX for c in tail):
        return not any(c in _HEX for c in glued)
    return not any(any(t.isupper() if c.isupper() else t.islower() for t in tail) for c in glued)
