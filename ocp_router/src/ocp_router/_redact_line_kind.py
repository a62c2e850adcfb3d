"""What the text around a `NAME=value` says it is, for `_redact_assignments`: a shell or .env
line setting a variable, code continued from the line before (a call's arguments, an object
literal), or a line under an INI section header.
"""

from __future__ import annotations

import re

_ENV_PREFIXES = frozenset({"", "export", "set", "setx", "env", "arg", "local", "readonly"})
# Tokens after which NAME=value sets a variable of a command or a container (-e X=y), or one
# more field of a logfmt line (user=app password=...).
_ENV_FLAGS = frozenset({"-", "-e", "--env", "--build-arg", "--set", "--set-string", "-var"})
_QUOTE_OPEN_RE = re.compile(r"^[a-z]{0,2}[\"'`]")  # a literal opening before the word
_INI_SECTION_RE = re.compile(r"(?m)^[ \t]*\[[\w .:\"'/-]+\][ \t]*$")


def paren_depth(prefix: str) -> int:
    return prefix.count("(") - prefix.count(")")


def env_context(prefix: str) -> bool:
    """NAME=value here sets a variable (shell, .env, docker -e, logfmt), not a keyword argument."""
    if paren_depth(prefix) > 0:
        return False
    tokens = prefix.split()
    if not tokens:
        return True
    last = _QUOTE_OPEN_RE.sub("", tokens[-1].lower())  # f"export X=...
    return last in _ENV_PREFIXES or last in _ENV_FLAGS or ("=" in last and "==" not in last)


# A log or config line's label before NAME=value (`config: password=x`, `db: token=x`); a
# line opening so is code (`if ok: x=y`, `case 1: x=y;`).
_LABEL_RE = re.compile(r"[A-Za-z][\w.-]*:")
_CODE_HEADS = frozenset(
    "if elif else while for with try except finally case default lambda match when".split()
)
# A word before NAME=value that declares it (`let x=y in`, `const x=y`): code.
_DECLARATIONS = frozenset(
    "var let const val auto my our static final dim def new return yield await".split()
)
_WORD_RE = re.compile(r"[A-Za-z][\w-]*")
_NEXT_WORD_RE = re.compile(r"[ \t]+[A-Za-z]")


def label_context(prefix: str, text: str, value_end: int) -> bool:
    """NAME=value here is a field of a log or config line, not code: after a label
    (`config: password=x`), or a word before it and one after (`x password=x y`), which no
    keyword argument (inside its call's parentheses) and no declaration has."""
    if paren_depth(prefix) > 0:
        return False
    tokens = prefix.split()
    if not tokens or tokens[0].lower().rstrip(":") in _CODE_HEADS:
        return False
    last = _QUOTE_OPEN_RE.sub("", tokens[-1])  # echo "db: password=...
    if _LABEL_RE.fullmatch(last):
        return not text.startswith(";", value_end)
    return (
        _WORD_RE.fullmatch(last) is not None
        and last.lower() not in _DECLARATIONS
        and _NEXT_WORD_RE.match(text, value_end) is not None
    )


# Three words in a row: a sentence, not a call's arguments (`url, timeout,`) or code.
_WORDS_RE = re.compile(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")
_CODE_MARKS = frozenset("=([{:\"'")
_APOSTROPHE_RE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])")  # service's, don't


def code_before(text: str, line_start: int) -> bool:
    """The line before opens or continues code (an object literal, a call's arguments); a
    comment's words do not (`# database (postgres),`), nor a sentence's (`Set these below,`)."""
    prev = text[max(0, line_start - 512) : max(0, line_start - 1)].rstrip()
    if not prev.endswith(("{", ",", "(", "[", ";", "=>")):
        return False
    line = prev[prev.rfind("\n") + 1 :].lstrip()
    if line.startswith(("#", "//")):
        return False
    return not (
        line.endswith(",")
        and _WORDS_RE.search(line)
        and _CODE_MARKS.isdisjoint(_APOSTROPHE_RE.sub("", line))
    )


# The next line names the next key (`host: db`, `"port": 5432`) or closes the object.
_NEXT_KEY_LINE_RE = re.compile(r"\r?\n[ \t]*(?:[\"']?[A-Za-z_][\w.-]*[\"']?[ \t]*[:=]|[}\]])")


def object_member(text: str, line_start: int, line_end: int) -> bool:
    """The line from `line_start` to `line_end` (its line break) is a member of an object
    literal or a flow mapping: code opens or continues it on the line before, and the next
    line names the next key or closes it. A `,` ending it is the members' separator."""
    return code_before(text, line_start) and _NEXT_KEY_LINE_RE.match(text, line_end) is not None


def in_ini(text: str, pos: int) -> bool:
    """An INI section header ([database]) comes earlier: `key = value` lines are literal."""
    return _INI_SECTION_RE.search(text, max(0, pos - 4096), pos) is not None
