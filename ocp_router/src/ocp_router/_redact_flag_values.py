"""Values `redact` reads after a secret's name in two more shapes: a command-line flag's
(`--password value`) and a triple-quoted string's (TOML, Python)."""

from __future__ import annotations

import re

from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_commands import flag_named_in_sentence
from ocp_router._redact_name_class import words_of_name
from ocp_router._redact_values import assignment_kind, is_reference, plain_word

__all__ = ["cli_value", "triple_quoted_value"]

# openssl's password arguments: `pass:X` is the password, the others say where it is.
_OPENSSL_SOURCE_RE = re.compile(r"(?:env|file|fd):\S|stdin\Z")

# A one-letter flag with its value glued on (7z's -pXk3pw, -p3xk9pw), not a flag's name that
# ends in pw: an upper-case letter right after the flag's letter, or a digit.
_GLUED_VALUE_RE = re.compile(r"-[A-Za-z](?:[A-Z]|[A-Za-z]*\d)")
_NO_VALUE_WORDS = frozenset({"ask", "prompt", "no"})
_CLI_TAIL_RE = re.compile(r"""[ \t]+(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s"'`-][^\s"'`]*)""")


def triple_quoted_value(
    text: str, start: int, quote: str, words: tuple[str, ...], name_class: str
) -> Hit | None:
    """A value in a triple-quoted string (TOML, Python) that opens at `start`: one word, on
    the quotes' line or alone on the next."""
    end = text.find(quote, start, start + 4096)
    body = text[start:end] if end >= 0 else ""
    v = body.strip()
    if not v or any(c.isspace() for c in v) or is_reference(v, words, code=False):
        return None
    s = start + len(body) - len(body.lstrip())
    kind = assignment_kind(name_class, v, True, words)
    return None if kind is None else (s, s + len(v), PRIORITY[kind])


def cli_value(text: str, name_end: int, name: str, name_class: str) -> Hit | None:
    """``--password value``: a flag followed by its value."""
    m = _CLI_TAIL_RE.match(text, name_end)
    if m is None:
        return None
    if _GLUED_VALUE_RE.match(name):
        return None  # `7z a -pXk3pw backup.7z`: the next word is an argument, no password
    words = words_of_name(name)
    if words and words[0] in _NO_VALUE_WORDS:
        return None  # wget --ask-password URL, psql --no-password DB: a switch, no value
    raw = m.group("value")
    s, v = m.start("value"), raw
    quoted = raw[0] in "\"'"
    if quoted:
        s, v = s + 1, raw[1:-1]
    if v.startswith("pass:") and len(v) > 5:  # openssl's -passin pass:X
        s, v = s + 5, v[5:]
    elif _OPENSSL_SOURCE_RE.match(v):
        return None
    if not quoted and (
        is_reference(v, words, code=False)
        or plain_word(v)
        or flag_named_in_sentence(text, s, s + len(v))
    ):
        return None  # "use --password option": prose, not a value
    kind = assignment_kind(name_class, v, raw[0] in "\"'", words)
    return None if kind is None else (s, s + len(v), PRIORITY[kind])
