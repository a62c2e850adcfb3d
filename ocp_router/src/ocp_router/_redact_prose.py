"""Secrets `redact` finds in sentences, as notes and prose give them: a password after its
name ("the prod db password is X", "reset the password to X", "staging password: X"), a key's,
a token's or a secret's machine-made value after its name ("the staging API key is 7f3a...",
"Set MY_SERVICE_TOKEN to ...", "the webhook secret (...)", "api token: ..."), a user and a
password after words that announce both ("DB creds are admin / X", "log in as deploy:X"), and
a value named after it ("X is the password for the staging db", "use X as the token").
`_redact_assignments` calls the rules that start from a name it found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router._redact_base import PRIORITY, Hit, cut_at_escape, line_before
from ocp_router._redact_name_class import classify_name, words_of_name
from ocp_router._redact_values import (
    chosen_password,
    literal_password,
    looks_random,
    machine_made,
    names_a_secret,
    plain_word,
)

__all__ = [
    "SET_TO",
    "colon_in_sentence",
    "creds_pair_hit",
    "named_after_hits",
    "named_in_sentence",
    "prose_hits",
    "sentence_after_name",
    "sign_in_hits",
]

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
# A template's field named "password" ("{{ password }}", "{{- .Values.db.password | quote
# -}}", "${password}", "%(password)s", "<password>", "<%= password %>"), what opens it before
# the name and what closes it after: the words after it are the line's, no value given to it.
_TEMPLATE_OPEN_RE = re.compile(r"(?:\{\{-?|\{%-?|<%=?|[$#%]?\{|%\(|<)[ \t]*(?:[\w-]*\.)*\Z")
_TEMPLATE_CLOSE_RE = re.compile(r"\w*[ \t]*(?:\|[^|{}\n]{1,64})*(?:-?\}\}|%\}|\}|\)s|%?>)")
_WORD_OPS = ("is", "was", "will be", "should be", "is now", "was now", "to")
# "DB creds are admin / X", "credentials: deploy:X", "login with admin:X": a user and a
# password after a word that announces both; only a chosen password counts (see
# `chosen_password`).
_CREDS_PAIR_RE = re.compile(
    r"[a-z]*(?:[ \t]+(?:for|of|on|to|at)(?:[ \t]+[\w.@-]{1,64}){1,3})?"
    r"(?:[ \t]*:|[ \t]+(?:is|are|was|were|with|as|using|via|=))?[ \t]+"
    r"(?P<user>[\w.@+-]{1,64})(?:[ \t]*/[ \t]*|:)(?P<v>[^\s\"'`/][^\s\"'`]{2,255})"
)


def _names_a_password(text: str, end: int) -> bool:
    """The identifier ending at `end` names a password (DB_PASSWORD, not bypass)."""
    start = end
    while start > max(0, end - 64) and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    return classify_name(text[start:end]) == "password"


# A ')' or '}' and the punctuation after it, ending a value: "(the password is X), then",
# "{password: X}".
_CLOSING_RES = {
    ")": ("(", re.compile(r"\)[.,;:!?)}]*\Z")),
    "}": ("{", re.compile(r"\}[.,;:!?)}]*\Z")),
}
# `,` or `;`, then the next key and its `:` or `=` ending the word, and the key's value (`X,
# host: h`, `X,host: h`, `X; user=app`): the fields' separator, no character of the password's
# (`a;o$G=Q`, `N;K=]`, and `Xy7,q:` with nothing after it, at the line's or the object's end).
_NEXT_KEY_RE = re.compile(
    r"[,;][ \t]*[A-Za-z_][\w.-]{0,63}[ \t]*(?::(?![:/])|=(?!=))(?=[ \t]*[^\s,;})\]])"
)

_KEY_TAIL_RE = re.compile(r"[,;][A-Za-z_][\w.-]{0,63}:\Z")


def _sentence_value(text: str, s: int, e: int) -> str:
    """The value at [s, e) without the punctuation that ends its sentence ("... is X."), the
    separator before the next key ("{ password: X, host: h }") or the parenthesis or brace
    that closes its note or object ("(the password is X), then", "{password: X}")."""
    v = cut_at_escape(text, s, text[s:e], False)  # "the password is X\\n"
    if "," in v or ";" in v:
        key = _NEXT_KEY_RE.search(text, s, s + len(v) + 72)
        if key is not None and key.start() < s + len(v) <= key.end():
            v = v[: key.start() - s]
    for closer, (opener, closing_re) in _CLOSING_RES.items():
        closing = closing_re.search(v) if closer in v else None
        if closing is not None and opener not in v:
            before = line_before(text, s)
            if before.count(opener) > before.count(closer):
                v = v[: closing.start()]
    if not v:
        return v
    e = s + len(v)
    after = text[e : e + 2]
    if _KEY_TAIL_RE.search(v):
        pass  # `Xy7,q:` with no value after: the password's own tail, no key (_NEXT_KEY_RE)
    elif v[-1] in ".,;:)" and (not after.strip() or after[1:2].isupper()):
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


def prose_hits(text: str, lowered: str) -> Iterator[Hit]:
    """Passwords a sentence gives after their name ("the prod db password is X", "reset the
    password to X", "staging password: X", "password X"); the caller knows "pass" or "pw" is
    in `lowered`."""
    prio = PRIORITY["password_assignment"]
    for m in _PROSE_RE.finditer(lowered):
        word_op = m.group("to") or m.group("set") or m.group("op") in _WORD_OPS
        if m.start() and (lowered[m.start() - 1].isalnum() or lowered[m.start() - 1] in "_-"):
            if not (word_op and _names_a_password(text, m.end("kw"))):
                continue  # inside a longer name (bypass is, pw_hash:); DB_PASSWORD to X counts
        if m.group("colon") and not line_before(lowered, m.start()).strip(" \t-*>"):
            continue  # "password: x" opening a line is an assignment: that rule's
        if _TEMPLATE_CLOSE_RE.match(lowered, m.end("kw")) and _TEMPLATE_OPEN_RE.search(
            line_before(lowered, m.start(), 64)
        ):
            continue  # "{{ password }}@db": a template's field, the rest of its line no value
        # "password to X", "password X", "staging password: X": only a chosen password
        strict = m.group("to") or m.group("set") or m.group("colon") or m.group("bare") is not None
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
            continue
        # "password = x" may be code; "password for the staging db: x" is a sentence, where
        # nothing expands `$` ("the password is $Pf|>aI…"; "$HOME" is a variable's name)
        code = m.group("op") in ("=", ":", "->")
        if literal_password(v, code=code, dollar_literal=not code):
            yield s, e, prio


# ---- a key, a token or a secret named in a sentence ----------------------------------------

# "the staging API key is 7f3a...", "our deploy token was Xk9...", "the secret for the webhook
# is ...", "set GITHUB_TOKEN to ...", "API_TOKEN was set to ...", "the webhook secret (7f3a...)":
# a key, token or secret named in a sentence, its value after "is" or "to" or in parentheses;
# "API key for staging: 7f3a..." (a state's prose key and its value, at_rest.py): after a colon.
_PROSE_TAIL_RE = re.compile(
    r"(?:[ \t]+(?i:for|of|on|to|at)(?:[ \t]+[\w.@:/-]{1,64}){1,3}){0,2}[ \t]+"
    rf"(?i:{SET_TO}|is|are|was|were|will[ \t]+be|should[ \t]+be|to)[ \t]+[\"'`]?"
    r"(?P<value>[^\s\"'`]{16,512})"
    r"|[ \t]+\([ \t]*[\"'`]?(?P<paren>[^\s\"'`()]{16,512})[\"'`]?[ \t]*\)"
    r"|(?:[ \t]+(?i:for|of|on|to|at)(?:[ \t]+[\w.@/-]{1,64}){1,3}){1,2}[ \t]*:[ \t]+[\"'`]?"
    r"(?P<colon>[^\s\"'`]{16,512})"
)
# "api_key 7f3a...", "X-Api-Key 7f3a...", "API key `7f3a...`": a value after the name and a
# space, no operator.
_SPACED_TAIL_RE = re.compile(
    r"[ \t]+(?P<q>[\"'`]?)(?P<value>[A-Za-z0-9+/_~-]{16,512}=*)(?P=q)(?![^\s,;.)])"
)
_PROSE_VALUE_RE = re.compile(r"[^\s\"'`()]+")
# Words before a bare "key" that leave it a credential (not a cache's, a commit's, a map's).
_BARE_KEY_BEFORE = frozenset(
    """the a new old our my this that current temp temporary use using
    with rotated revoked staging prod production dev test""".split()
) | {""}
_LOWER_HEX_RE = re.compile(r"[0-9a-f]+")


def named_in_sentence(
    text: str, start: int, name_end: int, words: tuple[str, ...], name_class: str
) -> Hit | None:
    """The value after a key's, a token's or a secret's name (no password's: its own rule,
    `prose_hits`) in a sentence: after "is", "to" or "was set to", in parentheses, after words
    and a colon, or after a space ("api_key 7f3a...", "use key 7f3a...")."""
    m = _PROSE_TAIL_RE.match(text, name_end)
    if m is not None:
        group = "value" if m.group("value") else "paren" if m.group("paren") else "colon"
        return _prose_value(text, m.start(group), start, words)
    m = _SPACED_TAIL_RE.match(text, name_end)
    if m is None:
        return None
    if name_class == "secret" or _secret_in_sentence(text, start, words):
        return _prose_value(text, m.start("value"), start, words)
    if words == ("key",) and _bare_key_hex(text, start, m.group("value")):
        return m.start("value"), m.end("value"), PRIORITY["generic_secret_assignment"]
    return None


def _bare_key_hex(text: str, start: int, v: str) -> bool:
    """ "key 7f3a...", "use key 7f3a...": random lower-case hex after a bare "key" that no word
    before makes a lookup's (cache key, commit key, for key, RSA key): an API key in hex reads
    like a digest, so only the word before it tells them apart."""
    before = line_before(text, start).split()[-1:]
    if before and before[0].lower().strip("-*>(:,;") not in _BARE_KEY_BEFORE:
        return False
    return (
        len(v) >= 32
        and _LOWER_HEX_RE.fullmatch(v) is not None
        and any(c.isalpha() for c in v)
        and looks_random(v)
    )


def _with_word_before(text: str, start: int, words: tuple[str, ...]) -> tuple[str, ...]:
    """The name's words with the word before it in the sentence ("API key", "signing key")."""
    before = line_before(text, start).split()[-1:]
    return (*words_of_name(before[0]), *words) if before else words


