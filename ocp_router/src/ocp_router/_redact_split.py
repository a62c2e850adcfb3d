"""Tokens split across string literals joined in code: `"ghp_abc" + "def..."` (JavaScript,
Java, Python, C#) and Python's and C's implicit concatenation, on one line or over several
(`("sk-ant-" "api03-...")`). Neither piece alone has a token's shape; joined they do.

Read only in a text where a token's prefix may be (`_redact_scan.may_hold_token`, which the
token scan asks first): the token must run from a word's start in the piece before a seam to
the seam, and its whole shape must match once the pieces are joined (`tokens_at_start`, the
patterns a token starting with that character could match). Then everything from the token's
start to its end in the last piece it reaches is one redaction, seams included, so the code
keeps its outer quotes: `"[REDACTED:github_token]"`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ocp_router._redact_base import Hit
from ocp_router._redact_shapes import TOKEN_CHARS

__all__ = ["split_hits"]

# A closing quote, then `+` and/or a line break (a line may end in `+` or start with it),
# then an opening quote of the same kind: two literals joined. Spaces alone join them too
# (Python, C); a quote right after a quote is an empty string, not a seam.
# One regex a quote kind, each starting with its literal: the engine skips to it (a class of
# both would be tried at every character of a JSON file).
_GAP = r"(?:[ \t]*\+[ \t]*(?:\r?\n[ \t]*)?|[ \t]*\r?\n[ \t]*(?:\+[ \t]*)?|[ \t]+)"
_SEAMS = {q: re.compile(f"{q}{_GAP}{q}") for q in "\"'"}
_PIECE = 600  # the most of a piece read (a token is under 200 characters; JWTs reach 520)
_PIECES = 8  # the most pieces one token is read across


def split_hits(text: str, tokens_at_start: Callable[[str], Iterator[Hit]]) -> Iterator[Hit]:
    for q, seams in _SEAMS.items():
        if q in text:
            yield from _split(text, q, seams, tokens_at_start)


def _split(
    text: str, q: str, seams: re.Pattern[str], tokens_at_start: Callable[[str], Iterator[Hit]]
) -> Iterator[Hit]:
    last = 0
    for m in seams.finditer(text):
        seam = m.start()
        if seam < last:
            continue
        opening = text.rfind(q, max(0, seam - _PIECE), seam)
        if opening < 0 or "\n" in text[opening:seam]:
            continue
        start = seam
        while start > opening + 1 and text[start - 1] in TOKEN_CHARS:
            start -= 1
        if start == seam or start > opening + 1 and text[start - 1].isalnum():
            continue
        # the pieces, as (start in text, end in text), joined until one does not end at a seam
        pieces = [(start, seam)]
        after = m.end()
        while len(pieces) < _PIECES:
            closing = text.find(q, after, after + _PIECE)
            if closing < 0 or "\n" in text[after:closing]:
                break
            pieces.append((after, closing))
            following = seams.match(text, closing)
            if following is None:
                break
            after = following.end()
        if len(pieces) < 2:
            continue
        joined = "".join(text[s:e] for s, e in pieces)
        hits = list(tokens_at_start(joined))
        if not hits:
            continue
        end = max(e for _, e, _ in hits)
        if end <= seam - start:
            continue  # the token ends in the first piece: the token scan finds it there
        # the token's end in the joined text, back in `text`
        for s, e in pieces:
            if end <= e - s:
                last = s + end
                break
            end -= e - s
        yield start, last, min(p for _, _, p in hits)
