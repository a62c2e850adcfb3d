"""A search's `path_glob` as the index's paths are written: relative to the workspace,
`/`-separated, whichever way an agent wrote it (`./src/*`, the workspace's absolute path,
`web/../src/*`); one that can only lead out of the workspace is an error, not an empty answer.
`glob_matcher` is how it is matched: fnmatch's rules, and a `**/` that may stand for no
folder at all, as in git and shells with globstar (`src/**/*.py` holds `src/app.py`)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import Path

from ocp_server.errors import InputError

__all__ = ["glob_matcher", "relative_glob"]


def relative_glob(root: Path, path_glob: str) -> str:
    """A search's `path_glob` as the index's paths are written: relative to the workspace,
    `/`-separated. `./src/*.py` and the workspace's own absolute path before it mean the same
    as `src/*.py`; an absolute glob elsewhere is an error (it would match nothing, and an
    empty answer reads as "no such code")."""
    glob = path_glob.replace("\\", "/")
    absolute = glob.startswith("/")
    glob = _DOT_SEGMENTS.sub("/", glob if absolute else "/" + glob)
    if (collapsed := _without_parent_steps(glob)) is None:
        raise InputError(
            f"path_glob: {path_glob!r} leads out of the workspace {root.as_posix()}; "
            "give a glob relative to it, e.g. 'src/**/*.py'"
        )
    glob = collapsed
    if not absolute:
        return glob.lstrip("/") or "*"
    for folder in dict.fromkeys((root.as_posix(), root.resolve().as_posix())):
        prefix = folder.rstrip("/") + "/"
        if glob.startswith(prefix):
            return glob[len(prefix) :]
    raise InputError(
        f"path_glob: {path_glob!r} is not inside the workspace {root.as_posix()}; "
        "give a glob relative to it, e.g. 'src/**/*.py'"
    )


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """Whether a relative path matches `glob`. A `*` crosses `/` as fnmatch's does (`src/*`
    holds all of src/, `*.py` every Python file); a `**/` that starts the glob or follows a
    `/` also matches no folder: fnmatch alone made `src/**/*.py` miss `src/app.py`, and
    `**/*.md` the README at the top, the very globs agents are shown as examples. `{a,b}`
    matches either (nested too), as in ripgrep, VS Code and agents' Glob tools:
    `**/*.{ts,tsx}` matched nothing."""
    bodies = []
    for alternative in _brace_alternatives(glob):
        pieces = [_fnmatch_body(piece) for piece in _DOUBLE_STAR_FOLDER.split(alternative)]
        bodies.append("(?s:" + "(?:.*/)?".join(pieces) + ")")
    match = re.compile("(?:" + "|".join(bodies) + r")\Z").match
    return lambda path: match(path) is not None


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
        todo += [
            current[:start] + o + current[end + 1 :] for o in current[start + 1 : end].split(",")
        ]
        if len(done) + len(todo) > MAX_ALTERNATIVES:
            raise InputError(
                f"path_glob: {glob[:100]!r} expands to over {MAX_ALTERNATIVES} alternatives; "
                "give fewer {a,b} groups"
            )
    return list(dict.fromkeys(reversed(done)))


def _innermost_group(glob: str) -> tuple[int, int] | None:
    """Where the first `{...}` with no brace inside starts and ends, or None."""
    at = 0
    while (end := glob.find("}", at)) >= 0:
        start = glob.rfind("{", at, end)
        if start >= 0:
            return start, end
        at = end + 1
    return None


def _fnmatch_body(piece: str) -> str:
    translated = fnmatch.translate(piece)  # "(?s:<body>)\Z" (Python 3.14: "\z")
    if not (translated.startswith("(?s:") and translated[-3:] in (r")\Z", r")\z")):
        raise RuntimeError(f"fnmatch.translate changed its form: {translated!r}")
    return translated[4:-3]


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
