"""Secrets in names: a file's path, a session id, a model name, an id an error quotes back.

`redact` reads prose and code, where a token glued to the word before it is most often the
tail of some other identifier: it finds one there only after a prefix that no word ends in
(`backupghp_...`, _redact_glued.py). A name is not prose: its words are glued
(`keysAKIA....txt`, `featurexhf_...`), and a token's prefix that no word holds still starts
a token there. So here, wherever such a prefix follows a letter or digit, the text from it on
is read as `redact` reads a token standing alone; the token's own shape (length, alphabet,
randomness) decides, as it does in text, and the body after the prefix must hold a digit and
not be made of words (`disk-ant-colony-simulation` is no Anthropic key). Only distinctive
prefixes are tried: a short one (`sk-`, `key-`) glued to a word is that word's tail far more
often than a key.
"""

from __future__ import annotations

import hashlib
import logging
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path

from ocp_router._redact_at_start import glued_after_at_start, tokens_at_start
from ocp_router._redact_base import Hit
from ocp_router._redact_plain import plain_text
from ocp_router._redact_values import wordy
from ocp_router.redact import (
    KINDS,
    RedactingFilter,
    Redaction,
    RedactionResult,
    finds_secret,
    marker,
    may_hold_token,
    named_values,
    redact,
)
from ocp_router.redact import SOURCE_DIGEST as TEXT_SOURCE_DIGEST
from ocp_router.redact import SOURCE_TEXTS as TEXT_SOURCE_TEXTS
from ocp_router.redact import _detect as detect  # the hits, without a cache entry per name

__all__ = [
    "GLUED_READ_FACTOR",
    "GLUED_READ_SLACK",
    "HEAD_MARGIN",
    "HEAD_NAMED_READ",
    "NameRedactingFilter",
    "SOURCE_DIGEST",
    "SOURCE_TEXTS",
    "glued_tokens",
    "name_holds_secret",
    "redact_name",
    "redact_name_head",
]

#: The rules `redact_name` runs, as this process imported them: `redact`'s and this module's
#: (an index stores which names it leaves unchanged, under the rules that found so).
SOURCE_TEXTS = (*TEXT_SOURCE_TEXTS, Path(__file__).read_bytes())  # the sources' bytes, read once
SOURCE_DIGEST = hashlib.blake2b(
    TEXT_SOURCE_DIGEST.encode() + SOURCE_TEXTS[-1], digest_size=12
).hexdigest()

#: How much more than it keeps `redact_name_head` reads: a secret that starts in what is kept
#: ends within this (the longest fixed-length token, a GitHub App's ~520 character ghs_ JWT,
#: with room to spare; PEM blocks and open-ended tokens are found from their first part too).
HEAD_MARGIN = 4096
#: How much `redact_name_head` reads at most, in multiples of what it keeps and its margin.
HEAD_READ_FACTOR = 8
#: How far it looks for values a name or phrase tells (`named_values`), which it hides where
#: they repeat in what it keeps: about 0.1 s of ordinary text, up to 2 s of text dense with
#: secrets' names (bench/redact_dense.py; its work is linear in the text).
HEAD_NAMED_READ = 1_000_000

# The prefix first (a leading lookbehind would be tried at every character); whether a letter
# or digit is glued before it is checked on the few matches.
_GLUED_PREFIX_RE = re.compile(
    r"(?:"
    r"gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt)-"  # GitHub, GitLab
    r"|sk-(?:ant|or-v1|proj|svcacct|admin)-|xox[abposrecd]-|xapp-"  # Anthropic, OpenAI, Slack
    r"|A(?:KIA|SIA|BIA|CCA)|AIza|GOCSPX-|ya29\."  # AWS, Google
    r"|hf_|npm_|pypi-Ag|gsk_|[sr]k_(?:live|test|prod)_|whsec_"  # HF, npm, PyPI, Groq, Stripe
    r"|do[por]_v1_|shp(?:at|ca|pa|ss)_|gl(?:c|sa)_|hv[sbr]\.|lin_api_|PMAK-|ATATT3"
    r"|sntry[su]_|pcsk_|xai-|pplx-|eyJ"
    r")"
)

# The stretch of text after a glued prefix its token is looked for in, then, when a token
# reaches its end, a longer one: read to the end of the text from every prefix, a text of
# them costs its length squared (a 50 KB query of decoys took 40 s).
_TAIL = 512
_LONG_TAIL = 8192
#: How much those stretches add up to, in multiples of the text and this, before the rest of
#: the prefixes are judged by their token's shape alone: ordinary text reads far less.
GLUED_READ_FACTOR = 1
GLUED_READ_SLACK = 4 * _LONG_TAIL


def _by_shape(text: str) -> list[Hit]:
    return list(tokens_at_start(text))


