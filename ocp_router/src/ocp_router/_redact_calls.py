"""Secrets `redact` finds by where they stand, with no name: a string literal passed as the
secret argument of a well-known call (`jwt.sign(payload, "...")`, `smtp.login(user, "...")`,
`HTTPBasicAuth("admin", "...")`, `auth=("u", "...")`, `hmac.new(b"...", ...)`,
`crypto.createHmac("sha256", "...")`), and the text of an element a key attribute names
(`<entry key="password">...</entry>`).

Each call family costs a scan of every text (about 1% of redaction's time: a literal's search
runs at ~2 GB/s, and no one regex finds several words faster than a search each), so only
the common ones are read: `Fernet(b"...")` and JDBC's `getConnection(url, user, "...")` were
measured at 1.8% more together and are left out (bench/redact_ab.py).

The argument must be the literal alone (a prefix such as b"", or one wrapped as bytes:
`"...".encode()`, `[]byte("...")`), so `"x" + y` and variables are left; the literal is judged as
a password a person chose (`_redact_values.literal_password`), so placeholders ("changeme",
"<password>", "${VAR}") are left as the name rules leave them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_values import (
    assignment_kind,
    classify_name,
    literal_password,
    looks_random,
    words_of_name,
)

__all__ = ["call_hits", "keyed_element_hits"]

_PASSWORD = PRIORITY["password_assignment"]
_SECRET = PRIORITY["generic_secret_assignment"]

_Rule = tuple[re.Pattern[str], bool, int, int | None, int]


def _rule(head: str, lower: bool, index: int, arity: int | None, kind: int) -> _Rule:
    return re.compile(head), lower, index, arity, kind


#: By the word of the lower-cased text that gates them ("": none, the one regex's own scan is
#: the gate; "login": the assignment scan's keywords tell; "hmac": `_HMAC`), each call up to
#: its open parenthesis (every head starts with a literal, so the engine skips to it; each scan of a
#: text costs about 1% of its redaction) read in the lower-cased text (True) or the original,
#: the secret argument's index, the number of arguments the call must have (None: at least
#: index + 1) and the kind.
_CALLS: tuple[tuple[str, tuple[_Rule, ...]], ...] = (
    # PyJWT, jsonwebtoken, jose: the signing key second
    ("", (_rule(r"jwt\.(?:sign|encode|decode|verify)[ \t]*\(", True, 1, None, _SECRET),)),
    # smtplib, imaplib, ftplib and most clients: login(user, password)
    ("login", (_rule(r"\.login[ \t]*\(", True, 1, 2, _PASSWORD),)),
    # requests' HTTPBasicAuth/HTTPDigestAuth, aiohttp.BasicAuth, Go's SetBasicAuth; auth=(u, p)
    (
        "",
        (
            _rule(
                # "uth" first: the engine skips to its rarer first letter ("auth": 30% slower)
                r"uth(?<=auth)(?:(?<=basicauth)|(?<=digestauth)|(?<=proxyauth)"
                r"|(?<![\w.]auth)[ \t]*=)[ \t]*\(",
                True,
                1,
                2,
                _PASSWORD,
            ),
        ),
    ),
    (
        "hmac",  # Python's, Go's, Node's and Java's HMAC keys
        (
            _rule(r"hmac\.(?:new|digest|HMAC)[ \t]*\(", False, 0, None, _SECRET),
            _rule(r"hmac\.New[ \t]*\(", False, 1, None, _SECRET),  # Go: hmac.New(h, key)
            _rule(r"createhmac[ \t]*\(", True, 1, None, _SECRET),  # Node's crypto
            _rule(r"algorithm\.hmac(?:256|384|512)[ \t]*\(", True, 0, 1, _SECRET),  # java-jwt
            _rule(r"secretkeyspec[ \t]*\(", True, 0, None, _SECRET),  # Java's HmacSHA256 key
        ),
    ),
)

_HMAC = re.compile("hmac")  # a regex's literal search: faster than `in` for this word

# The argument, whole: a literal, maybe bytes (b"", "".encode(), .getBytes(), []byte(""),
# Buffer.from(""), Encoding.UTF8.GetBytes("")).
_LITERAL = (
    r"(?:[bBrRuU]{1,2})?(?:\"(?P<d>[^\"\\\n]{1,512})\"|'(?P<s>[^'\\\n]{1,512})'"
    r"|`(?P<b>[^`\\\n$]{1,512})`)"
)
_ARGUMENT_RE = re.compile(
    r"(?P<w>\[\]byte\(|Buffer\.from\(|Encoding\.\w+\.GetBytes\()?"
    rf"{_LITERAL}(?(w)\)|(?:\.(?:encode|getBytes)\([^()\n]{{0,24}}\))?)"
)
# What a call's second string names besides a password: a sentence, a URL, a file or a path
# (`login(request, "registration/login.html")`).
_NOT_SECRET_RE = re.compile(
    r"\s|://|^[\w.-]*/[\w./-]*$|\.(?:html?|json|ya?ml|txt|py|js|ts|css|png|svg|xml|cfg|ini)$"
)
_VARIABLE_RE = re.compile(r"\$\{?[A-Za-z_]\w*\}?(?:$|[/.:@-])")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_MOST = 600  # characters of arguments read at most from a call's parenthesis


def _arguments(text: str, i: int, most: int) -> tuple[list[tuple[int, int]], bool]:
    """The spans of the first `most` arguments of the call whose '(' ends before `i`, and
    whether its ')' was reached (so their number is known)."""
    spans: list[tuple[int, int]] = []
    closing: list[str] = []
    start = i
    end = min(len(text), i + _MOST)
    while i < end:
        c = text[i]
        if c in "\"'`":
            close = text.find(c, i + 1, end)
            if close < 0:
                break
            i = close
        elif c in _OPENERS:
            closing.append(_OPENERS[c])
        elif c in ")]}":
            if closing:
                if closing.pop() != c:
                    break
            elif c == ")":
                spans.append((start, i))
                return spans, True
            else:
                break
        elif c == "," and not closing:
            spans.append((start, i))
            if len(spans) > most:
                return spans, False
            start = i + 1
        i += 1
    return spans, False


def _literal(text: str, s: int, e: int) -> tuple[int, int] | None:
    """The literal's characters when the argument at [s, e) is a string literal alone."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    m = _ARGUMENT_RE.fullmatch(text, s, e)
    if m is None:
        return None
    group = next(g for g in ("d", "s", "b") if m.group(g) is not None)
    return m.span(group)


