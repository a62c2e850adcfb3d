"""Secrets `redact` finds by the words around them, without a name assigned: HTTP credentials
(Authorization headers, bearer tokens, `curl -u`), passwords in connection strings (Go's DSN
too), SQL, PowerShell, netrc and .pgpass lines and commands' flags, high-entropy values under
any name, and 40 bare hex characters after "sourcegraph" or "newrelic". Sentences are
`_redact_prose`'s.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from ocp_router import _redact_scan as _scan
from ocp_router._redact_base import PRIORITY, Hit, cut_at_escape, line_before
from ocp_router._redact_commands import (
    flag_named_in_sentence,
    flag_password,
    single_quoted,
)
from ocp_router._redact_hashes import DIGEST_HINT, digest_hits
from ocp_router._redact_name_class import NAME_WORD_RE
from ocp_router._redact_values import (
    dollar_reference,
    high_entropy,
    is_connection_placeholder,
    is_filler,
    is_placeholder,
    is_reference,
    literal_password,
    looks_random,
    wordy,
)

__all__ = [
    "auth_hits",
    "connection_hits",
    "go_dsn_hits",
    "named_hex_hits",
    "neutral_hits",
    "phrase_hits",
    "random_by_nature",
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
# npm's `_auth` (.npmrc, `//registry/:_auth=`) and Yarn's `npmAuthIdent` (.yarnrc.yml): base64
# of user:password, hidden when it decodes to one (`_authToken` is a token's name).
_NPM_AUTH_RE = re.compile(
    r"(?<![\w-])(?:_auth|npmauthident)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<v>[a-z0-9+/]{8,}={0,2})"
    r"(?![\w+/=])"
)
_CURL_USER_RE = re.compile(
    r"(?<![\w-])(?:-u|--user)[ \t]+[\"']?[^\s:\"']+:(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s\"']+)"
)
# user:password@host: the password may hold any character but a space or a quote (a raw '#'
# or '/' included); it ends at the '@' that a host and a delimiter follow, the last before the
# path (as URL parsers split: `P@ss;w0rd@db` is the password `P@ss;w0rd`, not `P` and a host
# `ss` ended by `;`).
# The user, the host and the port may each be a template (`{{ user }}`, `${DB_HOST}`, `$PORT`,
# `%(host)s`, `<host>`, Python's `{host}`, ERB's `<%= host %>`, Ruby's `#{host}`), as in a
# chart's, a playbook's or an f-string's URL: a real password between is found.
_CONN_FIELD = (
    r"\{\{[^{}\n]{1,80}\}\}|\$\{[\w.:-]{1,64}\}|\$[A-Za-z_]\w{0,63}|%\(\w{1,64}\)s"
    r"|<[\w.-]{1,64}>|\{[A-Za-z_][\w.\[\]]{0,63}\}|<%=?[^%\n]{1,80}%>|#\{[^{}\n]{1,80}\}"
)
_CONN_RE = re.compile(
    rf"://(?P<user>{_CONN_FIELD}|[^\s:/?#@'\"<>`]*):(?P<pw>[^\s'\"<>`]*?)@"
    rf"(?=(?:{_CONN_FIELD}|[\w\[][\w.\[\]%-]*)(?::(?:\d+|{_CONN_FIELD}))?"
    r"(?![\w@:])(?![^\s'\"<>`/?@]*@[\w\[]))"
)
# `https://example.com:8080/users/@alice`: a host, its port and a path an `@` is in, not a user
# and a password (a port's digits, then the path's `/`).
_PORT_PATH_RE = re.compile(r"\d{1,5}/")
_HOST_NAME_RE = re.compile(r"[\w-]+(?:\.[\w-]+)*")
# `;name=` inside what reads as a password: JDBC's fields after a host and port
# (`jdbc:sqlserver://db:1433;user=sa;password=…`), whose `password=` field is read as one.
_FIELD_IN_PASSWORD_RE = re.compile(r";[ \t]*[A-Za-z][\w \t]*=")


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
        if _scan.contains(lowered, "_auth") or _scan.contains(lowered, "authident"):
            yield from _npm_auth_hits(text, lowered)
    if _scan.contains(lowered, "curl"):
        for m in _CURL_USER_RE.finditer(text):
            if "curl" not in line_before(lowered, m.start()):
                continue
            s, e = _unquoted(text, *m.span("v"))
            v = text[s:e]
            # in single quotes the shell expands nothing: '$Pf|>aI…' is the password itself
            if v.startswith("$") and (dollar_reference(v) or not single_quoted(text, s)):
                continue
            if not is_placeholder(v):
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


def _npm_auth_hits(text: str, lowered: str) -> Iterator[Hit]:
    for m in _NPM_AUTH_RE.finditer(lowered):
        s, e = m.span("v")
        v = text[s:e]
        try:
            creds = base64.b64decode(v + "=" * (-len(v) % 4), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
        if ":" in creds and not is_placeholder(v):
            yield s, e, PRIORITY["basic_auth"]


# ---- passwords without an assignment: prose, commands, SQL, line formats ----------------------

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
_NETRC_ENTRY_RE = re.compile(r"[ \t]*(?:machine|default)\b")
# A .pgpass line's port and the fields after it, or htdigest's digest (_redact_hashes): one
# scan stopping at every colon for both.
_COLON_RECORD_HINT_RE = re.compile(rf":(?:(?:\d{{1,5}}|\*):[^\s:]+:[^\s:]+:|{DIGEST_HINT})")
# Its fields escape `:` and `\` with `\` (an IPv6 host: `\:\:1`, `fe80\:\:1`); a bracketed
# host (`[::1]`) is how URLs write one, and people copy it.
_PGPASS_FIELD = r"(?:[^\s:\\]|\\.)+"
_PGPASS_RE = re.compile(
    rf"(?m)^(?:\[[\w:.%]+\]|(?![#:]){_PGPASS_FIELD}):(?:\d{{1,5}}|\*):{_PGPASS_FIELD}:"
    rf"{_PGPASS_FIELD}:(?P<v>{_PGPASS_FIELD})[ \t]*\r?$"
)
# Commands that take a password as a one-letter flag's value.
_COMMAND_RE = re.compile(
    r"(?P<cmd>mysql\w*|mariadb\w*|sshpass|docker|podman|nerdctl|helm|oc|cf|redis-cli|mongo\w*"
    r"|ldap\w+|sqlcmd|bcp|osql|zip|unzip|7z[arz]?|rar|unrar|mosquitto_\w+|openssl|rdesktop"
    r"|smbclient|rpcclient|smbcacls|smbcquotas|smbget|smbtree|winexe|net|az)"
    r"(?![\w-])"
)
_FLAG_VALUE = r"(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s'\"-][^\s'\"]*)"
# Samba's `-U user%X`, `--user=user%X`, `--user user%X`
_SAMBA_USER = re.compile(r"[ \t](?:-U[ \t]*|--user[= \t])['\"]?[^\s%'\"]+%(?P<v>[^\s'\"]+)")
_GLUED = r"[ \t]-p" + _FLAG_VALUE  # 7z/rar -pX; `-p` alone asks, `-p-` sets none
# Windows' switches may start with `/` (7-Zip's `/pX`, sqlcmd's and osql's `/P X`, WinRAR's
# `/hpX`, read on a line the gates below pass: " /hp" looked for apart cost 0.12 ms per
# 100 KB, 2% of redaction), as a Unix path does
# (`7z a b.7z /projects/app`): see _slash_switch.
_SLASH = r"(?P<sw>[-/])"
# Matched on the text as written: the tools' flags are case-sensitive (mysql -P and mosquitto
# -p are a port, unzip -p a pipe, sshpass -P the prompt; mysql's -p takes its password only
# glued: `-p name` asks for it and names the database), but for 7-Zip's, read in either case
# (`7z x -PX`, `7z x /pX`), and RAR's (`-HPX`; -hpX encrypts the headers too).
_COMMAND_FLAGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mysql", re.compile(r"[ \t]-p" + _FLAG_VALUE.replace("[^\\s'\"-]", "[^\\s'\"]"))),
    ("mariadb", re.compile(r"[ \t]-p" + _FLAG_VALUE.replace("[^\\s'\"-]", "[^\\s'\"]"))),
    ("sshpass", re.compile(r"[ \t]-p[ \t]*" + _FLAG_VALUE)),
    ("redis-cli", re.compile(r"[ \t]-a[ \t]+" + _FLAG_VALUE)),
    ("mongo", re.compile(r"[ \t]-p[ \t]+" + _FLAG_VALUE)),
    ("login", re.compile(r"[ \t]-p[ \t]+" + _FLAG_VALUE)),  # docker/podman/helm/oc/cf/az login
    ("ldap", re.compile(r"[ \t]-w[ \t]*" + _FLAG_VALUE)),  # OpenLDAP's ldapsearch, ldapadd…
    ("sqlcmd", re.compile(r"[ \t]" + _SLASH + r"P[ \t]*" + _FLAG_VALUE)),
    ("bcp", re.compile(r"[ \t]-P[ \t]*" + _FLAG_VALUE)),
    ("osql", re.compile(r"[ \t]" + _SLASH + r"P[ \t]*" + _FLAG_VALUE)),
    ("zip", re.compile(r"[ \t]-P[ \t]+" + _FLAG_VALUE)),
    ("unzip", re.compile(r"[ \t]-P[ \t]+" + _FLAG_VALUE)),
    ("mosquitto", re.compile(r"[ \t]-P[ \t]+" + _FLAG_VALUE)),
    ("7z", re.compile(_GLUED.replace("-p", _SLASH + "[pP]"))),
    ("rar", re.compile(_GLUED.replace("-p", _SLASH + "(?:[hH]?[pP])"))),
    ("unrar", re.compile(_GLUED.replace("-p", "-[pP]"))),
    ("openssl", re.compile(r"[ \t]-k[ \t]+" + _FLAG_VALUE)),  # enc's password (-kfile: a file)
    ("rdesktop", re.compile(r"[ \t]-p[ \t]*" + _FLAG_VALUE)),
    # Samba's `-U user%password` (DOMAIN\\user%password)
    ("smb", _SAMBA_USER),
    ("rpcclient", _SAMBA_USER),
    ("winexe", _SAMBA_USER),
    ("net", _SAMBA_USER),
)


# " -p", "\t-a", " -w", " -k", " -U", " -hp", Samba's " --user"... from the dash (one scan, not
# one a flag); on the lower-cased text
_FLAG_RE = re.compile(r"-(?<=[ \t]-)(?:h?p|[awku]|-user)")
_FLAG_WIDTH = 6  # its widest match: how far a window of a long text must reach (a test checks)
# Windows' " /p" and " /hp" (7-Zip's /pX, sqlcmd's /P X, WinRAR's /hpX): one scan led by the
# literal " /" (`[-/]` leading the scan above cost it 4.5-4.8% of redaction: no literal to
# search for first)
_SLASH_P_RE = re.compile(r" /(?:p|hp)")


_LOGIN_COMMANDS = frozenset("docker podman nerdctl helm oc cf az".split())  # `X login -p pw`


def _command_words(lowered: str) -> Iterator[re.Match[str]]:
    """The command names on lines that pass -p or -a (few lines do)."""
    starts = {
        lowered.rfind("\n", 0, f.start()) + 1
        for f in _scan.finditer_windowed(_FLAG_RE, lowered, _FLAG_WIDTH)
    }
    for f in _scan.finditer_windowed(_SLASH_P_RE, lowered, 4):
        starts.add(lowered.rfind("\n", 0, f.start()) + 1)
    for start in sorted(starts):
        end = lowered.find("\n", start)
        yield from _COMMAND_RE.finditer(lowered, start, end if end >= 0 else len(lowered))


# The folders of a command run by its path (/opt/mssql-tools18/bin/, ./, ~/bin/), not a
# URL's or a relative file's (docs/zip)
_COMMAND_DIR_RE = re.compile(r"['\"`]?(?:~|\.{1,2})?(?:/[\w.+-]+)*/")


def _runs_command(lowered: str, at: int) -> bool:
    """The name at `at` is a command's: a word of its own or the last part of a path."""
    if not at:
        return True
    c = lowered[at - 1]
    if c == "/":
        word = max(lowered.rfind(w, 0, at) for w in " \t\n") + 1
        return _COMMAND_DIR_RE.fullmatch(lowered, word, at) is not None
    return not (c.isalnum() or c in "_.-")


