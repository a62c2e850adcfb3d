"""Secrets `redact` finds by a name and a value paired without an assignment operator:
define('DB_PASSWORD', 'x'), setPassword("x"), <add key="DbPassword" value="x" />, a
Kubernetes `- name: DB_PASSWORD` and its `value:`, SQL's `WITH PASSWORD 'x'`; and a YAML-style
value read to its line's end, which assignments read too.
"""

from __future__ import annotations

import re

from ocp_router._redact_base import PRIORITY, Hit, line_before
from ocp_router._redact_name_class import words_of_name
from ocp_router._redact_prose import named_in_sentence
from ocp_router._redact_values import (
    UPPER_SNAKE_RE,
    assignment_kind,
    char_classes,
    chosen_password,
    is_placeholder,
    is_reference,
    names_a_secret,
    plain_word,
    short_random,
    spaced_random,
)
from ocp_router._redact_wordpress import wordpress_key, wordpress_value

__all__ = [
    "config_value",
    "other_value",
    "quoted_span",
]

# Other shapes of "this name, that value".
_PAIR_TAIL_RE = re.compile(  # define('DB_PASSWORD', 'x'), setdefault("TOKEN", "x")
    r"""(?P<rq>["'])[ \t]*,[ \t]*(?P<value>"(?:[^"\\\n]|\\.){1,1024}"|'(?:[^'\\\n]|\\.){1,1024}')"""
)
# One more string after a pair's value: the name and it are items of a list of strings
_NEXT_STRING_RE = re.compile(r"""[ \t]*,\s*[bBrRuUfF]{0,2}["']""")
# ... nor when strings come before the name in a bracket that opens no call's arguments
# (`__all__ = ["command_hits", "flag_password", X]`; config.set("db", "password", X) is a
# call), the list is `__all__`'s or `__slots__`', or X is a snake_case identifier in a list's
# brackets (exclude = ["password", "last_login"]): read in the _LOOK_BACK characters before
# the name's quote
_PREV_STRINGS_RE = re.compile(
    r"""(?P<open>[\[(])\s*(?:[bBrRuUfF]{0,2}(?:"[^"\n]*"|'[^'\n]*')\s*,\s*)+[bBrRuUfF]{0,2}$"""
)
_NAMES_LIST_RE = re.compile(
    r"""\b__(?:all|slots)__[ \t]*(?::[^=\n]*)?[+]?=\s*[\[(]\s*[bBrRuUfF]{0,2}$"""
)
_OPEN_LIST_RE = re.compile(r"""\[\s*[bBrRuUfF]{0,2}$""")
_SNAKE_NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
_LOOK_BACK = 200
# A call that sets a constant or an environment variable to a literal: PHP's define('NAME',
# 'x'), Go's os.Setenv, Rust's env::set_var, Python's os.putenv, os.environ.setdefault and
# monkeypatch.setenv, .NET's SetEnvironmentVariable
_DEFINE_BEFORE_RE = re.compile(
    r"(?i)\b(?P<fn>define|setenv|set_var|os\.putenv|environ\.setdefault"
    r"|SetEnvironmentVariable)[ \t]*\([ \t]*$"
)
_ATTR_TAIL_RE = re.compile(  # <add key="DbPassword" value="x" />
    r"""(?P<rq>["'])[ \t]+value[ \t]*=[ \t]*(?P<value>"[^"\n]{0,1024}"|'[^'\n]{0,1024}')"""
)
_K8S_TAIL_RE = re.compile(  # - name: DB_PASSWORD \n  value: x
    r"[ \t]*\r?\n[ \t]*(?:-[ \t]*)?value[ \t]*:[ \t]*(?P<value>[^\n]{1,1024})"
)
_CALL_TAIL_RE = re.compile(  # setPassword("x"), .password('x')
    r"""\([ \t]*(?P<value>"(?:[^"\\\n]|\\.){1,1024}"|'(?:[^'\\\n]|\\.){1,1024}')[ \t]*[),]"""
)
# setPassword(Zkq3pw), setPassword(Kx9mQ2vLp8Tz, salt): a bare value of letters and digits,
# the setter's first argument
_BARE_CALL_TAIL_RE = re.compile(
    r"\([ \t]*(?P<value>[A-Za-z][A-Za-z0-9]{5,127}|\d[A-Za-z0-9]{7,127})[ \t]*[),]"
)
# ... or of 8+ starting with a digit (5nNDz1dYy6XFrO: no name, code cannot hold it), not a
# number (12345678, 0x1F2E3D4C, 1000000L)
_NUMBER_RE = re.compile(r"0[xX][0-9a-fA-F]+|\d+[LlFfDd]?|\d+[eE]\d+")
_SQL_TAIL_RE = re.compile(r"""[ \t]+(?P<value>'[^'\n]{1,512}'|"[^"\n]{1,512}")""")  # PASSWORD 'x'
_SQL_BEFORE_RE = re.compile(r"(?i)\b(?:with|encrypted|unencrypted|set)[ \t]+$")
_WP_CLI_BEFORE_RE = re.compile(r"\bwp[ \t]+config[ \t]+set[ \t]+$")  # wp config set NAME 'x'
_SETTERS = frozenset("set with use put update change reset".split())