def _secret_literal(v: str) -> bool:
    """A password or key as a literal: not a placeholder, a word, a variable ("$PASSWORD" in a
    shell or PHP string), a sentence, a URL or a path (`literal_password`, without taking every
    value that starts with "$" for a variable: `"$Pf|>aIDlf7"` is a password)."""
    if _NOT_SECRET_RE.search(v) and not looks_random(v, 10):
        return False
    if v[0] == "$":
        return not _VARIABLE_RE.match(v) and literal_password(v[1:] + "$")
    return literal_password(v)


def call_hits(text: str, lowered: str, found: set[str]) -> Iterator[Hit]:
    """The literals in calls' secret arguments; `found`: the assignment scan's keywords that
    occur in the text."""
    for gate, rules in _CALLS:
        if gate == "login" and gate not in found or gate == "hmac" and not _HMAC.search(lowered):
            continue
        for head, lower, index, arity, kind in rules:
            for m in head.finditer(lowered if lower else text):
                most = index + 1 if arity is None else arity
                spans, closed = _arguments(text, m.end(), most)
                if len(spans) <= index:
                    continue
                if arity is not None and (not closed or len(spans) != arity):
                    continue
                found_at = _literal(text, *spans[index])
                if found_at is not None and _secret_literal(text[found_at[0] : found_at[1]]):
                    yield found_at[0], found_at[1], kind


def keyed_element_hits(text: str) -> Iterator[Hit]:
    """<entry key="password">x</entry>: the element's text, judged by the name its key or
    name attribute gives, as an assignment's value."""
    if "<entry" not in text and "<param" not in text and "<setting" not in text:
        return
    yield from _keyed_element_hits(text)


# <entry key="password">x</entry> (Java's XML properties), <param name="token">x</param>
_KEYED_ELEMENT_RE = re.compile(
    r"<(?P<tag>entry|param|setting)[ \t]+(?:key|name)[ \t]*=[ \t]*[\"'](?P<name>[\w.:-]{1,80})"
    r"[\"'][^<>]{0,200}>(?P<value>[^<>\n]{1,1024})</(?P=tag)>"
)


def _keyed_element_hits(text: str) -> Iterator[Hit]:
    for m in _KEYED_ELEMENT_RE.finditer(text):
        name = m.group("name")
        name_class = classify_name(name)
        if name_class is None:
            continue
        raw = m.group("value")
        v = raw.strip()
        s = m.start("value") + len(raw) - len(raw.lstrip())
        kind = assignment_kind(name_class, v, True, words_of_name(name))
        if kind is not None:
            yield s, s + len(v), PRIORITY[kind]