def _secret_in_sentence(text: str, start: int, words: tuple[str, ...]) -> bool:
    """With the word before it, the name is a credential's ("API key", "signing key")."""
    return classify_name("_".join(_with_word_before(text, start, words))) == "secret"


def _prose_value(text: str, s: int, start: int, words: tuple[str, ...]) -> Hit | None:
    """The value at `s` after a name in a sentence ("<name> is ..."). Only a machine-made one
    counts: a sentence says "the token is expired" or "the key is unique" far more often than
    it quotes one. (Passwords, which people choose, have their own prose rule.)"""
    m = _PROSE_VALUE_RE.match(text, s)
    v = m.group().rstrip(".,;:)!?") if m else ""
    return (
        (s, s + len(v), PRIORITY["generic_secret_assignment"])
        if machine_made(v, _with_word_before(text, start, words))
        else None
    )


def colon_in_sentence(
    text: str, s: int, v: str, start: int, line_prefix: str, words: tuple[str, ...]
) -> Hit | None:
    """ "api token: 7f3a...", "- prod webhook secret: Xk9...": a name after words of a sentence
    or a list item, then a colon; code there (`{ token: x }`, `f(self, token: T)`) has no word
    before. Only a machine-made value counts."""
    last = line_prefix.split()[-1:]
    if not (last and last[0].isalpha() and start and text[start - 1] in " \t"):
        return None
    v = v.rstrip(".,;:!?")
    if not machine_made(v, _with_word_before(text, start, words)):
        return None
    return s, s + len(v), PRIORITY["generic_secret_assignment"]


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
