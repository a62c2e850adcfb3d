"""The token patterns tried at one place of a text: where a prefix is glued to a word
(_redact_glued.py, redact_names.py) and right after an escape (`\\n`, `%22`). Each regex is
tried anchored there, among the few a token starting with that character could match
(an index of `TOKEN_PATTERNS` by first literal), so a prefix that starts no token costs a few
short matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_shapes import TOKEN_CHARS, TOKEN_PATTERNS, TokenPattern, loose_regex
from ocp_router._redact_values import wordy

__all__ = ["GLUED_RUN", "escaped_hits", "glued_after_at_start", "tokens_at_start"]


def _first_literal(p: TokenPattern) -> str:
    """The character a match of `p` has at `p.back` (every regex starts with a literal; the
    Telegram one with digits, which no glued prefix starts with: "" keeps it)."""
    return "" if p.regex.pattern.startswith("(") else p.regex.pattern[0]


# The patterns a token starting at a text's first character could match, by `back` and the
# character found there: a glued prefix is tried against its own few, not against all.
_BY_START: dict[tuple[int, str], tuple[TokenPattern, ...]] = {}
for _p in TOKEN_PATTERNS:
    if _p.group == 0:
        _key = (_p.back, _first_literal(_p))
        _BY_START[_key] = (*_BY_START.get(_key, ()), _p)
_BACKS = sorted({back for back, _ in _BY_START})
# An escape that ends in a letter or digit: `\n` in JSON or a log line, `%22` in a URL. The
# token after one stands alone (`"line\nhf_..."`), though its pattern sees a letter before.
# Only escapes followed by a character a token may start with (a pattern's first literal,
# a hex digit for the hex-led shapes, `s`/`r` for sk_live_; not an Azure client secret's,
# any character 4 before its `Q~`) and 14 more without a space or quote (the shortest token,
# Slack's, is 15 characters) are read: most escapes start lines of words.
_TOKEN_FIRST = "".join(
    sorted({c for back, c in _BY_START if back == 0} | set("0123456789abcdefrs"))
)
_TOKEN_AHEAD = "(?=[" + re.escape(_TOKEN_FIRST) + r"][^\s\"'`<>\\,;()]{14})"
# One regex per escape character: led by a literal, each is a fast search (an alternation
# would be tried at every character).
_ESCAPE_RES = (
    ("\\", re.compile(r"\\[ntr]" + _TOKEN_AHEAD)),
    ("%", re.compile(r"%[0-9A-Fa-f]{2}" + _TOKEN_AHEAD)),
)


# The same patterns without their closing "no token character follows" lookaheads: after a
# prefix glued to a word, a token may be glued to the word after it too (keys<AKIA...>x.txt).
_LOOSE_BY_START: dict[tuple[int, str], tuple[tuple[TokenPattern, re.Pattern[str]], ...]] = {
    key: tuple((p, loose_regex(p) or p.regex) for p in patterns)
    for key, patterns in _BY_START.items()
}
# A word glued after a token whose body has no fixed length is read as part of its body: it
# is judged without the word's letters (a capital, then lower case: `Notes`, `andmore`).
_WORD_TAIL_RE = re.compile(r"[A-Z]?[a-z]{3,}$")
GLUED_RUN = 64  # how far the letters glued after a token are read


def glued_after_at_start(text: str, prefix: int) -> Iterator[Hit]:
    """The tokens that start at `text`'s first character, glued to a word after them as
    well as before (`text` starts at a prefix glued to a word; `prefix` is its length):
    what follows the token's own characters must be letters (a word), not more random data,
    and the token is judged as `tokens_at_start` judges one, plus: its body after the
    prefix holds a digit and is not made of words. Called where `tokens_at_start` found
    none, so a token standing alone is judged once."""
    for back in _BACKS:
        if back >= len(text):
            break
        for p, loose in (
            *_LOOSE_BY_START.get((back, text[back]), ()),
            *_LOOSE_BY_START.get((back, ""), ()),
        ):
            m = loose.match(text, back)
            if not m:
                continue
            end = run = m.end()
            limit = min(len(text), end + GLUED_RUN)
            while run < limit and text[run] in TOKEN_CHARS:
                run += 1
            if end < run:  # glued after a token of fixed length: a word, or more data
                if any(c.isdigit() for c in text[end:run]):
                    continue
                token_end = end
            elif (word := _WORD_TAIL_RE.search(text, prefix, end)) is not None:
                token_end = word.start()  # the match took the glued word in
            else:
                continue  # nothing glued after it: `tokens_at_start` has judged it
            body = text[prefix:token_end]
            if p.check is not None and not p.check(text[:token_end]):
                continue
            if any(c.isdigit() for c in body) and not wordy(body):
                yield 0, end, PRIORITY[p.kind]


def tokens_at_start(text: str) -> Iterator[Hit]:
    """The tokens that start at `text`'s first character: each candidate regex is tried
    there only (anchored), so a prefix that starts no token costs a few short matches (the
    gate of the rare patterns would cost more than they do)."""
    for back in _BACKS:
        if back >= len(text):
            break
        for p in (*_BY_START.get((back, text[back]), ()), *_BY_START.get((back, ""), ())):
            m = p.regex.match(text, back)
            if m and (p.check is None or p.check(text[: m.end()])):
                yield 0, m.end(), PRIORITY[p.kind]


_ESCAPED_TAIL = 512  # most tokens are under 200 characters; a longer one is cut here


def escaped_hits(text: str) -> Iterator[Hit]:
    """The tokens right after an escape (`\\n`, `%22`), each pattern tried there only."""
    for char, regex in _ESCAPE_RES:
        if char not in text:
            continue
        for m in regex.finditer(text):
            start = m.end()
            for s, e, prio in tokens_at_start(text[start : start + _ESCAPED_TAIL]):
                yield start + s, start + e, prio
