"""Secrets `redact` finds by the name they are assigned to: `password = ...` in code and config,
.env and shell lines, command-line flags, XML elements; a name and its value side by side
without an operator are `_redact_paired`'s.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator

from ocp_router._redact_base import MARKER_OPEN, PRIORITY, Hit, cut_at_escape, line_before
from ocp_router._redact_fields import ado_value_end, closed_field, putenv_value, spaced_fields
from ocp_router._redact_flag_values import cli_value, triple_quoted_value
from ocp_router._redact_line_kind import (
    code_before,
    env_context,
    in_ini,
    label_context,
    object_member,
)
from ocp_router._redact_name_class import classify_name, documented_class, words_of_name
from ocp_router._redact_paired import config_value, other_value, quoted_span
from ocp_router._redact_prose import (
    colon_in_sentence,
    creds_pair_hit,
    sentence_after_name,
)
from ocp_router._redact_scan import contains, keyword_spans
from ocp_router._redact_tables import before_cell_end, table_hits
from ocp_router._redact_values import (
    TYPE_WORDS,
    assignment_kind,
    is_filler,
    is_reference,
    is_template,
    short_random,
    symbol_heavy_random,
)
from ocp_router._redact_wordpress import (
    lone_salt_name,
    machine_made_salt,
    wordpress_key,
    wordpress_value,
)

__all__ = [
    "KEYWORDS",
    "assignment_hits",
    "xml_hits",
]

# Assignments are found from their keyword outwards: the keyword search runs on the lower-cased
# text (str.find, as the alternation pass|pw|... would match), then the name is widened to its
# identifier and the rest of the assignment is matched in place.
# "login" starts a user and a password ("login with admin:X"), not a name ("log in", "signed
# in" have their own scan: _redact_phrases.sign_in_hits).
KEYWORDS = ("pass", "pw", "secret", "token", "key", "cred", "login")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$-")
_NAME_TAIL_RE = re.compile(r"[\w.$-]*")
_MAX_NAME = 96  # longer runs of name characters are data (base64, minified code), not names
_CUT_RE = re.compile(r"[,;)}\]]")
_PARAM_CUT_RE = re.compile(r"[,;)}\]&]")
_VALUE = r"""
    (?P<value>
        [bBrRuUfF]{0,2}"(?:[^"\\\n]|\\.){0,4096}"
      | [bBrRuUfF]{0,2}'(?:[^'\\\n]|\\.){0,4096}'
      | `[^`\n]{0,4096}`
      | \\"(?:[^"\\\n]|\\[^"\n]){0,4096}\\"
      | [^\s"'`]{1,1024}
    )"""
_ASSIGN_TAIL_RE = re.compile(
    rf"""
    (?P<rq>\\?["'`])?
    \]?
    (?:
        (?:  # a type between the name and `=`: `: str`, Rust's `: &str`, Go's `string`
            [ \t]*:[ \t]*(?:&(?:'\w+[ \t]+)?)?[A-Za-z_\[][\w.\[\], |]*?
          | [ \t]+(?:string|\[\]byte)
        )[ \t]*(?P<aop>=)(?![=>~])[ \t]*
      | (?P<sp1>[ \t]*)(?P<op>:=|=>|===?|!==?|=|:)(?P<sp2>[ \t]*)
    )
    {_VALUE}
    """,
    re.X,
)
# The same without the type: a YAML plain scalar holding `=` (`password: Y=8oe…`).
_PLAIN_TAIL_RE = re.compile(
    rf"""
    (?P<rq>\\?["'`])?
    \]?
    (?P<aop>(?!))?  # never matches: no type here, as the callers read it
    (?P<sp1>[ \t]*)(?P<op>:=|=>|===?|!==?|=|:)(?P<sp2>[ \t]*)
    {_VALUE}
    """,
    re.X,
)
_LITERAL = (
    r"""(?:[bBrRuU]?"(?:[^"\\\n]|\\.){1,1024}"|[bBrRuU]?'(?:[^'\\\n]|\\.){1,1024}'"""
    r"|`[^`\n]{1,1024}`)"
)
# A literal the assigned value is made of: inside a conversion (`[]byte("x")`,
# `String::from("x")`, `Buffer.from('x')`), or as the fallback of a read that may find
# nothing (`process.env.DB_PASSWORD || 'x'`, `os.getenv("DB_PASSWORD") or "x"`).
_INNER_LITERAL_RE = re.compile(
    rf"""
    (?:
        (?:\[\](?:byte|rune)|(?:new[ \t]+)?String(?:::from|\.valueOf)?|bytes|bytearray|str
          |Buffer\.from|new[ \t]+TextEncoder\(\)\.encode|(?:System\.Text\.)?Encoding\.\w+\.GetBytes
          |SecretStr|SecretString|SecretBytes)
        \([ \t]*(?P<wrapped>{_LITERAL})[ \t]*[,)]
      | [\w.$]{{1,200}}(?:\[[^\]\n]{{1,200}}\]|\([^()\n]{{0,200}}\))?!?
        (?:[ \t]*(?:\|\||\?\?)[ \t]*|[ \t]+or[ \t]+)(?P<fallback>{_LITERAL})
    )
    """,
    re.X,
)
_XML_RE = re.compile(
    r"<(?P<name>[\w:.-]*?(?i:pass|pwd|secret|token|key|cred)[\w:.-]*)(?:\s[^<>]*)?>"
    r"(?P<value>[^<>\n]+)</(?P=name)>"
)
_AWS_SECRET_VALUE_RE = re.compile(r"[A-Za-z0-9/+]{40}")

_URL_PARAM_CUT_RE = re.compile(r"[&#\s\"'<>`]")
# A YAML value a person chose ending in `;` (`token: Marble1372;`): letters, digits, a symbol
# no code expression holds there; after no line of code (`password: hashed;` in a class is).
_CHOSEN_THEN_SEMICOLON_RE = re.compile(r"(?=[^;]*[A-Za-z])(?=[^;]*[0-9])[\w!@#$%^&*?~+-]{5,};")
_ADO_CUT_RE = re.compile(r"[;\"'\s]")
# YAML's block scalar indicators (`password: |`, `>-`, `|2+`): the value is on the next line.
_BLOCK_SCALAR_RE = re.compile(r"[|>](?:[+-]?[1-9]?|[1-9][+-])")
_BLOCK_LINE_RE = re.compile(r"[ \t]*(?:#[^\n]*)?\r?\n[ \t]+(?P<value>[^\n]{1,1024})")
# Names inside the value of the name before (`password=password=…`): judged one by one, each
# reads its value (up to 1,024 characters) again, at up to 60 µs a character of such text. Once
# the values judged in such a run add up to more than twice its length and this, the rest of
# the run is hidden whole, unjudged: a regex match a name, and more hidden, never less (each
# value judged a secret lies within the run). Chains in code (`a.token = token = x`) judge
# values about as long as the run: all of them are judged.
DENSE_SLACK = 4096


# A type (Optional[str], typing.Optional[SecretStr]): judged by its name, one of TYPE_WORDS
_ANNOTATION_RE = re.compile(r"(?:[A-Za-z_]\w*\.)*(?P<type>[A-Za-z_]\w*)(?:\[[\w\[\],. |]*\])?")


def _is_annotation(v: str) -> bool:
    m = _ANNOTATION_RE.fullmatch(v)
    return m is not None and m.group("type").lower() in TYPE_WORDS


def _before_quote(rest: str, quote: str) -> str:
    """`rest` up to its first `quote` not escaped by a backslash."""
    i = 0
    while (i := rest.find(quote, i)) >= 0:
        n = len(rest[:i]) - len(rest[:i].rstrip("\\"))
        if n % 2 == 0:
            return rest[:i]
        i += 1
    return rest


def assignment_hits(text: str, lowered: str, spans: list[tuple[int, int]]) -> Iterator[Hit]:
    """The secrets assigned to names; `spans` are where `KEYWORDS` occur in `lowered`."""
    if (yield from _named(text, lowered, spans)):
        # WordPress's salts (AUTH_SALT...) are made and copied with its keys (AUTH_KEY...):
        # looked for where a key is named, which spares every other text a pass (+2%)
        yield from _named(text, lowered, keyword_spans(lowered, ("salt",)))
    elif contains(lowered, "_salt"):
        # a salt without its keys (one line pasted, a deploy step setting one): its name, and
        # a value as WordPress's generator or `openssl rand` makes it, no word or placeholder
        salts = [s for s in keyword_spans(lowered, ("salt",)) if lone_salt_name(lowered, s[0])]
        for hit in _named(text, lowered, salts):
            if machine_made_salt(text[hit[0] : hit[1]]):
                yield hit


def _named(text: str, lowered: str, spans: list[tuple[int, int]]) -> Generator[Hit, None, bool]:
    """The secrets assigned to the names at `spans`; returns whether one of WordPress's keys
    was named."""
    wordpress = False
    name_end = -1
    reach = -1  # where the values of the names so far end
    run = judged = 0  # where the run of values overlapping so far starts, and what was judged
    dense: Hit | None = None  # the run past its budget of values judged, hidden whole
    # the dense run's last value (inside every other's): judged when the run ends, so the value
    # it names is hidden where it recurs elsewhere, as judging each would (one value a run)
    last: tuple[re.Match[str], int, str, str] | None = None
    for k_start, k_end in spans:
        if k_start < name_end:
            continue  # a second keyword in the same name (secret_key)
        if lowered[k_start] == "l":  # "login with admin:X"; login_password is a name
            if not k_start or not (text[k_start - 1].isalnum() or text[k_start - 1] in "_-."):
                hit = creds_pair_hit(text, lowered, k_end)
                if hit is not None:
                    yield hit
                    continue
        start = k_start
        floor = max(0, start - _MAX_NAME)
        while start > floor and text[start - 1] in _NAME_CHARS:
            start -= 1
        if (
            start < k_start
            and text[start] in "nrt"
            and text[start - 1 : start] == "\\"
            and text[start - 2 : start - 1] != "\\"
        ):
            start += 1  # "\\npassword=": the escape's letter is no part of the name
        tail = _NAME_TAIL_RE.match(text, k_end)
        name_end = tail.end() if tail else k_end
        if name_end - start >= _MAX_NAME or (
            start == floor and start and text[start - 1] in _NAME_CHARS
        ):
            continue
        name = text[start:name_end]
        if name_end - start <= 11 and name.isalpha() and lowered.startswith("cred", start):
            # "DB creds are admin / X", "credentials are deploy:X"
            hit = creds_pair_hit(text, lowered, name_end)
            if hit is not None:
                yield hit
                continue
        wordpress_name = lowered.endswith(("_key", "salt"), start, name_end) and wordpress_key(
            words_of_name(name)
        )
        wordpress = wordpress or wordpress_name
        name_class = classify_name(name)
        # a public key's or a digest's name: only the value it names is left (assignment_kind);
        # a sentence after it ("the PublicKeyToken is <hex>") is not read
        documented = name_class is None
        if documented:
            name_class = documented_class(name)
        if wordpress_name:
            name_class = "secret"  # LOGGED_IN_KEY (generic by its "key"), AUTH_SALT (none)
        if name_class is None:
            continue
        if text.startswith("=", name_end) and (hit := putenv_value(text, start, name_end, name)):
            yield hit  # putenv('AUTH_SALT=…'): no assignment read after it is
            continue
        m = _ASSIGN_TAIL_RE.match(text, name_end)
        if m is not None and m.group("aop") and _yaml_scalar_with_eq(text, m, start):
            m = _PLAIN_TAIL_RE.match(text, name_end)
        if (
            m is not None
            and name.startswith("-")
            and m.group("sp1")
            and not m.group("sp2")
            and m.group("op") in ("=", ":")
        ):
            m = None  # `--password =X`, `--password :X`: the shell's next word, `=` and all
        if m is not None:
            s, e = m.start("value"), m.end("value")
            if start >= reach:
                run, judged = s, 0
            reach = max(reach, e)
            if judged + e - s > 2 * (reach - run) + DENSE_SLACK:
                e = _dense_end(text, m)
                kind = "password" if name_class == "password" else "generic_secret"
                prio = PRIORITY[f"{kind}_assignment"]
                if dense is not None and s > dense[1]:
                    yield from _dense_hits(text, dense, last)
                    dense = None
                last = (m, start, name, name_class)
                dense = (
                    (s, e, prio)
                    if dense is None
                    else (dense[0], max(e, dense[1]), min(prio, dense[2]))
                )
                continue
            judged += e - s
            hit = _assignment_value(text, m, start, name, name_class)
        elif name.startswith("-"):
            hit = cli_value(text, name_end, name, name_class)
        else:
            hit = other_value(text, start, name_end, name, name_class, documented)
            if hit is None and before_cell_end(text, name_end):
                yield from table_hits(text, start, name_end)
        if hit is not None:
            yield hit
    if dense is not None:
        yield from _dense_hits(text, dense, last)
    return wordpress


def _dense_hits(
    text: str, dense: Hit, last: tuple[re.Match[str], int, str, str] | None
) -> Iterator[Hit]:
    """A dense run hidden whole, and its last value as judging it finds it."""
    yield dense
    if last is not None and (hit := _assignment_value(text, *last)) is not None:
        yield hit


def _dense_end(text: str, m: re.Match[str]) -> int:
    """Where the value `m` found may end as judging it would read it: its line (a literal
    after `||`), the next line after a colon (a YAML block scalar), or 4,096 characters on
    for an empty literal (a triple-quoted one)."""
    e = m.end("value")
    if m.group("value") in ('""', "''"):
        return min(len(text), e + 4096)
    end = e
    for _ in range(2 if m.group("op") == ":" else 1):
        nl = text.find("\n", end, end + 1100)
        if nl < 0:
            return min(len(text), end + 1100)
        end = nl + 1
    return end - 1


def _yaml_scalar_with_eq(text: str, m: re.Match[str], start: int) -> bool:
    """`password: Y=8oe…` on a line of its own: a YAML plain scalar holding `=`, not a
    typed assignment (`password: str = x`), whose `=` has no space before it, and whose type
    and value are no type word and no reference (`password: str=None`, `: T=DEFAULT_PW`)."""
    aop = m.start("aop")
    raw = m.group("value")
    on_its_own = line_before(text, start).strip() in ("", "-")
    if text[aop - 1] in " \t" or raw[:1] in "\"'`" or not on_its_own:
        return False
    colon = text.find(":", m.start(), aop)
    if colon < 0:
        return False  # Go's `password string=x`
    type_text = text[colon + 1 : aop].strip()
    if re.split(r"\W+", type_text, maxsplit=1)[0].lower() in TYPE_WORDS:
        return False
    return not is_reference(raw, (), code=True)


def _assignment_value(
    text: str, m: re.Match[str], start: int, name: str, name_class: str
) -> Hit | None:
    words = words_of_name(name)
    raw = m.group("value")
    vs = m.start("value")
    if raw in ('""', "''") and text.startswith(raw[0], m.end("value")):
        return triple_quoted_value(text, m.end("value") + 1, raw[0] * 3, words, name_class)
    if m.group("op") == ":" and _BLOCK_SCALAR_RE.fullmatch(raw):
        line = _BLOCK_LINE_RE.match(text, m.end("value"))
        if line is None:
            return None
        return config_value(text, line.start("value"), line.group("value"), words, name_class)
    inner = _INNER_LITERAL_RE.match(text, vs) if raw[:1] not in "\"'`" else None
    if inner is not None:
        group = "wrapped" if inner.group("wrapped") else "fallback"
        raw, vs = inner.group(group), inner.start(group)
    q = quoted_span(raw, vs)
    before = text[start - 1] if start else "\n"
    param = before in "?&;"
    if q is not None:
        s, e, fstring = q
        v = text[s:e]
        if wordpress_key(words) and wordpress_value(v):
            return s, e, PRIORITY["generic_secret_assignment"]  # '…)f S/W$a|7…', spaces and all
        if fstring and "{" in v:
            return None
        if v.endswith(("-", "_")) and text[e + 1 : e + 4].lstrip().startswith("+"):
            return None  # "sk-ant-api03-" + body: a prefix a value is built from
        quoted = True
    else:
        quoted = False
        op = m.group("op") or "="
        lq = before if before in "\"'`" else ""
        line_prefix = line_before(text, start - len(lq))
        prefix = line_prefix.strip()
        spaced = bool(m.group("sp1") or m.group("sp2") or m.group("aop"))
        s = vs
        if (
            op in ("==", "===", "=>")
            and not spaced
            and (env_context(line_prefix) or label_context(line_prefix, text, vs + len(raw)))
        ):
            # PASSWORD==x9... / config: password=>x9...: a value that starts with '=' or '>'
            s, raw, op = m.start("op") + 1, op[1:] + raw, "="
        if op in ("==", "===", "!=", "!=="):
            return None  # token == bos_token_id: a comparison with code
        separator = False  # a `,` or `;` that ends the line after the value
        code = True  # is the right-hand side code (where names are variables)?
        field = False  # or a field of a .env, shell, log, YAML or INI line (no variables)?
        yaml = False  # or YAML, where !x is a tag and | a block scalar?
        if param:
            code = False
            stop = (_URL_PARAM_CUT_RE if before in "?&" else _ADO_CUT_RE).search(raw)
            v = raw[: stop.start()] if stop else raw
            if before == ";" and raw[len(v) : len(v) + 1] == ";":
                v = text[s : ado_value_end(text, s + len(v))]
        elif op == ":" and prefix in ("", "-") and not m.group("aop"):
            rest = text[vs : vs + 1024].split("\n", 1)[0]
            if lq:  # "password: X", inside a literal: the line ends with it
                rest = cut_at_escape(text, vs, _before_quote(rest, lq), True)
            hash_at = re.search(r"\s#", rest)
            v = (rest[: hash_at.start()] if hash_at else rest).rstrip()
            # `password: Kx9!mQ2vLp8,`: judged as written (the `,` makes it symbol-heavy), but an
            # object literal's `,` at the line's end separates it from the next key and stays;
            # after a value symbol-heavy without it (a password manager's) it may be its last
            # character, and is hidden with it, unless an object's members are around it (`{`
            # or a member before, the next key after: a Markdown label list has neither)
            separator = (
                v.endswith((",", ";"))
                and symbol_heavy_random(v)
                and (
                    not symbol_heavy_random(v[:-1])
                    or object_member(text, start - len(line_prefix), vs + len(rest))
                )
            )
            if (
                v.endswith((",", ";", "{", "("))
                and not symbol_heavy_random(v)
                and not (
                    _CHOSEN_THEN_SEMICOLON_RE.fullmatch(v)
                    and not code_before(text, start - len(line_prefix))
                )
            ):
                # an object literal or a declaration in code, not YAML; Go's `Password: Zkq3pw,`
                return _short_password(text, vs, v, name_class) or _bare_key_value(
                    vs, v, words, name_class
                )
            if any(c.isspace() for c in v):  # a sentence: "password: X until friday"
                if v[0] in "\"'`" or name_class == "generic":
                    return None
                # or an object's next key after it: `password: Zkq3pw, host: h`
                return sentence_after_name(
                    text, vs, words, name_class == "password"
                ) or _short_password(text, vs, v.split(None, 1)[0], name_class)
            code = code_before(text, start - len(line_prefix))
            yaml = field = not code  # YAML has no variables: a plain scalar is a literal
        elif (
            op == "="
            and not spaced
            and (
                closed := closed_field(
                    text,
                    raw,
                    s + len(raw),
                    by_spaces := spaced_fields(line_prefix[: len(line_prefix) - len(lq)]),
                )
            )
            != ""
            and (
                name.startswith("-")
                or env_context(line_prefix[: len(line_prefix) - len(lq)])
                or label_context(line_prefix[: len(line_prefix) - len(lq)], text, vs + len(raw))
            )
            # a keyword argument on a line of its own inside a call, indented there:
            # password=parts[...]; a .env line starts at column 0 (or with `export`), and
            # one closing its call (`password=x)`) may too
            and not (
                (closed is not None or line_prefix[:1] in (" ", "\t"))
                and code_before(text, start - len(lq) - len(line_prefix))
            )
        ):
            code = False  # .env, shell, docker -e, logfmt, --password=: no variables here
            field = True
            v = raw if closed is None else closed
            if (
                raw.endswith(";")
                and text[s + len(raw) : s + len(raw) + 1] == " "
                and not (by_spaces and symbol_heavy_random(raw.rstrip(";")))
            ):
                v = v.rstrip(";")  # PASSWORD=hunter2; echo done (logfmt's X;k%; retry=3 keeps it)
        elif op == "=" and spaced and prefix == "" and in_ini(text, start):
            code = False
            field = True  # an INI value, like a .env one
            v = raw
        else:
            if is_template(raw):
                return None  # f"SECRET_KEY={TOKEN}": a field of a format string
            stop = _CUT_RE.search(raw)
            end = stop.start() if stop else len(raw)
            if stop and raw[end] == "]" and "[" in raw[:end]:
                end += 1  # key_bytes[0:32]: a subscript whole ('key_bytes[0:32' reads random)
            v = raw[:end]
            if op == ":" and not param:
                # "X-Api-Key: value" inside a quoted header string; otherwise code or prose
                if not (lq and text[s + len(v) : s + len(v) + 1] == lq and not m.group("rq")):
                    return colon_in_sentence(
                        text, s, v, start, line_prefix, words
                    ) or _short_password(text, s, v, name_class)
        v = cut_at_escape(text, s, v, bool(lq))  # "password=X\\n",: the line's end
        if not v or MARKER_OPEN in v:
            return None
        if code and re.split(r"\W+", v, maxsplit=1)[0].lower() in TYPE_WORDS:
            return None  # password: str | None
        if yaml and _is_annotation(v):
            return None  # a class body's `password: SecretStr`, as a YAML line
        if is_reference(v, words, code, yaml) and not (
            name_class == "password" and code and short_random(v, text)
        ):
            return None  # password = pwd; not password = Zkq3pw, a short password
        e = s + len(v) - (separator and v.endswith((",", ";")))
    if (
        _AWS_SECRET_VALUE_RE.fullmatch(v)
        and "secret" in words
        and ("aws" in words or "access" in words)
        and not is_filler(v)
    ):
        return s, e, PRIORITY["aws_secret_key"]
    kind = assignment_kind(name_class, v, quoted, words, field=not quoted and field)
    if kind is None:
        return None
    return s, e, PRIORITY["connection_string_password" if param else kind]


def _short_password(text: str, s: int, v: str, name_class: str) -> Hit | None:
    """`{ password: Zkq3pw }`, Go's `Password: Zkq3pw,`: a short random value (`short_random`)
    bare after a password's name as an object's key, ending there (`,`, `;`, `}`, the line);
    a type (`password: Md5Hash)`, `: T = x`) goes on with `)`, `=`, `|` or `<`."""
    core = v.rstrip(",;")
    after = text[s + len(core) : s + len(core) + 80].lstrip(" \t")
    if (
        name_class == "password"
        and after[:1] in (",", ";", "}", "\n", "\r", "")
        and short_random(core, text)
    ):
        return s, s + len(core), PRIORITY["password_assignment"]
    return None


def _bare_key_value(s: int, v: str, words: tuple[str, ...], name_class: str) -> Hit | None:
    """`password: Kx9mQ2vLp8Tz,` on a line of its own in an object literal or a Go struct: a
    bare value of letters and digits, no variable's name (`is_reference` in code), judged as an
    assignment's; the `,` stays."""
    core = v[:-1]
    if v[-1] not in ",;" or not core.isalnum() or is_reference(core, words, code=True):
        return None
    kind = assignment_kind(name_class, core, False, words)
    return None if kind is None else (s, s + len(core), PRIORITY[kind])


def xml_hits(text: str) -> Iterator[Hit]:
    for m in _XML_RE.finditer(text):
        name_class = classify_name(m.group("name")) or documented_class(m.group("name"))
        if name_class is None:
            continue
        raw = m.group("value")
        v = raw.strip()
        s = m.start("value") + (len(raw) - len(raw.lstrip()))
        kind = assignment_kind(name_class, v, True, words_of_name(m.group("name")))
        if kind is not None:
            yield s, s + len(v), PRIORITY[kind]