_WINDOWS_LINE_RE = re.compile(r"\\|\.exe\b", re.I)
# 7-Zip's and RAR's commands, and those of them whose arguments after the archive are files to
# add (a path there may start `/p`: `7z a b.7z /proc`); the others' name what the archive holds
_ARCHIVE_COMMANDS = frozenset(
    "a b c ch cw d e f h i k l lb lt m p r rc rn rr rv s t u v vb vt x".split()
)
_ADDING_COMMANDS = frozenset("a f h m u".split())


def _slash_switch(line: str, at: int, v: str) -> bool:
    """The value `v` glued to a `/` switch at `at` in `line` (the command's words after its
    name), not a Unix path's tail (`/projects/app`, `/proc`): no `/` in it, and a lower-case
    word only where 7-Zip and RAR take a switch and no path (before the archive's name, or
    after it when the command adds no files: `rar a /hpX b.rar`, `7z x b.7z /pX`) or on a line
    Windows' (a `\\`, an `.exe`; p7zip reads `/` as a path's)."""
    if "/" in v:
        return False
    if not (v.isalpha() and v.islower()) or _WINDOWS_LINE_RE.search(line) is not None:
        return True
    words = line[:at].split()
    if not words or words[0].lower() not in _ARCHIVE_COMMANDS:
        return False
    before_archive = all(w.startswith(("-", "/")) for w in words[1:])
    return before_archive or words[0].lower() not in _ADDING_COMMANDS


