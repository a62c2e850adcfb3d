"""Secrets `redact` finds by the words around them, without a name assigned: HTTP credentials
(Authorization headers, bearer tokens, `curl -u`), passwords in connection strings (Go's DSN
too), prose, SQL, PowerShell, netrc and .pgpass lines and commands' flags, high-entropy values
under any name, and 40 bare hex characters after "sourcegraph" or "newrelic".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router import _redact_scan as _scan
from ocp_router._redact_base import PRIORITY, Hit, cut_at_escape, line_before
from ocp_router._redact_values import (
    NAME_WORD_RE,
    chosen_password,
    classify_name,
    high_entropy,
    is_connection_placeholder,
    is_filler,
    is_placeholder,
    is_reference,
    literal_password,
    looks_random,
    machine_made,
    names_a_secret,
    plain_word,
    words_of_name,
    wordy,
)

__all__ = [
    "SET_TO",
    "auth_hits",
    "connection_hits",
    "creds_pair_hit",
    "go_dsn_hits",
    "named_after_hits",
    "named_hex_hits",
    "neutral_hits",
    "phrase_hits",
    "random_by_nature",
    "sentence_after_name",
    "sign_in_hits",
    "snyk_hits",
]

_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "ntlm"})
# These three run on the lower-cased text (same offsets); values are read from the original.
_BEARER_RE = re.compile(r"bearer(?<!\wbearer)[ \t]+(?P<v>[a-z0-9._~+/-]{8,}=*)(?![\w.~+/=-])")
_AUTH_HEADER_RE = re.compile(
    r"authorization(?<!\wauthorization)[\"']?\]?[ \t]*[:=][ \t]*[\"']?"
    r"(?:token[ \t]+)?(?P<v>[a-z0-9._~+/-]{8,}=*)(?![\w.~+/=-])"
)
_BASIC_RE = re.compile(r"basic(?<!\wbasic)[ \t]+(?P<v>[a-z0-9+/]{8,}={0,2})(?![\w+/=])")
_CURL_USER_RE = re.compile(
    r"(?<![\w-])(?:-u|--user)[ \t]+[\"']?[^\s:\"']+:(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s\"']+)"
)
# user:password@host: the password may hold any character but a space or a quote (a raw '#'
# or '/' included); it ends at the '@' that a host and a delimiter follow.
_CONN_RE = re.compile(
    r"://(?P<user>[^\s:/?#@'\"<>`]*):(?P<pw>[^\s'\"<>`]*?)@"
    r"(?=[\w\[][\w.\[\]%-]*(?::\d+)?(?![\w@:]))"
)


def auth_hits(text: str, lowered: str) -> Iterator[Hit]:
    if _scan.contains(lowered, "bearer"):
        for m in _BEARER_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if v.lower() in _AUTH_SCHEMES or is_placeholder(v):
                continue
            in_header = "auth" in line_before(lowered, m.start())
            if looks_random(v) or (in_header and not wordy(v) and not v.isalpha()):
                yield s, e, PRIORITY["bearer_token"]
    if _scan.contains(
        lowered, "auth"
    ):  # both need it: "Authorization", and Basic on a line saying auth
        yield from _header_hits(text, lowered)
    if _scan.contains(lowered, "curl"):
        for m in _CURL_USER_RE.finditer(text):
            if "curl" not in line_before(lowered, m.start()):
                continue
            s, e = m.span("v")
            if text[s] in "'\"":
                s, e = s + 1, e - 1
            v = text[s:e]
            if not is_placeholder(v) and not v.startswith("$"):
                yield s, e, PRIORITY["basic_auth"]


def _header_hits(text: str, lowered: str) -> Iterator[Hit]:
    if _scan.contains(lowered, "authoriz"):
        for m in _AUTH_HEADER_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if v.lower() in _AUTH_SCHEMES or is_placeholder(v) or is_reference(v, ()):
                continue
            if looks_random(v, 12):
                yield s, e, PRIORITY["bearer_token"]
    if _scan.contains(lowered, "basic"):
        for m in _BASIC_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if "auth" not in line_before(lowered, m.start()) or is_placeholder(v):
                continue
            if not wordy(v):
                yield s, e, PRIORITY["basic_auth"]


# ---- passwords without an assignment: prose, commands, SQL, line formats ----------------------

# "was set to", "has been changed to": a value given to a password or a key in a note.
SET_TO = (
    r"(?:is|are|was|were|has[ \t]+been|have[ \t]+been|had[ \t]+been|got)[ \t]+"
    r"(?:set|changed|reset|updated|rotated)[ \t]+to"
)

# On the lower-cased text. "the prod db password is X", "password for the staging db: X" (a
# colon right after the words a "for" starts; a bare "password:" is an assignment's).
_PROSE_FOR = r"[ \t]+(?:for|of|on|to|at)(?:[ \t]+[\w.@/-]{1,64}){1,3}"
# Notes also say "password is now X", "reset the password to X", "the password was set to X",
# "staging password: X" and "password X": a chosen password (see `chosen_password`) is the only
# thing these take.
_PROSE_RE = re.compile(
    rf"(?P<kw>p(?:assword|asswd|assphrase|asscode|wd|w))(?:{_PROSE_FOR}[ \t]*(?P<op1>=|:|->)|"
    r"(?:[ \t]+(?:for|of|on|to|at)(?:[ \t]+[\w.@:/-]{1,64}){1,3}){0,2}[ \t]+"
    rf"(?:(?P<set>{SET_TO})|(?P<op>(?:is|was|will be|should be)(?: now)?|=|:|->))"
    r"|[ \t]+(?P<to>to)|(?P<colon>:)|(?P<bare>))"
    r"[ \t]+[\"'`]?(?P<v>[^\s\"'`]{3,256})"
)
_WORD_OPS = ("is", "was", "will be", "should be", "is now", "was now", "to")
# "DB creds are admin / X", "credentials: deploy:X", "login with admin:X": a user and a
# password after a word that announces both; only a chosen password counts (see
# `chosen_password`).
_CREDS_PAIR_RE = re.compile(
    r"[a-z]*(?:[ \t]+(?:for|of|on|to|at)(?:[ \t]+[\w.@-]{1,64}){1,3})?"
    r"(?:[ \t]*:|[ \t]+(?:is|are|was|were|with|as|using|via|=))?[ \t]+"
    r"(?P<user>[\w.@+-]{1,64})(?:[ \t]*/[ \t]*|:)(?P<v>[^\s\"'`/][^\s\"'`]{2,255})"
)
_SQL_IDENTIFIED_RE = re.compile(
    r"identified[ \t]+by[ \t]+(?:password[ \t]+)?(?P<v>'[^'\n]+'|\"[^\"\n]+\")"
)
# IDENTIFIED BY in a statement about a user or a role (in lower case the words are English too:
# cffi's docstring says what names a library so): SQL's capitals, or one of these before it.
_SQL_USER_RE = re.compile(r"\b(?:user|role|login|grant)\b")
_SQL_REACH = 240  # characters back to look for them, within the statement


def _sql_statement(text: str, lowered: str, at: int) -> bool:
    if text.startswith("IDENTIFIED", at):
        return True
    lo = max(0, at - _SQL_REACH)
    lo = max(lo, lowered.rfind(";", lo, at) + 1, lowered.rfind("\n\n", lo, at) + 1)
    return _SQL_USER_RE.search(lowered, lo, at) is not None


_SECURESTRING_RE = re.compile(
    r"convertto-securestring[ \t]+(?:-string[ \t]+)?(?P<v>'[^'\n]+'|\"[^\"\n]+\")"
)
_NETRC_RE = re.compile(
    r"(?m)^[ \t]*(?:(?:machine|default|login)\b[^\n]*?[ \t])?password[ \t]+(?P<v>\S+)[ \t]*"
    r"(?:$|[ \t](?=machine|login|account|macdef|default))"
)
_PGPASS_HINT_RE = re.compile(r":(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:")
_PGPASS_RE = re.compile(
    r"(?m)^[^\s:#][^\s:]*:(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:(?P<v>(?:[^\s:\\]|\\.)+)[ \t]*\r?$"
)
# Commands that take a password as a flag's value.
_COMMAND_RE = re.compile(
    r"(?P<cmd>mysql\w*|mariadb\w*|sshpass|docker|podman|nerdctl|helm|oc|cf|redis-cli|mongo\w*)"
    r"(?![\w-])"
)
_FLAG_VALUE = r"(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s'\"-][^\s'\"]*)"
_COMMAND_FLAGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mysql", re.compile(r"[ \t]-p" + _FLAG_VALUE.replace("[^\\s'\"-]", "[^\\s'\"]"))),
    ("mariadb", re.compile(r"[ \t]-p" + _FLAG_VALUE.replace("[^\\s'\"-]", "[^\\s'\"]"))),
    ("sshpass", re.compile(r"[ \t]-p[ \t]*" + _FLAG_VALUE)),
    ("redis-cli", re.compile(r"[ \t]-a[ \t]+" + _FLAG_VALUE)),
    ("mongo", re.compile(r"[ \t]-p[ \t]+" + _FLAG_VALUE)),
    ("login", re.compile(r"[ \t]-p[ \t]+" + _FLAG_VALUE)),  # docker/podman/helm/oc/cf login
)


_FLAG_RE = re.compile(r"-(?<=[ \t]-)[pa]")  # " -p", "\t-a"... from the dash (one scan, not four)
_FLAG_WIDTH = 2  # its widest match: how far a window of a long text must reach (a test checks)


def _command_words(lowered: str) -> Iterator[re.Match[str]]:
    """The command names on lines that pass -p or -a (few lines do)."""
    starts = {
        lowered.rfind("\n", 0, f.start()) + 1
        for f in _scan.finditer_windowed(_FLAG_RE, lowered, _FLAG_WIDTH)
    }
    for start in sorted(starts):
        end = lowered.find("\n", start)
        yield from _COMMAND_RE.finditer(lowered, start, end if end >= 0 else len(lowered))


def _unquoted(text: str, s: int, e: int) -> tuple[int, int]:
    if e - s >= 2 and text[s] in "'\"" and text[e - 1] == text[s]:
        return s + 1, e - 1
    return s, e


def _names_a_password(text: str, end: int) -> bool:
    """The identifier ending at `end` names a password (DB_PASSWORD, not bypass)."""
    start = end
    while start > max(0, end - 64) and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    return classify_name(text[start:end]) == "password"


# A ')' and the punctuation after it, ending a value: "(the password is X), then".
_CLOSING_RE = re.compile(r"\)[.,;:!?)]*\Z")


def _sentence_value(text: str, s: int, e: int) -> str:
    """The value at [s, e) without the punctuation that ends its sentence ("... is X.") or
    the parenthesis that closes its note ("(the password is X), then")."""
    v = cut_at_escape(text, s, text[s:e], False)  # "the password is X\\n"
    closing = _CLOSING_RE.search(v) if ")" in v else None
    if closing is not None and "(" not in v:
        before = line_before(text, s)
        if before.count("(") > before.count(")"):
            v = v[: closing.start()]
    if not v:
        return v
    e = s + len(v)
    after = text[e : e + 2]
    if v[-1] in ".,;:)" and (not after.strip() or after[1:2].isupper()):
        v = v.rstrip(".,;:)")
    elif v[-1] in ",;" and after[:1] in " \t" and _clause_after(text, e, v[-1]):
        v = v[:-1]  # "X, then restart": a clause goes on after the comma
    return v


# Words that start a clause after a comma or a semicolon ("X, then restart", "X; otherwise"),
# where a password's own last character would be followed by the sentence's words without one
# ("X, for the demo box", "X, and told the team", "X; and ..." read as the password's ',' and
# ';', and stay in it: one more character hidden rather than one shown).
_AFTER_COMMA = frozenset(
    "then but so which please thanks otherwise because if when once i we you it they".split()
)
_AFTER_SEMICOLON = frozenset("then otherwise please i we you it they".split())
_NEXT_WORD_RE = re.compile(r"[ \t]+([A-Za-z]+)\b")


def _clause_after(text: str, e: int, mark: str) -> bool:
    m = _NEXT_WORD_RE.match(text, e)
    words = _AFTER_COMMA if mark == "," else _AFTER_SEMICOLON
    return m is not None and m.group(1).lower() in words


def _pwd_password(v: str) -> bool:
    """After `pwd` (a password's name, and the shell's working directory): only a chosen
    password with no path's separator in it."""
    return "/" not in v and "\\" not in v and chosen_password(v)


