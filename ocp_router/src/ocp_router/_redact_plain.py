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
tests/router/test_redact_plain_words.py checks the verdict against the rules over the secret
corpus's samples, the words in them, the sources' identifiers and generated words; a detector
added or widened must keep it true (or add its needle here).
"""

from __future__ import annotations

import re

from ocp_router._redact_assignments import KEYWORDS
from ocp_router._redact_scan import may_hold_token

__all__ = ["NEEDLES", "plain_word"]

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


def plain_word(text: str) -> bool:
    """`redact(text)` and `redact_name(text)` would find nothing (see the module docstring);
    False says nothing either way."""
    return (
        _WORD_RE.fullmatch(text) is not None
        and _NEEDLE_RE.search(text.lower()) is None
        and not may_hold_token(text)
    )