def quoted_span(raw: str, start: int) -> tuple[int, int, bool] | None:
    """(inner start, inner end, is an f-string) when `raw` is a quoted literal."""
    if raw.startswith('\\"'):
        return start + 2, start + len(raw) - 2, False
    i = 0
    while i < len(raw) and raw[i] in "bBrRuUfF":
        i += 1
    if i < len(raw) and raw[i] in "\"'`" and len(raw) >= i + 2 and raw[-1] == raw[i]:
        return start + i + 1, start + len(raw) - 1, "f" in raw[:i].lower()
    return None


def _bare_argument(v: str, text: str, words: tuple[str, ...]) -> bool:
    """A password setter's bare argument is a password: 6 or 7 characters as `short_random`
    judges them; 8+ as an object's key's bare value is (`_bare_key_value`), not a variable's
    name (newPw, userPassword, plaintext); 8+ starting with a digit, unless a number."""
    if len(v) < 8:
        return short_random(v, text)
    if v[0].isdigit():
        return _NUMBER_RE.fullmatch(v) is None
    if is_reference(v, words, code=True):
        return _numbered_jumble(v, text)
    return assignment_kind("password", v, False, words) is not None


# A name's letters between its digits: camelCase words (each with a vowel) after a lower-case
# or an upper-case run (UTF8String, getUtf8Bytes, HTTP2Server, x509Cert, int32Value)
_NAME_PART_RE = re.compile(r"(?:[a-z]+|[A-Z]+)?(?:[AEIOUY][a-z]+|[A-Z][a-z]*[aeiouy][a-z]*)*")
_DIGITS_RE = re.compile(r"\d+")
_DIGITS_INSIDE_RE = re.compile(r"[A-Za-z]\d+[A-Za-z]")


def _numbered_jumble(v: str, text: str) -> bool:
    """Letters of both cases with digits between them that no name's parts make
    (hIUPODasgi040J8, r25EPICDm: `IUPODasgi`, `Dm`), used nowhere else in `text` (a
    variable is defined or used near where it is passed). A constant's name (DEFAULTPW2,
    ADMIN_PASSWORD) holds no lower-case letter."""
    if char_classes(v) != 3 or not _DIGITS_INSIDE_RE.search(v):
        return False
    if all(_NAME_PART_RE.fullmatch(part) for part in _DIGITS_RE.split(v)):
        return False
    return len(re.findall(rf"(?<![\w$]){v}(?![\w$])", text)) == 1