def _unquoted(text: str, s: int, e: int) -> tuple[int, int]:
    if e - s >= 2 and text[s] in "'\"" and text[e - 1] == text[s]:
        return s + 1, e - 1
    return s, e


def phrase_hits(text: str, lowered: str, password_words: bool) -> Iterator[Hit]:
    """Passwords without a name assigned, in SQL, PowerShell, netrc, .pgpass and htdigest lines and
    commands' flags; `password_words`: "pass" or "pw" is in `lowered` (the assignment scan
    knows). Sentences are `_redact_prose.prose_hits`'."""
    prio = PRIORITY["password_assignment"]
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
            v = text[s:e]
            # an entry (`machine HOST …`) names it: a word there is a password too
            entry = _NETRC_ENTRY_RE.match(lowered, m.start()) is not None
            if literal_password(v) or (entry and flag_password(v, False)):
                yield s, e, prio
    if _COLON_RECORD_HINT_RE.search(text):
        for m in _PGPASS_RE.finditer(text):
            s, e = m.span("v")
            # the fifth field is the password, as a flag's value is (a word too), and libpq
            # expands nothing in it: `$Pf|>aI…` is one; a heredoc's `$PGPASSWORD` stays
            if flag_password(text[s:e], True):
                yield s, e, prio
        yield from digest_hits(text)
    for m in _command_words(lowered):
        if not _runs_command(lowered, m.start()):
            continue
        end = text.find("\n", m.end())
        # a command quoted in code ends at its literal's escape (`"rar a x.rar /hpux\\n"`)
        line = cut_at_escape(text, m.end(), text[m.end() : end if end >= 0 else len(text)], False)
        cmd = m.group("cmd")
        for family, flag_re in _COMMAND_FLAGS:
            if not cmd.startswith(family) and not (family == "login" and " login" in line):
                continue
            if family == "login" and cmd not in _LOGIN_COMMANDS:
                continue
            for f in flag_re.finditer(line):
                if "sw" in flag_re.groupindex and f.group("sw") == "/":
                    # `/pX`, `/hpX`, as a path's `/proc`, `/hpux`
                    glued = not line[f.end("sw") : f.start("v")].strip("hHpP")
                    if glued and not _slash_switch(line, f.start(), f.group("v").strip("'\"")):
                        continue
                vs, ve = m.end() + f.start("v"), m.end() + f.end("v")
                s, e = _unquoted(text, vs, ve)
                if s == vs and flag_named_in_sentence(text, s, e):
                    continue  # "unzip -P the prompt": the flag named in a sentence
                if flag_password(text[s:e], single_quoted(text, s)):
                    yield s, e, prio
            break


