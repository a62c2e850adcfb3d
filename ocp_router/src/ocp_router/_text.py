"""Split a request into what the user wrote and what they pasted.

Keyword rules and word features look only at the user's own words: a pasted traceback that
mentions `lock` or a code block that calls `migrate()` says nothing about how hard the ask is.
All passes are single compiled regexes (C speed), so a 100 KB paste costs about a millisecond.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# A fenced block, closed or running to the end of the text: the rest of the opening line,
# then up to the next ``` (the plain form, which `cut_fences` finds with str.find: the lazy
# `.*?` tries the alternation at every character and cost 50 µs a KB).
_FENCE = re.compile(r"```[^\n]*\n?.*?(?:```|\Z)", re.S)

# Lines that are pasted material rather than prose: log lines (timestamps, levels), tracebacks,
# stack frames, indented code, and lines that end like code.
_PASTED_LINE = re.compile(
    r"""^(?:
        [ \t]*(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\d\d:\d\d:\d\d[.,]?\d*|\[\d)       # timestamps
      | [ \t]*\[?(?:DEBUG|INFO|WARN(?:ING)?|ERROR|FATAL|TRACE|CRITICAL)\b[\]:]?  # log levels
      | [ \t]*(?:Traceback\ \(most\ recent|File\ "|at\ [\w$.<>]+\(|\w*(?:Error|Exception)\b:)
      | [ \t]*(?:def|class|import|from\ \S+\ import|return|func|fn|pub|package|const|let|var|
                 \#include|public|private|protected|@\w+)\b.*
      | (?:\ {4}|\t)[ \t]*\S                                                    # indented code
      | .*[;{}][ \t]*$                                                          # ends like code
      | [ \t]*[-+]{1,3}[ \t@]                                                   # diff lines
      | [ \t]*[})\]]+[,;]?[ \t]*$
    ).*\n?""",
    re.M | re.X,
)

# File paths are recognised per whitespace-separated token (a regex scan with lookbehinds over
# every position costs ten times more): a token with a directory part and an extension, a
# rooted or relative directory (./x, ../x, ~/x), two or more slashes, or a bare name with a
# known source/config extension. `self.cents`, `db.connect`, `and/or`, `TCP/IP` and
# `12:03:44.123` are not paths.
EXTENSIONS = frozenset(
    "py pyi ipynb js mjs cjs jsx ts tsx go rs java kt kts scala c h cc cpp cxx hpp hh cs rb "
    "php swift m mm sql md rst txt json jsonc yml yaml toml ini cfg conf env sh bash zsh ps1 "
    "htm html css scss sass less vue svelte proto graphql gql tf tfvars hcl gradle xml lock "
    "dockerfile mk cmake lua dart ex exs erl hs ml clj r jl zig nim sol csv properties".split()
)
_PATH_NAMES = frozenset(
    "dockerfile makefile gemfile rakefile procfile jenkinsfile justfile".split()
)
# Product names that look like files.
_NOT_PATHS = frozenset(
    "node.js next.js vue.js nuxt.js express.js three.js d3.js chart.js react.js angular.js "
    "p5.js ember.js backbone.js socket.io".split()
)
_STRIP = ",;:()[]{}<>\"'`!?*"
_CODE_SHAPED = re.compile(r"_|[a-z][A-Z]|\w\.\w|\(\)|`")
# Prose longer than this is only sampled for paths and words: a request is asked in its first
# lines, and the cost must stay flat however much is pasted.
_PROSE_LIMIT = 20_000


def _as_path(token: str) -> str | None:
    token = token.strip(_STRIP).rstrip(".").split(":", 1)[0]
    if not token or "://" in token:
        return None
    lower = token.lower()
    if "/" in token:
        name = lower.rsplit("/", 1)[-1]
        ext = name.rsplit(".", 1)[-1] if "." in name else ""
        if (
            ext in EXTENSIONS
            or lower.startswith(("./", "../", "~/"))
            or (lower.strip("/").count("/") >= 2)
        ):
            return lower
        return None
    if "." in token:
        ext = lower.rsplit(".", 1)[-1]
        if (
            ext in EXTENSIONS
            and lower not in _NOT_PATHS
            and (token[0].isalnum() or token[0] == "_")
        ):
            return lower
        return None
    return lower if lower in _PATH_NAMES else None


# Without these characters and camelCase steps no token is code-shaped or a path (but a
# capitalised Makefile-like name): every token is kept as a word, the common case of a short
# typed request, decided by a few substring checks. A full stop or a parenthesis in prose
# ("It fails. (Sometimes.)") makes nothing a path or code: only a dot before a letter or
# digit (`db.connect`, `a.py`) or an empty call `()` can.
_CAMEL_STEP = re.compile(r"[a-z][A-Z]")
_DOT_BEFORE_WORD = re.compile(r"\.\w")
_NO_PATHS: frozenset[str] = frozenset()


def _spaced_once(text: str) -> bool:
    """Whether `" ".join(text.split()) == text`, at a quarter of the cost on a short request:
    every character str.split splits at but the space is unprintable (a test checks all of
    Unicode), so a printable text without a double, leading or trailing space is spaced once."""
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


def _names_nothing(prose: str, lower: str) -> bool:
    """Whether no token of the prose is code-shaped or a path (`lower`: the prose lower-cased),
    told by a few substring checks."""
    return (
        "_" not in prose
        and "`" not in prose
        and "/" not in prose
        and "()" not in prose
        and "file" not in lower
        and (lower == prose or not _CAMEL_STEP.search(prose))
        and ("." not in prose or not _DOT_BEFORE_WORD.search(prose))
    )


def prose_as_is(text: str) -> str | None:
    """`text.lower()` when `split_request(text)` leaves the text as it is, all of it plain
    prose (no fence, no line break, no code-shaped token or path, spaced once, not cut), so
    `SplitText(text, text, 0, 0, 0, 0, frozenset())`: the common short typed request, told
    in one call instead of four. None otherwise. An unprintable text is never as is (a line
    break is unprintable)."""
    if len(text) > _PROSE_LIMIT or not _spaced_once(text):
        return None
    lower = text.lower()
    return lower if _names_nothing(text, lower) else None


def _paths_and_plain(prose: str) -> tuple[frozenset[str], str]:
    """File paths named in the prose, and the prose without paths and code-shaped tokens
    (`inline code`, snake_case, camelCase, dotted names): their words name things, they do not
    describe the task (`migrate_rows` is not a migration)."""
    prose = prose[:_PROSE_LIMIT]
    if _names_nothing(prose, prose.lower()):
        if "\n" not in prose:
            if _spaced_once(prose):
                return _NO_PATHS, prose
            return _NO_PATHS, " ".join(prose.split())
        return _NO_PATHS, "\n".join([" ".join(line.split()) for line in prose.split("\n")])
    return scan_tokens(prose)


def scan_tokens(prose: str) -> tuple[frozenset[str], str]:
    """`_paths_and_plain` token by token, for prose that may hold code or paths."""
    paths: set[str] = set()
    kept: list[str] = []
    for line in prose.split("\n"):
        words = []
        for token in line.split():
            if token.isalpha():
                words.append(token)
                if token[0].isupper() and token.lower() in _PATH_NAMES:
                    paths.add(token.lower())
            elif ("/" in token or "." in token) and (path := _as_path(token)):
                paths.add(path)
            elif not _CODE_SHAPED.search(token):
                words.append(token)
        kept.append(" ".join(words))
    return frozenset(paths), "\n".join(kept)


class SplitText(NamedTuple):  # a named tuple: built on every request, 4x cheaper
    """The request's own words (`prose`) and measurements of what was pasted."""

    prose: str
    plain: str  # prose without code-shaped tokens and paths: what keyword rules read
    code_blocks: int
    code_lines: int
    code_chars: int
    pasted_lines: int
    paths: frozenset[str]


# After this many single backticks that open no fence, `find_fence` leaves the rest of the
# text to one str.find (a text of inline `code` stays one C call per backtick at most).
_FENCE_TRIES = 8


def find_fence(text: str, start: int = 0) -> int:
    """`text.find("```", start)`, by looking for one backtick at a time: a one-character search
    runs as memchr, while the search for "```" stops at every space (its filter keys
    characters by their low six bits, which a space and a backtick share), 20-90x slower on
    code or logs. A test holds the two together."""
    find = text.find
    for _ in range(_FENCE_TRIES):
        start = find("`", start)
        if start == -1 or text.startswith("```", start):
            return start
        start += 1
    return find("```", start)


def cut_fences(text: str) -> tuple[str, int, int, int]:
    """The text with each fenced block replaced by a newline, and the blocks' number, lines
    and characters: `_FENCE.findall` and `_FENCE.sub("\\n", ...)` by str.find (a test holds
    the two to the same results)."""
    find = text.find
    kept: list[str] = []
    blocks = lines = chars = pos = 0
    end_of_text = len(text)
    while (start := find_fence(text, pos)) != -1:
        eol = find("\n", start + 3)
        close = -1 if eol == -1 else find_fence(text, eol + 1)
        end = end_of_text if close == -1 else close + 3
        blocks += 1
        chars += end - start
        lines += text.count("\n", start, end)
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return "\n".join(kept), blocks, lines, chars


def split_request(text: str) -> SplitText:
    code_blocks = 0
    code_lines = 0
    code_chars = 0
    if "`" in text:  # one memchr for a text without a backtick
        text, code_blocks, code_lines, code_chars = cut_fences(text)
    pasted_lines = 0
    if "\n" in text:
        stripped, pasted_lines = _PASTED_LINE.subn("", text)
        # A request that is nothing but paste (no prose at all) keeps its first line: it is
        # usually the question ("fix this:") or the error itself.
        text = stripped if stripped.strip() else text.split("\n", 1)[0]
    paths, plain = _paths_and_plain(text)
    # positional: a named tuple built from keywords costs a microsecond more
    return SplitText(text, plain, code_blocks, code_lines, code_chars, pasted_lines, paths)
