"""The files of a repository git opens for OCP's commands, checked for pipes and devices.

Git opens a file to read it without looking at what it is: a named pipe (a FIFO) waits for a
writer, a terminal device for input, and the command with it until OCP's timeout (60 s for the
index's file list, for ever for a plain `git rev-parse`). git_config_guard.py checks the config
and ignore files; these are the others every command may read:

- while git looks for the repository (setup.c), in each folder from the workspace up: the HEAD
  of its `.git` folder (or of the folder a `.git` file names) and of the folder itself (a bare
  repository), and beside each HEAD that is a file, `commondir`. A pipe named HEAD in a
  workspace below its repository's top stops every command there;
- in the repository found: `HEAD`, `index` (ls-files), `commondir`; in the folder its worktrees
  share: `packed-refs` (read to resolve HEAD even when the branch's own file is there),
  `shallow`, `info/grafts`, `objects/info/alternates`, the commit-graph files; and the branch
  HEAD names (`git log HEAD` opens its ref file);
- what `git log` and `git diff --cached` open to read objects and the index's other half: a
  split index's `sharedindex.*` (the listing waited its 60 s), each file of `objects/pack`
  and `objects/info/commit-graphs`, each replace ref (`refs/replace/`), and in each alternate
  object store `info/alternates` names (nested up to git's depth of 5; a relative one from
  the objects folder naming it) the same: its own `info/alternates` and packs. Folders are
  listed, nothing is opened or stat'ed but links (a link is followed: one leading out of the
  repository to a pipe waits as much).

A loose object that is a pipe is not looked for before every command (a listing of 256
folders each time): only when a command has not ended within git_config_guard's STALL_S,
with `loose_object_waits`; those found are then checked before every later command.

`/dev/null` is git's empty file, read at once.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from ocp_server.index.git_text import ref_target
from ocp_server.index.gitdirs import (
    GitDirs,
    common_dir,
    is_git_dir,
    linked_git_dir,
    searched_folders,
)
from ocp_server.index.regular_file import read_regular

__all__ = ["loose_object_waits", "nested_waits", "repository_waits", "waits"]

_OWN = ("HEAD", "index", "commondir")
_SHARED = (
    "packed-refs",
    "shallow",
    "info/grafts",
    "objects/info/alternates",
    "objects/info/commit-graph",
    "objects/info/commit-graphs/commit-graph-chain",
)
#: A loose object's folder: the first two hex digits of its name.
_LOOSE = re.compile(r"[0-9a-f]{2}")
#: How deep git follows alternates' own alternates (its `link_alt_odb_entries`).
_ALTERNATES_DEPTH = 5


def waits(path: Path) -> bool:
    """Whether opening and reading `path` may wait or never end: it exists and is neither a
    regular file nor a folder (nor `/dev/null`)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False  # missing (git skips it) or a name no file can have
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return False
    return not _is_dev_null(st)