def glued_tokens(text: str, hidden: Sequence[tuple[int, int]] = ()) -> list[Redaction]:
    """The tokens in `text` glued to the word before them, in order (`redact` finds none).

    `hidden`: spans already redacted, in order and apart; no token is looked for from a
    prefix inside one (it would overlap what is hidden). Each prefix's stretch is read as
    `redact` reads a text, until the stretches read add up to GLUED_READ_FACTOR times the
    text (and GLUED_READ_SLACK); past that, by the token's shape alone (`tokens_at_start`).
    A text of secrets' names and prefixes one after another (`key: xAIza key: xAIza …`) has
    a prefix every few characters, each read with the 512 after it: up to 150 µs a
    character, where ordinary text costs 0.1 (bench/redact_dense_length.py)."""
    found: list[Redaction] = []
    if not may_hold_token(text):
        return found
    starts = [s for s, _ in hidden]
    budget = GLUED_READ_FACTOR * len(text) + GLUED_READ_SLACK
    for m in _GLUED_PREFIX_RE.finditer(text):
        start = m.start()
        if not start or not text[start - 1].isascii() or not text[start - 1].isalnum():
            continue
        if found and start < found[-1].end:
            continue
        if (i := bisect_right(starts, start)) and start < hidden[i - 1][1]:
            continue
        judge = detect if budget > 0 else _by_shape
        budget -= len(stretch := text[start : start + _TAIL])
        hits = [h for h in judge(stretch) if h[0] == 0]
        if any(h[1] == _TAIL for h in hits):  # a longer token (a GitHub App's JWT) is cut
            budget -= len(stretch := text[start : start + _LONG_TAIL])
            hits = [h for h in judge(stretch) if h[0] == 0]
        if hits:
            end, prio = max(h[1] for h in hits), min(h[2] for h in hits)
            body = text[m.end() : start + end]
            if any(c.isdigit() for c in body) and not wordy(body):
                found.append(Redaction(KINDS[prio], start, start + end))
                continue
        # glued to a word after it too (keysAKIA<...>x.txt): judged without that word
        hits = list(glued_after_at_start(text[start : start + _TAIL], m.end() - start))
        if hits:
            end, prio = max(h[1] for h in hits), min(h[2] for h in hits)
            found.append(Redaction(KINDS[prio], start, start + end))
    return found


def name_holds_secret(text: str) -> bool:
    """`text`, a name, holds a secret: one `redact` finds, or a token glued to a word."""
    return finds_secret(text) or bool(glued_tokens(text))


def redact_name(text: str, known: Mapping[str, str] | None = None) -> RedactionResult:
    """`text`, a name or a caller's value quoted back, redacted as text and for tokens glued
    to a word; every redaction's offsets are in `text`. `known`: as `redact`'s."""
    if not known and plain_text(text):  # neither finds anything in it (_redact_plain.py)
        return RedactionResult(text, ())
    first = redact(text, known)
    spans = [(r.start, r.end) for r in first.redactions]
    glued = [
        g for g in glued_tokens(text, spans) if not any(s < g.end and g.start < e for s, e in spans)
    ]
    if not glued:
        return first
    found = sorted((*first.redactions, *glued), key=lambda r: r.start)
    out, pos = [], 0
    for r in found:
        out += [text[pos : r.start], marker(r.kind)]
        pos = r.end
    out.append(text[pos:])
    return RedactionResult("".join(out), tuple(found))


def redact_name_head(
    text: str, limit: int, margin: int = HEAD_MARGIN, most: int | None = None
) -> str:
    """`redact_name(text).text[:limit]`, reading only about as much of `text` as it keeps:
    read whole as a name, a 400 KB text of glued prefixes costs seconds of CPU.

    The text is cut `margin` past what is kept, so a secret straddling `limit` is read whole;
    where markers shorter than their secrets let the kept part reach into the margin (PEM
    blocks), the cut doubles. The rest is read too, but only for values a name or phrase
    tells (`named_values`, a few regex passes), up to HEAD_NAMED_READ characters (to `most`
    when the caller gives it: an error's echo, read on the event loop): one named only past
    the cut is hidden where it repeats before, as the whole text's redaction would (a token's
    shape finds it wherever it stands).

    It redacts at most `most` characters (HEAD_READ_FACTOR times `limit + margin` unless
    told): a text of secrets one after another (`password=password=…`) is all markers, and the
    cut doubled to the end of it, at up to 60 µs a character then (a 360 KB value an error
    quoted held the server 73 s; such runs cost about 3 µs now, _redact_assignments). Then
    what is kept is what the text up to `most - margin` redacts to, shorter than `limit`."""
    # the named values past the cut are looked for further than the head is read (linear
    # work: a run of names inside each other's values is judged whole, _redact_assignments),
    # unless the caller bounds the read (an error's echo, on the event loop): then as far
    named_end = limit + HEAD_NAMED_READ if most is None else most
    cut = limit + margin
    most = max(cut, most if most is not None else HEAD_READ_FACTOR * cut)
    later = named_values(text[limit:named_end]) if len(text) > cut else {}
    while True:
        head = text[:cut]
        known = {v: kind for v, kind in later.items() if v in head}
        result = redact_name(head, known) if known else redact_name(head)
        if cut >= len(text) or _source_end(result, limit) <= cut - margin:
            return result.text[:limit]
        if cut >= most:
            return result.text[: _shown_before(result, cut - margin)][:limit]
        cut = min(cut * 2, most)


def _shown_before(result: RedactionResult, end: int) -> int:
    """How much of `result.text` the redacted text's first `end` characters became (a
    redaction that starts before `end` is kept whole: its marker)."""
    out = pos = 0
    for r in result.redactions:
        if r.start >= end:
            break
        out += r.start - pos + len(marker(r.kind))
        pos = r.end
    return out + max(0, end - pos)


def _source_end(result: RedactionResult, limit: int) -> int:
    """Where, in the text redacted, the first `limit` characters of `result.text` end."""
    out = pos = 0
    for r in result.redactions:
        if out + r.start - pos >= limit:
            break
        out += r.start - pos + len(marker(r.kind))
        pos = r.end
        if out >= limit:
            return pos
    return pos + limit - out


class NameRedactingFilter(RedactingFilter):
    """`RedactingFilter`, then tokens glued to a word: a log line quotes paths and ids
    (`the database of /srv/projghp_<token> was replaced`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        message = record.getMessage()
        if (found := redact_name(message)).redactions and found.text != message:
            record.msg, record.args = found.text, None
        if record.exc_text:
            record.exc_text = redact_name(record.exc_text).text
        if record.stack_info:
            record.stack_info = redact_name(record.stack_info).text
        return True
