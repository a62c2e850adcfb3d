"""Where a field's unquoted value ends (`NAME=value` in .env, log, config and connection
strings), when the characters that part fields may be the value's own: a `,` or `)` closing
it, a `;` inside a connection string's password."""

from __future__ import annotations

import re

from ocp_router._redact_base import MARKER_OPEN, PRIORITY, Hit, line_before
from ocp_router._redact_name_class import classify_name, words_of_name
from ocp_router._redact_values import assignment_kind, is_reference, symbol_heavy_random
from ocp_router._redact_wordpress import wordpress_key, wordpress_value

__all__ = ["ado_value_end", "closed_field", "putenv_value", "spaced_fields"]

# A piece of an ADO/ODBC/JDBC string after `;` that is no field (no `=`, no space) and ends at
# the next `;` or the string's end: the password's own (`Password=…;…;Database=d`).
_ADO_PIECE_RE = re.compile(r";([^;=\s\"'`\\]*)(?=[;\"'`\\\r\n]|$)")
_LINE_END_RE = re.compile(r"[ \t]*(?:\r?\n|$)")
_NEXT_FIELD_RE = re.compile(r"[ \t]+[A-Za-z_][\w.-]*[=:]")  # `, user=app`
_FIELD_RE = re.compile(r"[A-Za-z_][\w.-]*=\S*[^\s,;]")


def spaced_fields(line_prefix: str) -> bool:
    """Whether the line before a field holds a field ended by a space alone (logfmt's
    `user=app password=…`): its fields are apart by spaces, so a `,` or `;` ending the next
    value is the value's, not a separator (`user=app, password=…` parts them by `,`)."""
    if not line_prefix.endswith((" ", "\t")) or not line_prefix.strip():
        return False
    return _FIELD_RE.fullmatch(line_prefix.rsplit(None, 1)[-1]) is not None


def closed_field(text: str, raw: str, end: int, spaced: bool = False) -> str | None:
    """For an unquoted `raw` ending at `end` after `NAME=` that ends in `,` or `)`: "" where
    it is read as code (a keyword argument: `password=pw,`), else the value as a field reads
    it. A password manager's value (symbols inside) is one whole: the rest of its line
    (`DB_PASSWORD=wT)0;2…,R)`), or up to the `,` or `;` before more text (`password=Xy9$k…,
    user=bob`; a `,` or `;` before that `,` is its own); any value is, up to a `,` the next
    field follows (`db: password=amber-falcon, user=app`). A `)` is the value's: no
    parenthesis is open before a field (env_context, label_context). None when `raw` ends
    otherwise. `spaced`: the line's fields are apart by spaces (`spaced_fields`), so a
    password manager's value keeps its `,` before more text too."""
    if not raw.endswith((",", ")")):
        return None
    # one `,` parts fields: a `,` or `;` before it is the value's (`password=Xy9$k;, user=…`)
    core = raw[:-1] if raw.endswith(",") else raw
    symbols = symbol_heavy_random(core.rstrip(")"))
    if _LINE_END_RE.match(text, end) or (symbols and spaced):
        return raw if symbols else ""
    if symbols or (raw.endswith(",") and _NEXT_FIELD_RE.match(text, end)):
        return core
    return ""


def ado_value_end(text: str, end: int) -> int:
    """Where an ADO/ODBC field's unquoted value cut at the `;` at `end` ends: past the pieces
    after it that are no field (a `;` inside the password, which the string should have
    quoted), and one `;` of a `;;` (the value ended in it)."""
    while (m := _ADO_PIECE_RE.match(text, end)) is not None:
        if not m.group(1):
            return end + 1 if text.startswith(";;", end) else end
        end = m.end()
    return end


_PUTENV_BEFORE_RE = re.compile(r"\bputenv[ \t]*\([ \t]*$")
_CALL_CLOSE_RE = {q: re.compile(re.escape(q) + r"[ \t]*\)") for q in "'\""}


def putenv_value(text: str, start: int, name_end: int, name: str) -> Hit | None:
    """The value of `putenv('NAME=value')` (C's, PHP's), the name from `start` (after the
    quote) to `name_end` (an `=`): the literal is the variable's line, so the value runs to
    the quote that closes the call, spaces, `=`, backquotes and `;` included (a password's, a
    WordPress salt's; another secret with a space is left to the field rules, which read up
    to it)."""
    quote = text[start - 1] if start else ""
    if quote not in ("'", '"') or not _PUTENV_BEFORE_RE.search(line_before(text, start - 1)):
        return None
    s = name_end + 1
    nl = text.find("\n", s)
    close = _CALL_CLOSE_RE[quote].search(text, s, len(text) if nl < 0 else nl)
    if close is None or close.start() == s:
        return None
    e = close.start()
    v = text[s:e]
    words = words_of_name(name)
    if wordpress_key(words) and wordpress_value(v):
        return s, e, PRIORITY["generic_secret_assignment"]
    name_class = classify_name(name) or ("secret" if wordpress_key(words) else None)
    if name_class is None or (name_class != "password" and any(c.isspace() for c in v)):
        return None
    if MARKER_OPEN in v or is_reference(v, words, code=False):
        return None  # putenv("DB_PASSWORD=$pw")
    kind = assignment_kind(name_class, v, False, words, field=True)
    return None if kind is None else (s, e, PRIORITY[kind])