def _is_dev_null(st: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev


def repository_waits(workspace: Path, dirs: GitDirs | None, env: Mapping[str, str]) -> Path | None:
    """The first file of the repository git finds for `workspace` (`dirs`, find_git_dirs's
    answer with `env`) that git would open and wait on, or None."""
    if (found := _discovery_waits(workspace, env)) is not None:
        return found
    return None if dirs is None or dirs.bare else _repository_waits(dirs)


def _discovery_waits(workspace: Path, env: Mapping[str, str]) -> Path | None:
    for folder in searched_folders(workspace, env):
        dot_git = folder / ".git"
        if os.path.isfile(dot_git):
            named = linked_git_dir(dot_git)
            return _git_dir_waits(named) if named is not None else None  # git stops here
        for candidate in (dot_git, folder):
            if (found := _git_dir_waits(candidate)) is not None:
                return found
            if is_git_dir(candidate):
                return None
    return None


def _git_dir_waits(candidate: Path) -> Path | None:
    head = candidate / "HEAD"
    if waits(head):
        return head
    commondir = candidate / "commondir"
    return commondir if os.path.isfile(head) and waits(commondir) else None


def _repository_waits(dirs: GitDirs) -> Path | None:
    named = [dirs.git_dir / name for name in _OWN]
    named += [dirs.common_dir / name for name in _SHARED]
    try:
        branch, symbolic = ref_target(read_regular(dirs.git_dir / "HEAD", 4096))
    except OSError:
        symbolic = False
    if symbolic and branch.startswith("refs/"):
        named.append(dirs.common_dir / branch)
    if found := next((path for path in named if waits(path)), None):
        return found
    listed = (
        _odd_entries(dirs.git_dir, "sharedindex."),
        _odd_entries(dirs.common_dir / "refs" / "replace", walk=True),
        _store_waits(dirs.common_dir / "objects", 0),
    )
    return next((path for found in listed for path in found), None)


def _store_waits(objects: Path, depth: int) -> Iterator[Path]:
    """The files of an object store (`objects`) and of its alternates git would wait on."""
    yield from _odd_entries(objects / "pack")
    yield from _odd_entries(objects / "info" / "commit-graphs")
    alternates = objects / "info" / "alternates"
    if depth > 0 and waits(alternates):  # (the repository's own is among _SHARED)
        yield alternates
        return
    if depth >= _ALTERNATES_DEPTH:
        return
    try:
        lines = read_regular(alternates, 1 << 16).decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return  # none (or not readable: git skips it too)
    for line in lines:
        if line.strip() and not line.startswith(("#", '"')):  # (a quoted path: rare, left)
            store = objects / line.strip()  # absolute, or relative to `objects`
            if os.path.isdir(store):
                yield from _store_waits(store, depth + 1)


def _odd_entries(folder: Path, prefix: str = "", *, walk: bool = False) -> Iterator[Path]:
    """The entries of `folder` (named `prefix`…; its sub-folders too with `walk`) git would
    wait on: neither a regular file nor a folder by their directory entry, or a link that
    `waits`. Nothing is stat'ed but links."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:  # (a pack folder may hold hundreds: regular files cost least)
        if entry.is_file(follow_symlinks=False) or not entry.name.startswith(prefix):
            continue
        if entry.is_dir(follow_symlinks=False):
            if walk:
                yield from _odd_entries(Path(entry.path), walk=True)
        elif waits(Path(entry.path)):  # a link (followed), a pipe, a device
            yield Path(entry.path)


def loose_object_waits(dirs: GitDirs) -> tuple[Path, ...]:
    """The loose objects (`objects/xx/…`) of the repository and of the object stores its
    `info/alternates` names that git would wait on: a listing of each object folder, nothing
    stat'ed but links and what is no regular file."""
    found: list[Path] = []
    stores = [dirs.common_dir / "objects"]
    seen: set[Path] = set()
    while stores and len(seen) <= _ALTERNATES_DEPTH:
        objects = stores.pop()
        if objects in seen:
            continue
        seen.add(objects)
        try:
            folders = [e.path for e in os.scandir(objects) if _LOOSE.fullmatch(e.name)]
        except OSError:
            continue
        for folder in folders:
            found.extend(_odd_entries(Path(folder)))
        stores.extend(_alternates(objects))
    return tuple(found)


def _alternates(objects: Path) -> list[Path]:
    """The object stores `objects/info/alternates` names (a regular file; none otherwise)."""
    try:
        text = read_regular(objects / "info" / "alternates", 1 << 16)
    except OSError:
        return []
    lines = text.decode("utf-8", "surrogateescape").splitlines()
    return [
        objects / line.strip()  # absolute, or relative to `objects`
        for line in lines
        if line.strip() and not line.startswith(("#", '"'))
    ]


def nested_waits(dot_git: Path) -> Path | None:
    """The file of the repository `dot_git` (a nested repository's `.git` folder or file, met
    while git lists the work tree around it) git would wait on: `ls-files --others` reads its
    HEAD and the branch it names to tell a repository from a folder."""
    if os.path.isfile(dot_git):
        git_dir = linked_git_dir(dot_git)
    else:
        git_dir = dot_git if os.path.isdir(dot_git) else None
    if git_dir is None:
        return None
    if (found := _git_dir_waits(git_dir)) is not None:
        return found
    return _repository_waits(GitDirs(dot_git.parent, git_dir, common_dir(git_dir)))
