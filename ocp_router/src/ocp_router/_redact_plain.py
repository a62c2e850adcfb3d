"""A word `redact` leaves alone, told without running its detectors: the matched terms a search
lists, a one-word query, a symbol's name. The rules cost about 11 µs of CPU a word (twenty
detectors' fixed cost, then `redact_names.glued_tokens`); this test about 1 µs.

`plain_word(text)` holds when `text` is one run of ASCII letters, digits and ``_`` (no space,
no other character), none of NEEDLES is in it lower-cased, and no token gate matches
(`_redact_scan.may_hold_token`). Then every detector `redact._detectors` runs finds nothing:

- token shapes (`pattern_hits`) and tokens glued to a word (`glued_tokens`): each returns first
  when `may_hold_token` is false;
- `named_hex_hits`, `snyk_hits`, `auth_hits`, `phrase_hits`' SQL ``IDENTIFIED BY``,
  `command_hits`' FreeRDP and SQL*Plus: each starts from a word among NEEDLES ("sourcegraph",
  "relic", "snyk", "bearer", "auth", "curl", "identified", "freerdp", "sqlplus");
- everything a keyword starts (`assignment_hits`' names, `xml_hits`, `gcp_hits`, `prose_hits`,
  netrc lines, `named_after_hits`, the tools `command_hits` finds by "pass"): `KEYWORDS` are
  NEEDLES, so the keyword scan finds no span; salts alone need "_salt", a needle too;
- the rest need a character no such word holds: Discord's "." , ConvertTo-SecureString's and
  every command flag's "-" (`phrase_hits`' command words start from one), .pgpass and
  htdigest lines' ":", a call's "(", a password hash's "$" or "{", a connection string's "@",
  `net use`'s space, "log in"/"sign in"'s space (`sign_in_hits`), a neutral value's ":" or
  "=" (`neutral_hits`).

With no hit there are no repeats to look for and no second pass: the text comes back as it is.

`plain_text(text)` holds for such words apart by spaces and the punctuation of a sentence or a
commit's subject (``. , ; ! ? ' " ` ( ) -``): a search's query, "Fix `approx` for
nested dicts (regression)". Spaces, quotes, ``;``, ``!``, ``?`` and ``,`` start no detector:
every detector above still needs a needle (looked for in the whole text: "new relic" holds
"relic"), a token gate (`may_hold_token` over the whole text, as `pattern_hits` and
`glued_tokens` test it) or a character the set leaves out (":", "=", "@", "$", "{", "/",
"\\", "<", "|", a line break); what a space opens needs one of those too: "log in"/"sign in"
a user and password apart by "/" or ":" (`_redact_prose._CREDS_PAIR_RE`), `net use` a
``\\\\server`` or ``/user:``, 7-Zip's and sqlcmd's switches " /p", WinRAR's " /hp", "X is the
key" a keyword. The three characters of the set a detector can start from are settled by
running that detector itself, only when the text holds one: "." Discord's tokens
(`discord_hits`), "(" a call's secret argument (`call_hits`), "-" a command's flag and
ConvertTo-SecureString (`phrase_hits`, with no password word, as `redact._detectors` calls it
when no keyword occurs).

tests/router/test_redact_plain_words.py checks both verdicts against the rules over the secret
corpus's samples, the words and sentences in them, the redaction tests' literals, the sources'
identifiers, the docs' lines and generated words and sentences; a detector added or widened
must keep it true (or add its needle here).
"""

from __future__ import annotations

import re

from ocp_router._redact_assignments import KEYWORDS
from ocp_router._redact_calls import call_hits
from ocp_router._redact_phrases import phrase_hits
from ocp_router._redact_scan import may_hold_token
from ocp_router._redact_tokens import discord_hits

__all__ = ["NEEDLES", "plain_text", "plain_word"]

#: The words a detector needs (lower-cased) that a run of letters, digits and `_` may hold.
NEEDLES = (
    *KEYWORDS,
    "_salt",
    "auth",
    "bearer",
    "curl",
    "freerdp",
    "identified",
    "relic",
    "snyk",
    "sourcegraph",
    "sqlplus",
)
_WORD_RE = re.compile(r"[A-Za-z0-9_]+")
_NEEDLE_RE = re.compile("|".join(map(re.escape, NEEDLES)))
# Words and the punctuation between them in a sentence (see the module docstring).
_TEXT_RE = re.compile(r"[A-Za-z0-9_ .,;!?'\"`()-]+")


def plain_word(text: str) -> bool:
    """`redact(text)` and `redact_name(text)` would find nothing (see the module docstring);
    False says nothing either way."""
    return (
        _WORD_RE.fullmatch(text) is not None
        and _NEEDLE_RE.search(text.lower()) is None
        and not may_hold_token(text)
    )


def plain_text(text: str) -> bool:
    """`plain_word`'s verdict for words apart by spaces and a sentence's punctuation (see the
    module docstring); False says nothing either way."""
    if _TEXT_RE.fullmatch(text) is None:
        return False
    lowered = text.lower()
    if _NEEDLE_RE.search(lowered) is not None or may_hold_token(text):
        return False
    return not (
        ("." in text and next(discord_hits(text), None) is not None)
        or ("(" in text and next(call_hits(text, lowered), None) is not None)
        or ("-" in text and next(phrase_hits(text, lowered, False), None) is not None)
    )
