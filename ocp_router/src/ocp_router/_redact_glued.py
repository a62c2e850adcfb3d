"""Tokens glued to the word before them in prose and code (`backupghp_<token>`, `keysAKIA...`):
`redact` finds them for the prefixes that no word ends in and no identifier holds, the way
redact_names.py finds them in a name for a longer list.

A token's own pattern may not follow a letter or digit (`_redact_tokens`): most prefixes glued
to a word are that word's tail (`npm_` in `pnpm_`, `sk-` in `disk-`). The prefixes here are
not: over the six development corpora and a site-packages (10,361 files) not one was found
glued to a word with a token's body after it, nor with the shorter prefixes that only names
are read for. As in a name, the body after the prefix must hold a digit and not be made of
words.

Glued before, a token may be glued after too (`keys<AKIA...>x.txt`, a file name): then the
token's closing boundary is not asked for, and what follows its own characters must be a
word (no digit: more random data is a blob, not a token); a word taken into a body of no fixed
length is left out of the judging.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ocp_router._redact_base import Hit
from ocp_router._redact_values import wordy

__all__ = ["GLUED_PREFIX_RE", "glued_hits"]

# Gates that say whether a text holds such a prefix after a letter or digit, each anchored at
# one literal character and checked by lookbehinds, as _redact_scan.py's: a text passes them
# only where `GLUED_PREFIX_RE` (tried at every character of its first-letter class) has
# something to find.
_GLUED_GATES = (
    re.compile(
        r"_(?<=[1ceikoprstu]_)(?:(?<=[A-Za-z0-9]gh[pousr]_)|(?<=[A-Za-z0-9]github_pat_)"
        r"|(?<=[A-Za-z0-9][sr]k_live_)|(?<=[A-Za-z0-9]dop_v1_)|(?<=[A-Za-z0-9]shpat_)"
        r"|(?<=[A-Za-z0-9]lin_api_)|(?<=[A-Za-z0-9]sntry[su]_)|(?<=[A-Za-z0-9]pcsk_)"
        r"|(?<=[A-Za-z0-9]whsec_))"
    ),
    re.compile(
        r"-(?<=[tkabposrecdXKi]-)(?:(?<=[A-Za-z0-9]gl(?:pat|ptt)-)|(?<=[A-Za-z0-9]gl[dr]t-)"
        r"|(?<=[A-Za-z0-9]sk-)(?:ant|or-v1|proj|svcacct|admin)-"
        r"|(?<=[A-Za-z0-9]xox[abposrecd]-)|(?<=[A-Za-z0-9]xapp-)|(?<=[A-Za-z0-9]GOCSPX-)"
        r"|(?<=[A-Za-z0-9]PMAK-)|(?<=[A-Za-z0-9]pypi-)Ag)"
    ),
    re.compile(r"A(?<=[A-Za-z0-9]A)(?:KIA|SIA|Iza|TATT3)"),
)
# The same prefixes, literal first (a leading lookbehind would be tried at every character):
# whether a letter or digit is glued before one is checked on the few matches.
GLUED_PREFIX_RE = re.compile(
    r"gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt)-"  # GitHub, GitLab
    r"|sk-(?:ant|or-v1|proj|svcacct|admin)-|xox[abposrecd]-|xapp-"  # Anthropic, OpenAI, Slack
    r"|A(?:KIA|SIA|Iza|TATT3)|GOCSPX-"  # AWS, Google, Atlassian
    r"|[sr]k_live_|whsec_|pypi-Ag|dop_v1_|shpat_|lin_api_|PMAK-|sntry[su]_|pcsk_"
)
# The most of a text after a glued prefix that its token is looked for in first (most tokens
# with such a prefix are under 200 characters; one that reaches this end is read again whole).
_TAIL = 512
_LONG_TAIL = 8192  # bounds the cost of a text of such prefixes nested in one long word
# What a body must start with to be read: a digit among its first token characters.
_BODY_RE = re.compile(r"[A-Za-z_.\-]{0,80}[0-9]")


def glued_hits(
    text: str,
    tokens_at_start: Callable[[str], Iterator[Hit]],
    glued_after_at_start: Callable[[str, int], Iterator[Hit]],
) -> Iterator[Hit]:
    """The tokens glued to a word in `text`: `tokens_at_start` (the token patterns that can
    start with such a prefix, each tried at the start of the text only) reads each from its
    prefix on, and where it finds none, `glued_after_at_start` reads one glued to the word
    after it too (`keys<AKIA...>x.txt`). Every prefix is read, at a cost bounded by `_TAIL`:
    a real token after any number of decoys is found."""
    if not any(gate.search(text) for gate in _GLUED_GATES):
        return
    last = 0
    for m in GLUED_PREFIX_RE.finditer(text):
        start = m.start()
        if start < last or not start or not text[start - 1].isascii():
            continue
        if not text[start - 1].isalnum() or not _BODY_RE.match(text, m.end()):
            continue
        hits = list(tokens_at_start(text[start : start + _TAIL]))
        if any(h[1] == _TAIL for h in hits):  # a longer token (a GitHub App's JWT) is cut
            hits = list(tokens_at_start(text[start : start + _LONG_TAIL]))
        end = start + max((h[1] for h in hits), default=0)
        body = text[m.end() : end]
        if hits and any(c.isdigit() for c in body) and not wordy(body):
            last = end
            yield start, end, min(h[2] for h in hits)
            continue
        hits = list(glued_after_at_start(text[start : start + _TAIL], m.end() - start))
        if hits:
            last = start + max(h[1] for h in hits)
            yield start, last, min(h[2] for h in hits)