_FIRST_WORD_RE = re.compile(r"[^\s\"'`]+")


def sentence_after_name(text: str, vs: int, words: tuple[str, ...], password: bool) -> Hit | None:
    """The value at `vs` after a name that opens a line and a colon, where a sentence goes on
    after it ("password: Xk9... until friday", "Password: Xk9.... Use it once."): its first
    word without the sentence's punctuation, a chosen password or (a key's, a token's) a
    machine-made one; "password: The password part of the URL." holds none."""
    m = _FIRST_WORD_RE.match(text, vs)
    if m is None:
        return None
    v = _sentence_value(text, vs, m.end())
    if not v or not (chosen_password(v) if password else machine_made(v, words)):
        return None
    return (
        vs,
        vs + len(v),
        PRIORITY["password_assignment" if password else "generic_secret_assignment"],
    )


def creds_pair_hit(text: str, lowered: str, end: int) -> Hit | None:
    """The password of a user/password pair after the word ending at `end` ("creds are"); the
    assignment scan, which visits "cred" already, calls it there."""
    m = _CREDS_PAIR_RE.match(lowered, end)
    if m is None:
        return None
    s, e = m.span("v")
    v = _sentence_value(text, s, e)
    return (s, s + len(v), PRIORITY["password_assignment"]) if chosen_password(v) else None