# ---- high-entropy values under any name -----------------------------------------------------

# A machine-made secret assigned to a name that says nothing ("k": "0bK50BApl3...", signing:
# ZTzhzJTAh...): 20+ characters with lower, upper and digits, no words, high entropy.
_RUN = r"[ \t]*[\"'`]?(?P<v>[A-Za-z0-9+/_~-]{20,512}+={0,2})"
_RUN_RES = (re.compile(":" + _RUN), re.compile("=" + _RUN))  # [:=]: see merged_matches
_NEUTRAL_OP_RE = re.compile(
    r"(?P<name>[A-Za-z_][\w.-]{0,63})[\"']?\]?[ \t]*(?<![=!<>])(?::=|=>|=|:)[ \t]*$"
)
# Up to the last character in a window no name nor its operator holds: the name's match starts
# after it (tried from the window's start, a 96-character window cost 6,000 steps a value, half
# the time of a .env file of secrets).
_BEFORE_NAME_RE = re.compile(r".*[^\w.\-\"'\] \t:=>]", re.S)
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
        lo, hi = max(0, s - len(q) - 96), s - len(q)
        # `$` matches before a last newline: that one is no character of the match
        before = _BEFORE_NAME_RE.match(text, lo, hi - (text[hi - 1 : hi] == "\n"))
        a = _NEUTRAL_OP_RE.search(text, before.end() if before else lo, hi)
        if a is None:
            continue
        if random_by_nature(a.group("name")):
            continue
        yield s, e, prio


def connection_hits(text: str) -> Iterator[Hit]:
    for m in _CONN_RE.finditer(text):
        pw = m.group("pw")
        if not pw or is_connection_placeholder(pw) or _FIELD_IN_PASSWORD_RE.search(pw):
            continue
        if _PORT_PATH_RE.match(pw) and _HOST_NAME_RE.fullmatch(m.group("user")):
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
