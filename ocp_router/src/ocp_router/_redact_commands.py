"""Passwords that commands take in forms of their own, which no name-and-value rule reads:
keytool's `-storepass X`/`-keypass X`/`-new X`, openssl's `pass:X` (`env:VAR`, `file:path`,
`fd:N` and `stdin` name where it is, and stay), FreeRDP's `/p:X`, htpasswd's last argument
under `-b`, ldappasswd's `-a X`/`-s X`, wget's, svn's and `docker`/`podman`/`helm`/`az login`'s
`--password X`, SQL*Plus's `user/X@db` (its scripts' `CONNECT user/X`) and `net use
\\\\srv\\share X`. The option names it, so the value is a password though it reads as a word
(tayeiapbu); variables and placeholders stay, and so does a sentence's word after a flag it
names (`flag_named_in_sentence`).
One-letter flags (openssl enc -k, rdesktop -p, `az login -p`, Samba's -U user%X among them)
are `_redact_phrases`'.

Each tool but FreeRDP, SQL*Plus and `net use` is looked for only when a "pass" of its flags is
among the keyword scan's spans (the word before it or the `:` after it says whose): a substring
test of each name costs about 0.06 ms per 100 KB, six of them 7% of redaction, and half the
files hold "pass" or "pw". The three hold none: their names are looked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router import _redact_scan as _scan
from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_values import dollar_reference, is_placeholder, is_reference

__all__ = [
    "command_hits",
    "flag_named_in_sentence",
    "flag_password",
    "single_quoted",
]

_V = r"(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s'\"-][^\s'\"]*)"
# (the tool's name, a literal of the lower-cased text without which it is not looked for, the
# flags on the line after it). Matched on the text as written: the options are case-sensitive.
# Each but FreeRDP's has "pass" in its flags, looked for only when the keyword scan found it.
_TOOLS: tuple[tuple[re.Pattern[str], str, tuple[re.Pattern[str], ...]], ...] = (
    (
        re.compile(r"keytool"),
        "keytool",
        (
            re.compile(r"[ \t]-(?:src|dest)?(?:store|key)pass[ \t]+" + _V),
            re.compile(r"[ \t]-new[ \t]+" + _V),  # -storepasswd's, -keypasswd's new one
        ),
    ),
    (
        re.compile(r"openssl"),
        "openssl",
        (
            re.compile(r"[ \t]-pass(?:in|out|word)?[ \t]+pass:(?P<v>[^\s'\"]+)"),
            re.compile(r"[ \t]-pass(?:in|out|word)?[ \t]+(?P<q>['\"])pass:(?P<v>[^'\"\n]+)(?P=q)"),
        ),
    ),
    (
        re.compile(r"ldappasswd"),  # OpenLDAP's: -a the old password, -s the new (-w: phrases')
        "ldappasswd",
        (re.compile(r"[ \t]-[as][ \t]*" + _V),),
    ),
    (
        re.compile(r"wget|svn|docker|podman|nerdctl|helm|az"),  # and `X login --password`
        "-password",  # --password, --http-password…
        (re.compile(r"[ \t]--(?:http-|ftp-|proxy-)?password[ \t]+" + _V),),
    ),
)
_FREERDP = (
    re.compile(r"(?:[xw]|wl|sdl-)?freerdp\d?"),
    "freerdp",
    (re.compile(r"[ \t][/+](?:p|gp):" + _V),),  # the user's, the gateway's
)
# Tools whose forms hold no "pass", looked for by name: SQL*Plus's `user/X[@db]` (its first
# argument after the options; `/ as sysdba` and `user@db` give none), Windows' `net use
# [Z:] \\srv\share X /user:u` (the documented place) or `… /user:u X`, its commands read in
# either case.
_SQLPLUS = (
    re.compile(r"sqlplus"),
    "sqlplus",
    # then `@db`, the line's end, a script, `as sysdba` or a redirect: not prose's `client/server`;
    # the password double-quoted as Oracle asks of one with symbols (`'scott/"P@ss!"@orcl'`)
    (
        re.compile(
            r"^(?:[ \t]+-\w+)*[ \t]+['\"]?[A-Za-z_][\w$#]*/(?P<v>\"[^\"\n]+\"|[^\s@/'\"]+)"
            r"(?=@|['\"]?[ \t]*(?:$|[@<>|]|as[ \t]))"
        ),
    ),
)
# not an option, not `*` (asks), not code's keyword argument (`render=cmd_arg),`); then an
# option or the line's end, not prose ("share command")
_NET_V = r"(?![A-Za-z_]\w*=[\w.]*[),])(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s/*'\"]\S*)(?=[ \t]*(?:$|/))"
# the share and the user: a word with no quote in it, or quoted whole; a quote closing code's
# string that quotes the command (`"NET USE \\\\h\\s /USER:x\n", render=x`) ends the command
_NET_WORD = r"(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s'\"]+)"
_NET_USE = (
    re.compile(r"(?i)net"),
    "net use",
    (
        re.compile(
            r"(?i)^[ \t]+use(?:[ \t]+(?:[a-z]:|\*))?[ \t]+(?=['\"]?\\\\)"
            + _NET_WORD
            + r"[ \t]+"
            + _NET_V
        ),
        re.compile(r"(?i)^[ \t]+use\b[^\n]*?[ \t]/user:" + _NET_WORD + r"[ \t]+" + _NET_V),
    ),
)
_BY_NAME = (_FREERDP, _SQLPLUS, _NET_USE)
# SQL*Plus's own `CONN[ECT] user/X[@db] [AS SYSDBA]` in a script, first on its line (after a
# `SQL>` prompt); on the lower-cased text. Not prose: "connect to/from" (a closed-class word),
# "conn/sec" (no space), a sentence going on after it.
_CONNECT_RE = re.compile(
    r"conn(?:ect)?[ \t]+['\"]?(?P<u>[a-z_][\w$#]*)/(?P<v>\"[^\"\n]+\"|[^\s@/'\";]+)"
    r"(?=@|['\"]?[ \t]*(?:;|\r?$|as[ \t]))",
    re.M,
)
_PROMPT_RE = re.compile(r"[ \t]*(?:sql>[ \t]*)?")
_HTPASSWD_RE = re.compile(r"htpasswd")
# A shell word, as htpasswd's arguments are read; the line ends at a pipe, a list or a redirect.
_WORD_RE = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"|;&<>]+|[|;&<>]")


def flag_password(v: str, dollar_literal: bool) -> bool:
    """The value of a command's password flag (or a .netrc entry's) is a password, though it
    reads as a word (the flag names it); not a placeholder, a template or a variable the
    shell expands (`$X`, `"$X"`). Where `$` is a character like any other (`dollar_literal`:
    in single quotes, in cmd) `$Pf|>aI…` is the password, and `$X`, `${X}`, `$(cmd)` are
    still references (is_placeholder's templates): what a script quoted for a later shell."""
    if is_placeholder(v, ("password",)) or (v[0] == "$" and not dollar_literal):
        return False
    return not dollar_reference(v) and not is_reference(v, ("password",), code=False)


def single_quoted(text: str, s: int) -> bool:
    """The shell reads `s` inside single quotes, pairing the quotes of its word before it
    (`'backup%X'`, `'scott/"X"@orcl'`; not `"scott/'X"`): the quote just before the value
    is not the only one that counts."""
    i = max(text.rfind(c, 0, s) for c in " \t\n") + 1
    quote = ""
    while i < s:
        c = text[i]
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "\\":
            i += 1  # an escaped character, outside single quotes
        elif c == quote:
            quote = ""
        elif not quote and c in "'\"":
            quote = c
        i += 1
    return quote == "'"


# Words that, unquoted after a password flag, start the sentence that names the flag instead of
# giving its value ("Avoid wget --password because it shows in ps", "the keytool -storepass
# option takes it", "unzip -P the prompt"): English's closed classes (no one picks "because"
# for a password) and the nouns and verbs that describe an option. A word-like password
# (raspberry, tayeiapbu) is none of them, so it stays hidden in a sentence too.
_SENTENCE_WORDS = frozenset(
    """a an the this that these those each every any some no all both either neither another
    such its their our your my his her i you he she it we they me him us them which who what
    whose about above across after against along among around as at before behind below
    beside besides between beyond by despite during except for from in inside into like near
    of off on onto out over past per since than through till to toward towards under unlike
    until up upon via with within without and or but nor so yet because although though while
    whereas unless whether if when whenever where wherever once then also otherwise instead
    not never always only here there too is are was were be been being am has have had do
    does did can could will would shall should may might must option options flag flags
    switch argument arguments parameter parameters value values takes take sets set gives
    expects accepts reads puts passes leaks shows exposes works""".split()
)
# A word in parentheses, closed or followed by a comma: "(keytool),", "(wget,".
_ASIDE_RE = re.compile(r"\([a-z]+(?:\)[.,;:]?|,)")
# The sentence goes on: a word after it on its line, or an ellipsis ("--password because ...").
_SENTENCE_GOES_ON_RE = re.compile(r"[ \t]+(?:[(\"'`]?[A-Za-z]|\.\.\.|…)")


def flag_named_in_sentence(text: str, s: int, e: int) -> bool:
    """The unquoted value at [s, e) after a password flag is a sentence's word, the flag named
    rather than given a value: a word of `_SENTENCE_WORDS` (with the punctuation closing its
    sentence) that the sentence goes on after, on its line. At the line's end a word is read
    as the password (`wget --password` and a word, then nothing): when unsure, redact."""
    word = text[s:e]
    if _ASIDE_RE.fullmatch(word):
        return True  # "--password (wget, svn)": the tools it belongs to, in parentheses
    core = word.rstrip(".,;:!?)")
    if core.lower() not in _SENTENCE_WORDS or not core.isalpha():
        return False
    if core != word:
        return True  # the sentence ends with it: "… the -storepass option."
    return _SENTENCE_GOES_ON_RE.match(text, e) is not None


def _unquoted(text: str, s: int, e: int) -> tuple[int, int]:
    if e - s >= 2 and text[s] in "'\"" and text[e - 1] == text[s]:
        return s + 1, e - 1
    return s, e


def _tool_lines(text: str, name_re: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    """Where each line that runs the tool continues after its name, and the rest of the line."""
    for m in name_re.finditer(text):
        s = m.start()
        if s and (text[s - 1].isalnum() or text[s - 1] in "_.-"):
            continue
        end = m.end()
        if text.startswith(".exe", end):
            end += 4
        if end < len(text) and (text[end].isalnum() or text[end] in "_-"):
            continue
        stop = text.find("\n", end)
        yield end, text[end : stop if stop >= 0 else len(text)]


def _htpasswd_hits(text: str) -> Iterator[Hit]:
    """`htpasswd -b[c…] file user PASSWORD` (with -n: `user PASSWORD`)."""
    for at, line in _tool_lines(text, _HTPASSWD_RE):
        flags, args = "", list[re.Match[str]]()
        words = iter(_WORD_RE.finditer(line))
        for w in words:
            word = w.group()
            if word in "|;&<>":
                break
            if word.startswith("-") and not args:
                flags += word[1:]
                if word == "-C":  # bcrypt's cost: an argument of its own
                    next(words, None)
                continue
            args.append(w)
        need = 2 if "n" in flags else 3
        if "b" not in flags or len(args) < need:
            continue
        s, e = _unquoted(text, at + args[need - 1].start(), at + args[need - 1].end())
        if s < e and flag_password(text[s:e], single_quoted(text, s)):
            yield s, e, PRIORITY["password_assignment"]


def _wanted(lowered: str, spans: list[tuple[int, int]]) -> Iterator[str]:
    """The gates of the tools whose flags some "pass" among the keyword spans may belong to:
    -storepass/-keypass (keytool), pass: (openssl), --password (wget, svn), htpasswd,
    ldappasswd."""
    for i, _ in spans:
        if not lowered.startswith("pass", i):
            continue
        before = lowered[max(0, i - 5) : i]
        if before.endswith(("store", "key")):
            yield "keytool"
        elif before.endswith("-"):
            yield "-password"
        elif before.endswith("ht"):
            yield "htpasswd"
        elif before.endswith("ldap"):
            yield "ldappasswd"
        if lowered.startswith(":", i + 4):
            yield "openssl"


def command_hits(
    text: str, lowered: str, spans: list[tuple[int, int]], has_pass: bool
) -> Iterator[Hit]:
    """Passwords given to keytool, openssl, FreeRDP, htpasswd, wget, svn, the login commands,
    SQL*Plus and `net use` in their own forms; `spans`: the keyword scan's
    (`_redact_scan.keyword_spans`), which holds every "pass" these tools' flags hold;
    `has_pass`: it found one."""
    wanted = set(_wanted(lowered, spans)) if has_pass else set()
    for name_re, gate, flags in _TOOLS:
        if gate in wanted:
            yield from _flag_hits(text, name_re, flags)
    for name_re, gate, flags in _BY_NAME:
        if _scan.contains(lowered, gate):
            yield from _flag_hits(text, name_re, flags, gate)
    if "htpasswd" in wanted:
        yield from _htpasswd_hits(text)
    if _scan.contains(lowered, "conn"):
        yield from _connect_hits(text, lowered)


def _connect_hits(text: str, lowered: str) -> Iterator[Hit]:
    """SQL*Plus's `CONNECT scott/X@orcl`, `conn sys/X as sysdba` (`&pw`: a substitution
    variable; `/ as sysdba`: none)."""
    for m in _CONNECT_RE.finditer(lowered):
        line = lowered.rfind("\n", 0, m.start()) + 1
        if _PROMPT_RE.fullmatch(lowered, line, m.start()) is None:
            continue
        if m.group("u") in _SENTENCE_WORDS or m.group("v") in _SENTENCE_WORDS:
            continue  # "connect to/from the host"
        vs, ve = m.span("v")
        s, e = _unquoted(text, vs, ve)
        v = text[s:e]
        if not v.startswith("&") and flag_password(v, _oracle_quoted(text, vs, s)):
            yield s, e, PRIORITY["password_assignment"]


def _oracle_quoted(text: str, vs: int, s: int) -> bool:
    """The value at `s` is in the double quotes Oracle asks of a password with symbols
    (`scott/"$Pf|>aI…"@orcl`, quoted at `vs`): its `$` is the password's, as typed from
    Oracle's documentation (a whole `"$DB_PASS"` is still a variable, `flag_password`'s)."""
    return s != vs and text[vs] == '"'


def _flag_hits(
    text: str, name_re: re.Pattern[str], flags: tuple[re.Pattern[str], ...], gate: str = ""
) -> Iterator[Hit]:
    prio = PRIORITY["password_assignment"]
    for at, line in _tool_lines(text, name_re):
        for flag_re in flags:
            for f in flag_re.finditer(line):
                vs, ve = at + f.start("v"), at + f.end("v")
                s, e = _unquoted(text, vs, ve)
                if s == vs and flag_named_in_sentence(text, s, e):
                    continue
                # cmd expands `%X%`, not `$`: `net use … "$Pf|>aI…"` is the password
                dollar_literal = (
                    gate == "net use"
                    or (gate == "sqlplus" and _oracle_quoted(text, vs, s))
                    or single_quoted(text, s)
                )
                if flag_password(text[s:e], dollar_literal):
                    yield s, e, prio