# "log in as deploy:X", "signed in with ops / X": one scan from " in" finds the four verbs (a
# scan for each would cost as much again each); the word before decides ("catalog in" is none).
_SIGN_IN_RE = re.compile(r" in(?:(?<=log in)|(?<=sign in)|(?<=logged in)|(?<=signed in))")
_SIGN_IN_VERBS = frozenset({"log", "sign", "logged", "signed"})


def sign_in_hits(text: str, lowered: str) -> Iterator[Hit]:
    """The password of a user/password pair after "log in", "sign in" or their past tense."""
    for m in _SIGN_IN_RE.finditer(lowered):
        start = m.start()
        while start and lowered[start - 1].isalpha():
            start -= 1
        if lowered[start : m.start()] not in _SIGN_IN_VERBS:
            continue  # "catalog in", "redesigned in"
        if start and (lowered[start - 1].isalnum() or lowered[start - 1] in "_-."):
            continue  # user_logged in: a name
        hit = creds_pair_hit(text, lowered, m.end())
        if hit is not None:
            yield hit


def phrase_hits(text: str, lowered: str, password_words: bool) -> Iterator[Hit]:
    """Passwords without a name assigned; `password_words`: "pass" or "pw" is in `lowered`
    (the assignment scan knows)."""
    prio = PRIORITY["password_assignment"]
    if password_words:
        for m in _PROSE_RE.finditer(lowered):
            word_op = m.group("to") or m.group("set") or m.group("op") in _WORD_OPS
            if m.start() and (lowered[m.start() - 1].isalnum() or lowered[m.start() - 1] in "_-"):
                if not (word_op and _names_a_password(text, m.end("kw"))):
                    continue  # inside a longer name (bypass is, pw_hash:); DB_PASSWORD to X counts
            if m.group("colon") and not line_before(lowered, m.start()).strip(" \t-*>"):
                continue  # "password: x" opening a line is an assignment: that rule's
            # "password to X", "password X", "staging password: X": only a chosen password
            strict = (
                m.group("to") or m.group("set") or m.group("colon") or m.group("bare") is not None
            )
            s, e = m.span("v")
            v = _sentence_value(text, s, e)
            e = s + len(v)
            if not v or names_a_secret(v):
                continue  # "password is user.password": code, or a sentence about one
            if plain_word(v.rstrip(".,;:)!?")):
                continue  # "(required if password is set)"
            if m.group("kw") == "pwd" and not _pwd_password(v):
                continue  # "pwd is /home/me": the shell's working directory
            if strict:
                if chosen_password(v):
                    yield s, e, prio
            # "password = x" may be code; "password for the staging db: x" is a sentence
            elif literal_password(v, code=m.group("op") in ("=", ":", "->")):
                yield s, e, prio
    if _scan.contains(lowered, "identified"):
        for m in _SQL_IDENTIFIED_RE.finditer(lowered):
            if not _sql_statement(text, lowered, m.start()):
                continue
            s, e = _unquoted(text, *m.span("v"))
            if not is_placeholder(text[s:e], ("password",)):
                yield s, e, prio
    if _scan.contains(lowered, "convertto-securestring"):
        for m in _SECURESTRING_RE.finditer(lowered):
            s, e = _unquoted(text, *m.span("v"))
            if not is_placeholder(text[s:e], ("password",)):
                yield s, e, prio
    if (
        password_words
        and _scan.contains(lowered, "machine ")
        and _scan.contains(lowered, "password")
    ):
        for m in _NETRC_RE.finditer(lowered):
            s, e = m.span("v")
            if literal_password(text[s:e]):
                yield s, e, prio
    if _PGPASS_HINT_RE.search(text):
        for m in _PGPASS_RE.finditer(text):
            s, e = m.span("v")
            if literal_password(text[s:e]):
                yield s, e, prio
    for m in _command_words(lowered):
        if m.start() and (lowered[m.start() - 1].isalnum() or lowered[m.start() - 1] in "_./-"):
            continue
        end = text.find("\n", m.end())
        line = lowered[m.end() : end if end >= 0 else len(text)]
        cmd = m.group("cmd")
        for family, flag_re in _COMMAND_FLAGS:
            if not cmd.startswith(family) and not (family == "login" and " login" in line):
                continue
            if family == "login" and cmd not in ("docker", "podman", "nerdctl", "helm", "oc", "cf"):
                continue
            for f in flag_re.finditer(line):
                s, e = _unquoted(text, m.end() + f.start("v"), m.end() + f.end("v"))
                if literal_password(text[s:e]):
                    yield s, e, prio
            break


