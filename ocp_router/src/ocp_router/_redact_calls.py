"""Secrets `redact` finds by where they stand, with no name: a string literal passed as the
secret argument of a well-known call (`jwt.sign(payload, "...")`, `smtp.login(user, "...")`,
`HTTPBasicAuth("admin", "...")`, `auth=("u", "...")`, `hmac.new(b"...", ...)`,
`crypto.createHmac("sha256", "...")`, `Fernet(b"...")`, JDBC's `DriverManager.getConnection(url,
user, "...")` and `DataSource.getConnection(user, "...")`), and the text of an element a key
attribute names (`<entry key="password">...</entry>`).

The calls are found in one pass over the text, at the '(' (`CALL_GATE`): a search for each
name would cost a pass of its own (about 1% of redaction's time each; no one regex of the names
is faster than a search each), so a call added here costs next to nothing.

The argument must be the literal alone (a prefix such as b"", or one wrapped as bytes:
`"...".encode()`, `[]byte("...")`), so `"x" + y` and variables are left; the literal is judged as
a password a person chose (`_redact_values.literal_password`), so placeholders ("changeme",
"<password>", "${VAR}") are left as the name rules leave them; Fernet's key must have the shape
`Fernet.generate_key()` gives it (44 characters of URL-safe base64, the last '='), and `login`
takes a Google app password too (16 random lower-case letters, spaced in fours or not).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_name_class import classify_name, documented_class, words_of_name
from ocp_router._redact_values import (
    assignment_kind,
    common_bigram_fraction,
    is_filler,
    literal_password,
    looks_random,
)

__all__ = ["CALLS", "CALL_GATE", "Call", "call_hits", "calls_in", "keyed_element_hits"]

_PASSWORD = PRIORITY["password_assignment"]
_SECRET = PRIORITY["generic_secret_assignment"]


class Call(NamedTuple):
    """A call whose argument `arg` (from 0) is a secret: its name as the lower-cased literals
    it can end with before its '(' (`ends`; "auth=" for `auth = (`) and as a regex up to the
    '(' read in the lower-cased text (`lower`) or the original, the number of arguments it
    must have (None: at least arg + 1), the kind and what a literal there must be."""

    ends: tuple[str, ...]
    head: re.Pattern[str]
    lower: bool
    arg: int
    arity: int | None
    kind: int
    secret: Callable[[str], bool] | None  # None: a password a person chose


def _call(
    ends: tuple[str, ...],
    head: str,
    lower: bool,
    arg: int,
    arity: int | None,
    kind: int,
    secret: Callable[[str], bool] | None = None,
) -> Call:
    return Call(ends, re.compile(head), lower, arg, arity, kind, secret)


# 32 bytes in URL-safe base64: 43 characters and one '='
_FERNET_KEY_RE = re.compile(r"[A-Za-z0-9_-]{43}=")


def _fernet_key(v: str) -> bool:
    return _FERNET_KEY_RE.fullmatch(v) is not None and not is_filler(v)


# Google's app passwords, which Gmail's SMTP and IMAP take: 16 random lower-case letters,
# shown in four groups of four. A person's lower-case password and a test's ("testpw",
# "doesnotexist") look alike, and a spaced one like what a page shows ("Welcome back"), so only
# this shape is taken besides `_secret_literal`'s, and not when its letter pairs read as
# English ("this pass will fail": random letters hit 0.1% of the time).
_APP_PASSWORD_RE = re.compile(r"[a-z]{16}|[a-z]{4}(?: [a-z]{4}){3}")


def _login_password(v: str) -> bool:
    if _APP_PASSWORD_RE.fullmatch(v) and common_bigram_fraction(v) < 0.8 and not is_filler(v):
        return True
    return _secret_literal(v)


# What a pool's getConnection(name, name) takes instead of a user and a password: a node's name
# (one case, two words at most and a short number: "replica-2", "read_replica"; its letter
# pairs read as English, so random letters are still a password) or a pattern ("SLAVE*").
_POOL_NAME_RE = re.compile(
    r"[a-z]+(?:[-_.][a-z]+)?(?:[-_.]?\d{1,3})?|[A-Z]+(?:[-_.][A-Z]+)?(?:[-_.]?\d{1,3})?"
)
_POOL_PATTERN_RE = re.compile(r"[A-Za-z_-]*\*")


def _not_a_pool(v: str) -> bool:
    if _POOL_PATTERN_RE.fullmatch(v):
        return False
    if _POOL_NAME_RE.fullmatch(v) and common_bigram_fraction(v.lower()) >= 0.7:
        return False
    return _secret_literal(v)


CALLS: tuple[Call, ...] = (
    # PyJWT, jsonwebtoken, jose: the signing key second
    _call(
        ("jwt.sign", "jwt.encode", "jwt.decode", "jwt.verify"),
        r"jwt\.(?:sign|encode|decode|verify)[ \t]*\(",
        True,
        1,
        None,
        _SECRET,
    ),
    # smtplib, imaplib, ftplib and most clients: login(user, password)
    _call((".login",), r"\.login[ \t]*\(", True, 1, 2, _PASSWORD, _login_password),
    # requests' HTTPBasicAuth/HTTPDigestAuth, aiohttp.BasicAuth, Go's SetBasicAuth; auth=(u, p)
    _call(
        ("basicauth", "digestauth", "proxyauth", "auth="),
        r"uth(?<=auth)(?:(?<=basicauth)|(?<=digestauth)|(?<=proxyauth)"
        r"|(?<![\w.]auth)[ \t]*=)[ \t]*\(",
        True,
        1,
        2,
        _PASSWORD,
    ),
    # Python's, Go's, Node's and Java's HMAC keys
    _call(
        ("hmac.new", "hmac.digest", "hmac.hmac"),
        r"hmac\.(?:new|digest|HMAC)[ \t]*\(",
        False,
        0,
        None,
        _SECRET,
    ),
    _call(("hmac.new",), r"hmac\.New[ \t]*\(", False, 1, None, _SECRET),  # Go: hmac.New(h, key)
    _call(("createhmac",), r"createhmac[ \t]*\(", True, 1, None, _SECRET),  # Node's crypto
    _call(  # java-jwt
        ("algorithm.hmac256", "algorithm.hmac384", "algorithm.hmac512"),
        r"algorithm\.hmac(?:256|384|512)[ \t]*\(",
        True,
        0,
        1,
        _SECRET,
    ),
    _call(("secretkeyspec",), r"secretkeyspec[ \t]*\(", True, 0, None, _SECRET),  # Java's HMAC key
    # cryptography's Fernet(key[, backend]): the key as Fernet.generate_key() writes it
    _call(("fernet",), r"fernet[ \t]*\(", True, 0, None, _SECRET, _fernet_key),
    # JDBC: DriverManager.getConnection(url, user, password), DataSource.getConnection(user,
    # password)
    _call(("getconnection",), r"getconnection[ \t]*\(", True, 2, 3, _PASSWORD),
    _call(("getconnection",), r"getconnection[ \t]*\(", True, 1, 2, _PASSWORD, _not_a_pool),
)


# One pass finds every call's '(' (a literal: the engine skips to it; a search for each name
# would cost a pass of its own, about 1% of redaction, and an alternation of the names is
# several times slower than one): a '(' is read further only when the two characters before it
# may end a name (a class each), then when the `_WIDTH` characters before it do, maybe with one
# space or tab before the '(' (`_WIDTH`: the shortest name, "auth=", fits at the text's start), and
# then when a whole name does. A '(' after 2 to 8 spaces is let through to `calls_in` when a
# whole name is before them; after 9 or more that indent no line, the first one is, and
# `call_parens` reads the rest of the text exactly (`_FAR_GATE`).
_WIDTH = 5
_SP = r"[ \t]"


def _names(end: str) -> list[list[str]]:
    """The regexes, one a character, of a call named `end` (any number of spaces before
    "auth="'s '=': only `_WIDTH` characters are read)."""
    parts = [re.escape(c) for c in end]
    if end.endswith("="):
        return [(parts[:-1] + [_SP] * n + parts[-1:])[-_WIDTH:] for n in range(_WIDTH)]
    return [parts]


def _runs(end: str) -> list[list[str]]:
    """The regexes, one a character, of a call named `end` up to its '(', with no space or one
    before it."""
    out = [run + tail for run in _names(end) for tail in ([], [_SP])]
    if min(map(len, out)) < _WIDTH:
        raise ValueError(f"a call's name is shorter than {_WIDTH} characters: {end!r}")
    return out


def _behind(runs: Iterable[list[str]]) -> str:
    """Lookbehinds, one a width, that the characters before a '(' match one of `runs` in."""
    by_width: dict[int, set[tuple[str, ...]]] = {}
    for run in runs:
        by_width.setdefault(len(run), set()).add(tuple(run))
    return "|".join(f"(?<=(?:{_trie(sorted(alts))})\\()" for _, alts in sorted(by_width.items()))


def _trie(runs: list[tuple[str, ...]]) -> str:
    """The alternation of `runs` (as long as each other), branching on one regex a character
    at a time: the engine tries a branch only when its first character matches, so a '(' costs
    a test a distinct character, not one a run (a third less for the whole pass)."""
    branches: dict[str, list[tuple[str, ...]]] = {}
    for run in runs:
        branches.setdefault(run[0], []).append(run[1:])
    out = []
    for first, rests in branches.items():
        rest = _trie(rests) if rests[0] else ""
        out.append(first + (f"(?:{rest})" if "|" in rest else rest))
    return "|".join(out)


def _gate(calls: tuple[Call, ...], with_far: bool = True) -> re.Pattern[str]:
    runs = [run for call in calls for end in call.ends for run in _runs(end)]

    def chars(i: int) -> str:  # the characters at run[i] (a space may stand anywhere)
        return "[" + "".join(sorted({run[i] for run in runs} - {_SP})) + _SP[1:]

    short = _behind(run[-_WIDTH:] for run in runs)
    # 2 to 8 spaces after two characters a name may end in, then after a whole name (a
    # character alone let text packed with `e   (` send every '(' to `calls_in`, 3 times the
    # cost of ordinary code); 9 or more unless they indent a line
    names = [name for call in calls for end in call.ends for name in _names(end)]
    pairs = "".join(  # a class each ("[ \t]" and "\." stand in one as " \t" and "\.")
        "[" + "".join(sorted({name[i].strip("[]") for name in names})) + "]" for i in (-2, -1)
    )
    spaced = "|".join(
        f"(?<={pairs}{_SP}{{{n}}}\\()(?:{_behind(name + [_SP] * n for name in names)})"
        for n in range(2, 9)
    )
    # 9 or more (`far`), unless they indent a line (up to 40: deeper is rare enough)
    indent = "".join(f"(?<!\\n{_SP}{{{n}}}\\()" for n in range(9, 41))
    far = f"|(?<={_SP}{{9}}\\(){indent}(?P<far>)" if with_far else ""
    return re.compile(
        f"\\((?<={chars(-2)}{chars(-1)}\\()"
        f"(?:{short}(?:{_behind(runs)})|(?<={_SP}{_SP}\\()(?:{spaced}{far}))"
    )


def _far_gate(calls: tuple[Call, ...]) -> re.Pattern[str]:
    """A '(' after 9 spaces or more and a whole name, read in the text reversed (where the
    name comes after the spaces, and a regex reads any number of them)."""
    plain: set[tuple[str, ...]] = set()
    assigned: set[tuple[str, ...]] = set()  # "auth=": spaces may stand before the '=' too
    for end in {end for call in calls for end in call.ends}:
        (assigned if end.endswith("=") else plain).add(
            tuple(re.escape(c) for c in reversed(end.rstrip("=")))
        )

    def alternation(runs: set[tuple[str, ...]]) -> str:
        # a name another ends with adds nothing ("fernet.fernet" after "fernet"), and without
        # them no run begins another, as `_trie` needs
        kept = {r for r in runs if not any(o != r and r[: len(o)] == o for o in runs)}
        return f"(?:{_trie(sorted(kept))})"

    return re.compile(f"\\({_SP}{{9,}}+(?:{alternation(plain)}|={_SP}*+{alternation(assigned)})")


CALL_GATE = _gate(CALLS)
# The same without the '(' after 9 spaces or more, and those, exactly: `call_parens`
_NEAR_GATE = _gate(CALLS, with_far=False)
_FAR_GATE = _far_gate(CALLS)


def call_parens(lowered: str) -> Iterator[int]:
    """Where each '(' after a call's whole name is (maybe spaced), in order, and a few more.

    `CALL_GATE` lets the first '(' after 9 spaces or more through (its lookbehinds, of fixed
    width, cannot see past them); from there the text is read by `_NEAR_GATE` and, reversed,
    by `_FAR_GATE`, so no other '(' of text packed with `e         (` reaches Python (each
    cost about 5 µs; reversing 100 KB costs 0.3 ms, ordinary code almost never pays it)."""
    for g in CALL_GATE.finditer(lowered):
        if g.lastgroup != "far":
            yield g.start()
            continue
        last = len(lowered) - 1
        far: list[int] = []
        for m in _FAR_GATE.finditer(lowered[::-1]):
            if m.start() > last - g.start():
                break  # before the first: the reversed text's matches come last to first
            far.append(last - m.start())
        near = (m.start() for m in _NEAR_GATE.finditer(lowered, g.start() + 1))
        yield from heapq.merge(near, reversed(far))
        return


# The calls a name ending in a character may be (the spaces before the '(' skipped), each with
# the literals its name then ends with ("auth=": "auth", the spaces before the '=' skipped too).
_BY_LAST: dict[str, tuple[tuple[Call, tuple[str, ...]], ...]] = {
    c: tuple(
        (call, tuple(e.rstrip("=") for e in call.ends if e[-1] == c))
        for call in CALLS
        if any(e[-1] == c for e in call.ends)
    )
    for c in {e[-1] for call in CALLS for e in call.ends}
}
_LONGEST = max(len(e) for call in CALLS for e in call.ends)

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


def call_hits(text: str, lowered: str) -> Iterator[Hit]:
    """The literals in calls' secret arguments."""
    for call, i in calls_in(text, lowered):
        arg, arity = call.arg, call.arity
        spans, closed = _arguments(text, i, arg + 1 if arity is None else arity)
        if len(spans) <= arg:
            continue
        if arity is not None and (not closed or len(spans) != arity):
            continue
        found_at = _literal(text, *spans[arg])
        if found_at is None:
            continue
        if (call.secret or _secret_literal)(text[found_at[0] : found_at[1]]):
            yield found_at[0], found_at[1], call.kind


def calls_in(text: str, lowered: str) -> Iterator[tuple[Call, int]]:
    """Each call of `CALLS` in `text`, with the index after its '(': where its head's regex
    matches, as `head.finditer` over the whole text would find it."""
    for paren in call_parens(lowered):
        j = paren
        while j and lowered[j - 1] in " \t":
            j -= 1
        calls = _BY_LAST.get(lowered[j - 1]) if j else None
        if calls is None:
            continue  # no name ends there
        name_end = j
        if lowered[j - 1] == "=":
            name_end -= 1
            while name_end and lowered[name_end - 1] in " \t":
                name_end -= 1
        start = max(0, name_end - _LONGEST)  # no head's match starts before
        for call, stems in calls:
            if not lowered.endswith(stems, start, name_end):
                continue  # a '(' let through after spaces, or a name ending like one
            src = lowered if call.lower else text
            if any(m.end() == paren + 1 for m in call.head.finditer(src, start, paren + 1)):
                yield call, paren + 1


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
        name_class = classify_name(name) or documented_class(name)
        if name_class is None:
            continue
        raw = m.group("value")
        v = raw.strip()
        s = m.start("value") + len(raw) - len(raw.lstrip())
        kind = assignment_kind(name_class, v, True, words_of_name(name))
        if kind is not None:
            yield s, s + len(v), PRIORITY[kind]
