"""An ignore file's patterns matched as git matches them (dir.c and wildmatch.c), for the
listing outside git and for `.ocpignore`.

pathspec read a few patterns unlike git: a bracket (`[!a]`) matched `/`; a run of stars
(`***/`) was never the `**` that crosses folders; and git's own quirk was missed: in a pattern
holding a `/`, the literal text before its first wildcard is compared apart, and the `**`
that follows it then counts as at the pattern's start (`a**/*` ignores `ab2` and `ab/c/g`).
Each pattern here becomes one regular expression over the name's bytes (a `?` or a bracket
is one byte, as in git, not one character), made by following wildmatch's rules:

- `\\x` is `x`; a trailing `\\`, an unclosed bracket or an unknown `[:class:]` match nothing;
- `?` and a bracket match one byte but `/`; `[!...]`/`[^...]`, ranges, `[:alpha:]` and the
  other classes in ASCII, `]` first is literal;
- a run of 2+ stars at the pattern's start or after `/`, and before `/` or its end, matches
  across folders (`**/` also none of them); any other run of stars is `*`, within one name.

A pattern without `/` (but a trailing one) is matched against a name alone, any other against
the path from the ignore file's folder (a leading `/` dropped); the last pattern that matches
decides; one ending in `/` matches folders only. A folder a pattern ignores is never entered,
so a file in it stays ignored whatever follows (`match_file`).

With `ignore_case` (git's `core.ignoreCase`, WM_CASEFOLD and fspathncmp), ASCII letters match
either case, as git folds them: the name is lower-cased, and so is the pattern's text but
what git compares raw: a letter after `\\` and a bracket's members (`m[X]` and `\\X` match
no `mx`, `mX`, `x` or `X`), while a range also holds the lower case of its capitals (`[A-Z]`
matches `a`) and `[:upper:]` holds both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["IgnoreRules"]

_SLASH = 0x2F
_BACKSLASH = 0x5C
_PUNCT = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
#: wildmatch's classes, ASCII only (git's sane_ctype: no \v or \f in `space`).
_CLASSES: dict[bytes, frozenset[int]] = {
    b"alnum": frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    b"alpha": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    b"blank": frozenset(b" \t"),
    b"cntrl": frozenset([*range(0x20), 0x7F]),
    b"digit": frozenset(b"0123456789"),
    b"graph": frozenset(range(0x21, 0x7F)),
    b"lower": frozenset(b"abcdefghijklmnopqrstuvwxyz"),
    b"print": frozenset(range(0x20, 0x7F)),
    b"punct": frozenset(_PUNCT),
    b"space": frozenset(b" \t\n\r"),
    b"upper": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    b"xdigit": frozenset(b"0123456789ABCDEFabcdef"),
}
_GLOB_SPECIAL = frozenset(b"*?[\\")


class _NoMatch(Exception):
    """The pattern matches no name (wildmatch's WM_ABORT_ALL on every text)."""


def _bracket(p: bytes, i: int, fold: bool) -> tuple[bytes, int]:
    """The regex class of the bracket opening at `p[i]`, and the index after it: wildmatch's
    `[` case, the bytes it matches gathered once instead of tested per byte (`fold`: of a
    lower-cased name, see the module's note)."""
    n = len(p)
    i += 1
    negated = i < n and p[i] in b"!^"
    i += negated
    matched: set[int] = set()
    prev = 0  # wildmatch's prev_ch: 0 after a range or a class (no range may start there)
    while True:
        if i >= n:
            raise _NoMatch
        ch = p[i]
        if ch == _BACKSLASH:
            i += 1
            if i >= n:
                raise _NoMatch
            ch = p[i]
            matched.add(ch)
        elif ch == 0x2D and prev and i + 1 < n and p[i + 1] != 0x5D:  # `a-z`
            i += 1
            end = p[i]
            if end == _BACKSLASH:
                i += 1
                if i >= n:
                    raise _NoMatch
                end = p[i]
            matched.update(range(prev, end + 1))  # none when reversed
            if fold:  # a lower-case byte whose capital is in the range
                matched.update(c | 0x20 for c in range(max(prev, 0x41), min(end, 0x5A) + 1))
            ch = 0
        elif ch == 0x5B and i + 1 < n and p[i + 1] == 0x3A:  # `[:`
            close = p.find(b"]", i + 2)
            if close == -1:
                raise _NoMatch
            if close - (i + 2) < 1 or p[close - 1] != 0x3A:  # no `:]`: a literal `[`
                matched.add(ch)
            else:
                name = p[i + 2 : close - 1]
                if name not in _CLASSES:
                    raise _NoMatch
                matched |= _CLASSES[name]
                if fold and name == b"upper":
                    matched |= _CLASSES[b"lower"]
                i, ch = close, 0
        else:
            matched.add(ch)
        prev = ch
        i += 1
        if i < n and p[i] == 0x5D:  # `]` ends it, but as the first member
            break
    members = (set(range(256)) - matched if negated else matched) - {0, _SLASH}
    if not members:
        raise _NoMatch
    return b"[" + b"".join(b"\\x%02x" % c for c in sorted(members)) + b"]", i + 1


def _wild(p: bytes, fold: bool) -> bytes:
    """The regex of wildmatch(p, text, WM_PATHNAME) over a whole `text`; `p`'s start is where
    a `**` may start (see the module's note on the literal text before it). `fold`: with
    WM_CASEFOLD, over a lower-cased `text`."""
    out: list[bytes] = []
    n, i = len(p), 0
    while i < n:
        ch = p[i]
        if ch == _BACKSLASH:
            if i + 1 >= n:
                raise _NoMatch
            out.append(re.escape(p[i + 1 : i + 2]))
            i += 2
        elif ch == 0x3F:  # `?`
            out.append(b"[^/]")
            i += 1
        elif ch == 0x5B:  # `[`
            regex, i = _bracket(p, i, fold)
            out.append(regex)
        elif ch == 0x2A:  # `*`
            j = i
            while j < n and p[j] == 0x2A:
                j += 1
            after = p[j : j + 2]
            if (
                j - i >= 2
                and (i == 0 or p[i - 1] == _SLASH)
                and (j == n or after[:1] == b"/" or after == b"\\/")
            ):
                if after[:1] == b"/":
                    out.append(b"(?:.*/)?")  # none, or any folders
                    j += 1
                else:
                    out.append(b".*")
            else:
                out.append(b"[^/]*")
            i = j
        else:
            literal = p[i : i + 1]
            out.append(re.escape(literal.lower() if fold else literal))
            i += 1
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[bytes]
    negated: bool
    folders_only: bool  # it ended with `/`
    name_only: bool  # no `/` in it: matched against the last name


def _pattern(text: str, fold: bool) -> _Pattern | None:
    """dir.c's parse_path_pattern and the regex of what it matches (`fold`: of a lower-cased
    name); None when it matches no name."""
    p = text.encode("utf-8", "surrogateescape")
    negated = p.startswith(b"!")
    p = p[negated:]
    folders_only = p.endswith(b"/")
    p = p[: len(p) - folders_only]
    name_only = b"/" not in p
    try:
        if name_only:
            regex = _wild(p, fold)
        else:
            p = p.removeprefix(b"/")
            # match_pathname: the literal text up to the first wildcard is compared apart, and
            # wildmatch starts after it
            literal = next((k for k, c in enumerate(p) if c in _GLOB_SPECIAL), len(p))
            prefix = p[:literal].lower() if fold else p[:literal]  # fspathncmp
            regex = re.escape(prefix) + _wild(p[literal:], fold)
    except _NoMatch:
        return None
    return _Pattern(re.compile(regex, re.DOTALL), negated, folders_only, name_only)


class IgnoreRules:
    """One ignore file's patterns (`git_text.ignore_patterns`), in its order; `ignore_case`:
    git's `core.ignoreCase` (see the module's note)."""

    __slots__ = ("_folders", "_patterns", "ignore_case")

    def __init__(self, patterns: Iterable[str], *, ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        found = (_pattern(p, ignore_case) for p in patterns)
        self._patterns = [p for p in found if p is not None][::-1]
        self._folders: dict[str, bool] = {}  # match_file's verdicts on folders, kept

    def verdict(self, rel: str, is_dir: bool) -> bool | None:
        """Whether the last pattern matching `rel` (relative to the file's folder, without a
        trailing `/`) ignores it (True) or is a negation (False); None: none matches."""
        path = rel.encode("utf-8", "surrogateescape")
        if self.ignore_case:
            path = path.lower()  # ASCII letters only, as git's tolower
        name = path[path.rfind(b"/") + 1 :]
        for pattern in self._patterns:
            if pattern.folders_only and not is_dir:
                continue
            if pattern.regex.fullmatch(name if pattern.name_only else path):
                return not pattern.negated
        return None

    def match_file(self, rel: str) -> bool:
        """Whether `rel` is ignored: a folder on its way is, or it is itself (a trailing `/`: a
        folder)."""
        is_dir = rel.endswith("/")
        rel = rel.rstrip("/")
        at = rel.find("/")
        while at != -1:
            folder = rel[:at]
            ignored = self._folders.get(folder)
            if ignored is None:
                ignored = self._folders[folder] = self.verdict(folder, True) is True
            if ignored:
                return True
            at = rel.find("/", at + 1)
        return self.verdict(rel, is_dir) is True