# ---- a secret named after it: "Xk9... is the password", "use Xk9... as the token" ------------

# On the lower-cased text; the value is the word before " is" (or after "use", before " as").
_NAMED_AFTER_RE = re.compile(
    r"[ \t](?:(?P<is>is|was|are|were)(?:[ \t]+(?:the|my|our|your|their|its))?|(?P<as>as)"
    r"(?:[ \t]+(?:the|my|our|your|their|its|a|an))?)[ \t]+(?:[a-z0-9][\w.-]{0,31}[ \t]+){0,2}?"
    r"(?P<kw>p(?:assword|asswd|assphrase|wd|w)|cred(?:ential)?s?|api[ _-]?key|secret[ _-]?key"
    r"|access[ _-]?key|token|secret)(?![\w-])"
)
_VALUE_BEFORE_RE = re.compile(
    r"(?m)(?:^|(?<=[\s(:>*-]))(?P<q>[\"'`]?)(?P<v>[^\s\"'`(]{6,256})(?P=q)\Z"
)
_USE_VERBS = (["use"], ["using"], ["used"])
# What may follow the name: the sentence going on ("... the password for the staging db, ...")
# and not a noun that makes it something else ("the password hash", "the token format").
_AFTER_NAME_RE = re.compile(
    r"[ \t]*(?:$|[\n.,;:!?)]|[ \t](?:for|of|on|to|at|in|from|now|here|that|which|we|i|you"
    r"|and|but|so|until|since|then|today|-|--|—)(?![\w-]))"
)


