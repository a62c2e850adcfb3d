"""A search's `path_glob` as the index's paths are written: relative to the workspace,
`/`-separated, whichever way an agent wrote it (`./src/*`, the workspace's absolute path,
`web/../src/*`); one that can only lead out of the workspace is an error, not an empty answer.
`glob_matcher` is how it is matched: fnmatch's rules, and a `**/` that may stand for no
folder at all, as in git and shells with globstar (`src/**/*.py` holds `src/app.py`).
A malformed glob (`[` or `{` left open, a `}` that opens nothing, a range such as `[z-a]`)
is an error, as ripgrep makes it: fnmatch reads it as literal characters or as an empty
class, which matched no file, and the answer read as "no such file"."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

from ocp_server.argument_errors import field_problem
from ocp_server.errors import InputError

__all__ = ["glob_matcher", "malformed", "relative_glob", "scoped_glob"]


def relative_glob(root: Path, path_glob: str, *, scoped: bool = False) -> str:
    """A search's `path_glob` as the index's paths are written: relative to the workspace,
    `/`-separated. `./src/*.py` and the workspace's own absolute path before it mean the same
    as `src/*.py`; an absolute glob elsewhere is an error (it would match nothing, and an
    empty answer reads as "no such code"). `scoped`: `root` is the sub-folder a search is
    in, and the error says so (an example under src/ makes no sense in web/)."""
    hint = HINT_SCOPED if scoped else HINT
    if (wrong := malformed(path_glob)) is not None:
        raise InputError(
            field_problem("path_glob", "expected a well-formed glob", path_glob, hint=wrong)
        )
    where = "the folder searched" if scoped else "the workspace"
    glob = path_glob.replace("\\", "/")
    absolute = glob.startswith("/")
    glob = _DOT_SEGMENTS.sub("/", glob if absolute else "/" + glob)
    if (collapsed := _without_parent_steps(glob)) is None:
        raise InputError(
            field_problem(
                "path_glob",
                f"expected a glob {hint}",
                path_glob,
                hint=f"it leads out of {where} {root.as_posix()}",
            )
        )
    glob = collapsed
    if not absolute:
        return glob.lstrip("/") or "*"
    for folder in dict.fromkeys((root.as_posix(), root.resolve().as_posix())):
        prefix = folder.rstrip("/") + "/"
        if glob.startswith(prefix):
            return glob[len(prefix) :]
    raise InputError(
        field_problem(
            "path_glob",
            f"expected a glob {hint}",
            path_glob,
            hint=f"it is not inside {where} {root.as_posix()}",
        )
    )


def malformed(glob: str) -> str | None:
    """What is wrong with how `glob` is written (ripgrep's errors, in its words), or None.
    Inside a `[...]` class `{`, `}` and `,` are characters; the first `]` after `[` or `[!`
    is one too, as fnmatch reads it."""
    braces: list[int] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "[":
            if (j := class_end(glob, i)) is None:
                return (
                    f"unclosed character class; the '[' at character {i + 1} has no ']' "
                    "(write '[[]' to match a '[')"
                )
            if (wrong := _reversed_range(glob[i + 1 : j])) is not None:
                return f"invalid range {wrong!r} in a character class; give the lower end first"
            i = j + 1
            continue
        if c == "{":
            braces.append(i)
        elif c == "}":
            if not braces:
                return (
                    f"unopened alternate group; the '}}' at character {i + 1} closes no '{{' "
                    "(write '[}]' to match a '}')"
                )
            braces.pop()
        i += 1
    if braces:
        return (
            f"unclosed alternate group; the '{{' at character {braces[-1] + 1} has no '}}' "
            "(write '[{]' to match a '{')"
        )
    return None


def class_end(glob: str, start: int) -> int | None:
    """Where the `[` at `start` closes, as fnmatch reads a class (the first `]` after `[` or
    `[!` is a member), or None when it closes nowhere (fnmatch reads that `[` as itself)."""
    j, n = start + 1, len(glob)
    if j < n and glob[j] == "!":
        j += 1
    if j < n and glob[j] == "]":
        j += 1
    while j < n and glob[j] != "]":
        j += 1
    return j if j < n else None


def _reversed_range(body: str) -> str | None:
    """The first range of a class's body (what is between `[` and `]`) whose ends are the
    wrong way round (`z-a`, which fnmatch makes a class matching nothing), or None."""
    chars = body[1:] if body.startswith("!") else body
    i = 0
    while i + 2 < len(chars):
        if chars[i + 1] == "-":
            if chars[i] > chars[i + 2]:
                return chars[i : i + 3]
            i += 3
        else:
            i += 1
    return None


#: How a glob is written, for errors and notes: in the workspace, and in a sub-folder searched.
HINT = "relative to the workspace, e.g. 'src/**/*.py'"
HINT_SCOPED = "relative to the folder searched, e.g. '**/*.py'"


def scoped_glob(scope: str | None, path_glob: str | None) -> str | None:
    """`path_glob` inside the sub-folder a `workspace` argument named, its `*?[{}` written as
    classes (a folder `pkg{1,2}` is no group of two)."""
    if scope is None:
        return path_glob
    folder = re.sub(r"([*?\[{}])", r"[\1]", scope)
    return f"{folder}/{path_glob or '*'}"


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """Whether a relative path matches `glob`. A `*` crosses `/` as fnmatch's does (`src/*`
    holds all of src/, `*.py` every Python file); a `**/` that starts the glob or follows a
    `/` also matches no folder: fnmatch alone made `src/**/*.py` miss `src/app.py`, and
    `**/*.md` the README at the top, the very globs agents are shown as examples. `{a,b}`
    matches either (nested too), as in ripgrep, VS Code and agents' Glob tools:
    `**/*.{ts,tsx}` matched nothing."""
    bodies = []
    automata: list[_Automaton] = []
    for alternative in _brace_alternatives(glob):
        pieces = _DOUBLE_STAR_FOLDER.split(alternative)
        if len(pieces) > 2:
            # Two `(?:.*/)?` or more backtrack into each other: `**/a*/` twelve times took
            # hours a path. Matched in one pass instead (slower on the usual globs, so only
            # these).
            automata.append(_Automaton(pieces))
        else:
            bodies.append("(?s:" + "(?:.*/)?".join(map(_fnmatch_body, pieces)) + ")")
    match = re.compile("(?:" + "|".join(bodies) + r")\Z").match if bodies else None
    if not automata:
        assert match is not None
        return lambda path: match(path) is not None
    return lambda path: (
        (match is not None and match(path) is not None) or any(a.matches(path) for a in automata)
    )


MAX_ALTERNATIVES = 256  # globs one `path_glob` expands to, at most (each is tried per path)


def _brace_alternatives(glob: str) -> list[str]:
    """The globs `glob`'s `{a,b}` groups stand for, innermost groups first; `glob` alone when
    it has none. A brace that closes no group is a character, as fnmatch reads it."""
    done: list[str] = []
    todo = [glob]
    while todo:
        current = todo.pop()
        group = _innermost_group(current)
        if group is None:
            done.append(current)
            continue
        start, end = group
        cuts = [
            start,
            *(i for i in _outside_classes(current, start + 1, end) if current[i] == ","),
            end,
        ]
        todo += [
            current[:start] + current[a + 1 : b] + current[end + 1 :] for a, b in pairwise(cuts)
        ]
        if len(done) + len(todo) > MAX_ALTERNATIVES:
            raise InputError(
                field_problem(
                    "path_glob",
                    f"expected a glob of at most {MAX_ALTERNATIVES} alternatives (fewer "
                    "{a,b} groups)",
                    glob,
                )
            )
    return list(dict.fromkeys(reversed(done)))


def _innermost_group(glob: str) -> tuple[int, int] | None:
    """Where the first `{...}` with no brace inside starts and ends, or None. A brace inside a
    `[...]` class is a character (as `malformed` reads it): `[{]a[}]` is the name `{a}`."""
    start = None
    for i in _outside_classes(glob, 0, len(glob)):
        if glob[i] == "{":
            start = i
        elif glob[i] == "}" and start is not None:
            return start, i
    return None


def _outside_classes(glob: str, start: int, stop: int) -> Iterator[int]:
    """The positions from `start` to `stop` of `glob`'s characters that are in no `[...]`
    class (a `[` that closes nowhere is a character itself, as fnmatch reads it)."""
    i = start
    while i < stop:
        if glob[i] == "[" and (j := class_end(glob, i)) is not None:
            i = j + 1
            continue
        yield i
        i += 1


def _fnmatch_body(piece: str) -> str:
    translated = fnmatch.translate(piece)  # "(?s:<body>)\Z" (Python 3.14: "\z")
    if not (translated.startswith("(?s:") and translated[-3:] in (r")\Z", r")\z")):
        raise RuntimeError(f"fnmatch.translate changed its form: {translated!r}")
    return translated[4:-3]


# The automaton's tokens besides single characters: any one character (`?`), any run (`*`),
# and `**/` (nothing, or any run that ends with `/`).
_ANY, _STAR, _FOLDERS = "?", "*", "**/"
_Token = str | re.Pattern[str]


class _Automaton:
    """One glob's `**/`-joined pieces matched as fnmatch would, in one pass over a path with
    the set of places in the glob it may have reached as the bits of an int (no backtracking,
    so no glob takes longer than its length times the path's)."""

    def __init__(self, pieces: list[str]) -> None:
        tokens: list[_Token] = []
        for n, piece in enumerate(pieces):
            if n:
                tokens.append(_FOLDERS)
            tokens += _piece_tokens(piece)
        # A run of `*` and `**/` matches what one `*` does (`**/` alone when there is no `*`),
        # so that every run is one token long and one step takes a skip past any of them.
        merged: list[_Token] = []
        for t in tokens:
            if t in (_STAR, _FOLDERS) and merged and merged[-1] in (_STAR, _FOLDERS):
                merged[-1] = _STAR if _STAR in (t, merged[-1]) else _FOLDERS
            else:
                merged.append(t)
        self._single = [(i, t) for i, t in enumerate(merged) if t not in (_STAR, _FOLDERS)]
        self._loops = sum(1 << i for i, t in enumerate(merged) if t in (_STAR, _FOLDERS))
        self._folders = sum(1 << i for i, t in enumerate(merged) if t == _FOLDERS)
        self._accept = 1 << len(merged)
        self._masks: dict[str, int] = {}
        self._start = 1 | ((1 & self._loops) << 1)
        # Every path the glob matches, and a few more: each `**/` read as `*`. fnmatch's
        # regex for that takes linear time (its runs of `*` cannot backtrack into each other,
        # as `.*`s joined would), and turns most paths away before the slower walk. Not for a
        # glob with a `[`: joined, an unclosed `[` in one piece and a `]` in a later one would
        # read as one class, and turn away paths the glob matches.
        self._may_match = (
            None
            if "[" in "".join(pieces)
            else re.compile(fnmatch.translate("*".join(pieces))).match
        )

    def _mask(self, c: str) -> int:
        """The single-character tokens `c` matches, as bits."""
        mask = self._masks.get(c)
        if mask is None:
            mask = 0
            for i, t in self._single:
                if t == _ANY or (t == c if isinstance(t, str) else t.fullmatch(c) is not None):
                    mask |= 1 << i
            self._masks[c] = mask
        return mask

    def matches(self, path: str) -> bool:
        if self._may_match is not None and self._may_match(path) is None:
            return False
        at, loops, folders = self._start, self._loops, self._folders
        stars = loops & ~folders
        for c in path:
            stay = at & loops  # in a `*` or a `**/`, which take any character
            reached = (at & self._mask(c)) << 1
            if c == "/":
                reached |= (at & folders) << 1  # a `**/` left by its `/`
            if not (stay or reached):
                return False
            # A token just reached may be skipped when it is a `*` or a `**/` (nothing); a
            # `*` may end anywhere, but a `**/` that took characters only at a `/`.
            at = reached | stay | (((reached & loops) | (stay & stars)) << 1)
        return bool(at & self._accept)


def _piece_tokens(piece: str) -> list[_Token]:
    """A piece's tokens, read as fnmatch.translate reads it: a bracket group (one character
    of a class, by fnmatch's own translation) or a `[` that closes none, `?`, `*`, others."""
    tokens: list[_Token] = []
    i, n = 0, len(piece)
    while i < n:
        c = piece[i]
        i += 1
        if c != "[":
            tokens.append(c)  # `?` and `*` are the tokens' own names
            continue
        if (j := class_end(piece, i - 1)) is None:
            tokens.append(re.compile(re.escape("[")))
        else:
            tokens.append(re.compile("(?s:" + _fnmatch_body(piece[i - 1 : j + 1]) + ")"))
            i = j + 1
    return tokens


_DOUBLE_STAR_FOLDER = re.compile(r"(?:^|(?<=/))\*\*/")
_DOT_SEGMENTS = re.compile(r"/(?:\.(?:/|$))+")


def _without_parent_steps(glob: str) -> str | None:
    """`/web/../src/*` as `/src/*`; None when a `..` climbs above the glob's start."""
    if ".." not in glob:
        return glob
    parts: list[str] = []
    for part in glob.split("/"):
        if part != "..":
            parts.append(part)
        elif len(parts) > 1:  # parts[0] is the "" before the leading "/"
            parts.pop()
        else:
            return None
    return "/".join(parts)