def other_value(
    text: str, start: int, name_end: int, name: str, name_class: str, documented: bool
) -> Hit | None:
    """A value paired with a secret's name without an assignment operator; after a
    `documented` name (a public key's, a digest's) not in a sentence."""
    before = text[start - 1] if start else "\n"
    words = words_of_name(name)
    m: re.Match[str] | None = None
    sql = False  # WITH PASSWORD 'x', setPassword("x"), <add key=.. value="x"/>: a word there too
    if before in "\"'":
        m = _PAIR_TAIL_RE.match(text, name_end) or _ATTR_TAIL_RE.match(text, name_end)
        if m is not None and m.group("rq") != before:
            m = None
    elif text.startswith("(", name_end):
        # the method's own words: builder.password(x) is a setter, as set_password(x) is
        # (Go's type assertion password.(string) has none after its dot)
        called = words_of_name(name.rstrip(".").rsplit(".", 1)[-1]) or words
        if len(called) == 1 or called[-2] in _SETTERS:
            m = _CALL_TAIL_RE.match(text, name_end)
            if m is None and name_class == "password":
                bare = _BARE_CALL_TAIL_RE.match(text, name_end)
                if bare is not None and _bare_argument(bare.group("value"), text, words):
                    return bare.start("value"), bare.end("value"), PRIORITY["password_assignment"]
    elif text.startswith(("\n", "\r\n"), name_end) or text.startswith((" \n", "\t\n"), name_end):
        if re.search(r"name[ \t]*:[ \t]*$", line_before(text, start)):
            m = _K8S_TAIL_RE.match(text, name_end)
            if m is not None:
                return config_value(text, m.start("value"), m.group("value"), words, name_class)
        return None
    elif name.lower() == "password" and _SQL_BEFORE_RE.search(line_before(text, start)):
        m = _SQL_TAIL_RE.match(text, name_end)
        sql = True
    elif _WP_CLI_BEFORE_RE.search(line_before(text, start)):
        m = _SQL_TAIL_RE.match(text, name_end)
    elif name_class != "password":
        if documented:
            return None
        return named_in_sentence(
            text, start, name_end, words, name_class
        )  # "the API key is 7f3a..."
    if m is None:
        return None
    raw = m.group("value")
    s, e = m.start("value") + 1, m.end("value") - 1
    v = raw[1:-1]
    if wordpress_key(words) and wordpress_value(v):
        return s, e, PRIORITY["generic_secret_assignment"]
    if before in "\"'" and (d := _DEFINE_BEFORE_RE.search(line_before(text, start - 1))):
        php = d.group("fn").lower() == "define"
        return _defined_value(raw, s, e, words, name_class, php)
    said = sql or m.re is _ATTR_TAIL_RE or m.re is _CALL_TAIL_RE  # names what v is
    if name_class == "password" and (plain_word(v) and not said or any(c.isspace() for c in v)):
        return None
    if (
        name_class == "password"
        and before in "\"'"
        and _NEXT_STRING_RE.match(text, m.end("value"))
        and not chosen_password(v)
    ):
        return None  # a lexer's keywords, cachemgr_passwd and then cache_peer: a list of strings
    if name_class == "password" and before in "\"'" and _list_of_names(text, start - 1, v):
        return None
    if UPPER_SNAKE_RE.fullmatch(v) or names_a_secret(v):
        return None  # ("DB_PASSWORD", "STRIPE_KEY"): a list of names
    kind = assignment_kind(name_class, v, True, words)
    return None if kind is None else (s, e, PRIORITY[kind])


def _list_of_names(text: str, quote: int, v: str) -> bool:
    """The quoted name opening at `quote` and the string after it, `v`, are items of a list of
    strings, not a name and its value (see _PREV_STRINGS_RE). A chosen password is the name's
    value in any of them, and a tuple of two is a pair (`("password", "x")` in settings and
    headers): when unsure, redact."""
    if chosen_password(v):
        return False
    before = text[max(0, quote - _LOOK_BACK) : quote]
    if _NAMES_LIST_RE.search(before):
        return True
    if (m := _PREV_STRINGS_RE.search(before)) is not None:
        opened = m.start("open")
        ahead = before[:opened].rstrip()
        if m.group("open") == "[" or not ahead or not (ahead[-1].isalnum() or ahead[-1] in "_)]"):
            return True
    return _SNAKE_NAME_RE.fullmatch(v) is not None and _OPEN_LIST_RE.search(before) is not None


def _defined_value(
    raw: str, s: int, e: int, words: tuple[str, ...], name_class: str, php: bool
) -> Hit | None:
    """define('DB_PASSWORD', 'x'), os.Setenv("DB_PASSWORD", "x"): a constant or a variable
    set to a literal, no list of strings, so a password there is one though it reads as a
    word or holds spaces; WordPress's keys (AUTH_KEY, NONCE_KEY) are 64 random characters
    that may hold spaces, `$` and braces. Only PHP (`php`) reads `$` in double quotes."""
    v = raw[1:-1]
    kind = "password_assignment" if name_class == "password" else "generic_secret_assignment"
    random = spaced_random(v, 16)
    if random and len(v) >= 32:
        return s, e, PRIORITY[kind]  # '$n~]_;x{…': a template's braces by chance
    if is_placeholder(v, words) or (php and raw[0] == '"' and "$" in v):
        return None  # 'put your unique phrase here', 'password_here', "$pw" (interpolated)
    if random or name_class == "password":
        return s, e, PRIORITY[kind]
    judged = assignment_kind(name_class, v, True, words)
    return None if judged is None else (s, e, PRIORITY[judged])


def config_value(
    text: str, vs: int, rest: str, words: tuple[str, ...], name_class: str
) -> Hit | None:
    """A YAML-style value (the rest of the line): literal unless a template or keyword."""
    hash_at = re.search(r"\s#", rest)
    v = (rest[: hash_at.start()] if hash_at else rest).rstrip()
    q = quoted_span(v, vs) if v[:1] in "\"'" else None
    if q is not None:
        s, e, _ = q
        v = text[s:e]
    elif not v or any(c.isspace() for c in v) or is_reference(v, words, code=False):
        return None
    else:
        s, e = vs, vs + len(v)
    kind = assignment_kind(name_class, v, q is not None, words, field=q is None)
    return None if kind is None else (s, e, PRIORITY[kind])