_AFTER_KEYWORDS = ("pass", "pw", "cred", "secret", "token", "key")  # `spans`' of the names
_NAME_REACH = 120  # characters before a keyword where " is the" or " as" may stand
_NAME_WIDTH = 11  # from the keyword's start to the name's end at most ("credentials")
_USER_RE = re.compile(r"[\w.@+-]{1,64}:")  # "admin:X are the credentials": the user is kept
_KEY_HEADS = ("api", "secret", "access")  # the words before "key" in a name


def _named_after(lowered: str, spans: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """`_NAMED_AFTER_RE`'s matches, looked for only at the keywords `spans` holds that start a
    word (or end api_key) and have " is ", " was " or " as " before them: a scan of the whole
    text would try every space, and most keywords in code are inside a name."""
    done = 0
    find = lowered.find
    for k_start, k_end in spans:
        if k_start < done or not k_start:
            continue
        word = lowered[k_start:k_end]
        before = lowered[k_start - 1]
        if before in "_-":  # api_key, secret-key; not access_token, db_password
            if word != "key" or not lowered.endswith(_KEY_HEADS, 0, k_start - 1):
                continue
        elif before not in " \t" or word not in _AFTER_KEYWORDS:
            continue  # self.token, bypass, pw
        lo = max(done, k_start - _NAME_REACH)
        if find(" is ", lo, k_start) < 0 and find(" as ", lo, k_start) < 0:
            if find(" was ", lo, k_start) < 0 and find(" are ", lo, k_start) < 0:
                if find(" were ", lo, k_start) < 0 and find("\t", lo, k_start) < 0:
                    continue
        end = min(len(lowered), k_start + _NAME_WIDTH)
        while (m := _NAMED_AFTER_RE.search(lowered, lo, end)) is not None:
            if m.start("kw") <= k_start < m.end("kw"):
                done = m.end()
                yield m
                break
            lo = m.start() + 1


def named_after_hits(text: str, lowered: str, spans: list[tuple[int, int]]) -> Iterator[Hit]:
    """A password, token or key a sentence names after it ("Xk9mQ2vLp8rT is the password for
    the staging db", "use Xk9mQ2vLp8rT as the password", "<hex> is our api key"); judged as
    the other prose values are: a chosen password, or a machine-made secret. `spans`: where
    the assignment scan's keywords are in `lowered`."""
    for m in _named_after(lowered, spans):
        if not _AFTER_NAME_RE.match(lowered, m.end()):
            continue  # "the password hash", "the tokens": another thing (and the name's end)
        lo = max(lowered.rfind("\n", 0, m.start()) + 1, m.start() - 260)
        b = _VALUE_BEFORE_RE.search(text, lo, m.start())
        if b is None:
            continue
        s, e = b.span("v")
        v = text[s:e]
        if m.group("as") and lowered[lo : b.start()].split()[-1:] not in _USE_VERBS:
            continue  # "X as the token": only "use X as ..." gives it one
        if names_a_secret(v):
            continue  # "user.password is the password"
        kw = m.group("kw")
        if kw.startswith("c") and (user := _USER_RE.match(v)) is not None:
            s, v = s + user.end(), v[user.end() :]
        if kw.startswith(("p", "c")):
            if chosen_password(v) and (kw != "pwd" or _pwd_password(v)):
                yield s, e, PRIORITY["password_assignment"]
        elif machine_made(v, words_of_name(kw.replace(" ", "_"))):
            yield s, e, PRIORITY["generic_secret_assignment"]


# ---- high-entropy values under any name -----------------------------------------------------

# A machine-made secret assigned to a name that says nothing ("k": "0bK50BApl3...", signing:
# ZTzhzJTAh...): 20+ characters with lower, upper and digits, no words, high entropy.
_RUN = r"[ \t]*[\"'`]?(?P<v>[A-Za-z0-9+/_~-]{20,512}+={0,2})"
_RUN_RES = (re.compile(":" + _RUN), re.compile("=" + _RUN))  # [:=]: see merged_matches
_NEUTRAL_OP_RE = re.compile(
    r"(?P<name>[A-Za-z_][\w.-]{0,63})[\"']?\]?[ \t]*(?<![=!<>])(?::=|=>|=|:)[ \t]*$"
)
# Names of values that are random by nature and not secret.
_NEUTRAL_SKIP = frozenset(
    """sha sha1 sha256 sha384 sha512 md5 hash hashes digest checksum integrity etag fingerprint
    uuid guid id ids commit revision rev version oid nonce data image img src href url uri path
    file name example sample test fixture expected hint icon svg font base64 encoded payload
    cursor ref label title message msg text content body alt pattern regex style bytes
    signature sig n e x y kid x5t x5c modulus exponent public""".split()
)


def random_by_nature(name: str) -> bool:
    """The name says its value is random and no secret (sha256, commit_id, nonce)."""
    return any(w.lower() in _NEUTRAL_SKIP for w in NAME_WORD_RE.findall(name))


def neutral_hits(text: str) -> Iterator[Hit]:
    prio = PRIORITY["high_entropy_string"]
    for m in _scan.merged_matches(*_RUN_RES, text):
        v = m.group("v")
        if not high_entropy(v):
            continue
        s, e = m.span("v")
        q = text[s - 1] if s and text[s - 1] in "\"'`" else ""
        if q and text[e : e + 1] != q:
            continue
        a = _NEUTRAL_OP_RE.search(text, max(0, s - len(q) - 96), s - len(q))
        if a is None:
            continue
        if random_by_nature(a.group("name")):
            continue
        yield s, e, prio


def connection_hits(text: str) -> Iterator[Hit]:
    for m in _CONN_RE.finditer(text):
        pw = m.group("pw")
        if not pw or is_connection_placeholder(pw):
            continue
        yield m.start("pw"), m.end("pw"), PRIORITY["connection_string_password"]


# go-sql-driver/mysql's DSN has no scheme: user:password@tcp(host:port)/db (unix, udp, tcp6
# too). Found at its literal `@<protocol>(`; the user and password are read back from there
# (the driver splits at the first ':' and the last '@': the password may hold either).
_GO_DSN_AT_RE = re.compile(r"@(?=(?:tcp|udp)6?\(|unix\()")
_GO_DSN_CREDS_RE = re.compile(r"[\w.-]+:(?P<pw>[^\s'\"`%]+)\Z")


def go_dsn_hits(text: str) -> Iterator[Hit]:
    for m in _GO_DSN_AT_RE.finditer(text):
        creds = _GO_DSN_CREDS_RE.search(text, max(0, m.start() - 200), m.start())
        if creds is None or is_connection_placeholder(creds.group("pw")):
            continue
        yield creds.start("pw"), m.start(), PRIORITY["connection_string_password"]


# Sourcegraph's first tokens and New Relic's older license keys: 40 hex characters, after the
# word on the same line (gitleaks takes any 40 hex in a text that says "sourcegraph") and not in
# a path, a ref or a URL (.../commit/<sha>), nor named a commit ("sourcegraph rev <sha>") or
# moved to one ("bumped sourcegraph to <sha>") by a line that names no secret.
_HEX40_RE = re.compile(r"(?<![\w/@#.:=-])[0-9a-f]{40}(?![\w-])")
_WORD_REACH = 80  # characters after the word where the token may stand
_WORD_RE = re.compile(r"(?<![a-z])(?:sourcegraph|new[ _-]?relic)")
_MOVED = frozenset(
    """to from at onto into bump bumped bumps bumping update updated updates upgrade upgraded
    upgrades pin pinned pins merge merged merges revert reverted release released tag tagged
    checkout sync synced vendor vendored head main master branch""".split()
)
_NAMES_A_SECRET = frozenset(
    "key keys token tokens secret license licence password pass auth api pat credential".split()
)
_GAP_WORD_RE = re.compile(r"[a-z]+")


def _moved_not_secret(gap: str) -> bool:
    """The words between the name and the hex move a version and name no secret."""
    words = set(_GAP_WORD_RE.findall(gap.lower()))
    return not words.isdisjoint(_MOVED) and words.isdisjoint(_NAMES_A_SECRET)


def named_hex_hits(text: str, lowered: str) -> Iterator[Hit]:
    """40 bare hex characters after "sourcegraph" or "newrelic" on their line."""
    if not _scan.contains(lowered, "sourcegraph") and not _scan.contains(lowered, "relic"):
        return
    for w in _WORD_RE.finditer(lowered):
        after = w.end()
        kind = "service_token" if w.group().startswith("s") else "newrelic_key"
        end = lowered.find("\n", after, after + _WORD_REACH)
        for m in _HEX40_RE.finditer(text, after, end if end >= 0 else after + _WORD_REACH):
            v, gap = m.group(), text[after : m.start()]
            if is_filler(v) or v.isdigit() or random_by_nature(gap) or _moved_not_secret(gap):
                continue
            yield m.start(), m.end(), PRIORITY[kind]


# Snyk's API tokens are UUIDs, which org and project ids are too: only where its CLI is given
# one as the token (`snyk auth <token>`, `snyk config set api=<token>`, as Snyk's docs show).
_SNYK_RE = re.compile(
    r"(?<![\w-])snyk(?:\.exe)?[ \t]+(?:auth[ \t]+|config[ \t]+set[ \t]+api=)['\"]?"
    r"(?P<v>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])"
)


def snyk_hits(text: str, lowered: str) -> Iterator[Hit]:
    """A Snyk token given to its CLI."""
    if not _scan.contains(lowered, "snyk"):
        return
    for m in _SNYK_RE.finditer(lowered):
        if not is_filler(m.group("v").replace("-", "")):
            yield m.start("v"), m.end("v"), PRIORITY["service_token"]
