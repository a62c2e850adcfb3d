"""Where git keeps a workspace's metadata, found by reading `.git` files, without running git.

A plain repository keeps it in `<top>/.git/`. A linked worktree's `.git` is a file,
`gitdir: <repo>/.git/worktrees/<name>`: that folder holds the worktree's own HEAD and index, and
its `commondir` file names the folder holding what all worktrees share (the branches,
packed-refs, info/exclude). A submodule checkout's `.git` file names its folder in the
superproject's `.git/modules/`. A workspace below its work tree's top has no `.git` at all: the
first one above it counts, as git finds it. Found as git finds it (`setup.c`): a `.git` folder
that is no git folder (empty, or without HEAD, objects and refs) is passed over, and the search
goes on above it; a `.git` file naming no git folder (`gitdir: /nonexistent`) ends it (git
fails there at once); a folder that is itself a git folder is a bare repository (no work tree);
the search stops below a `GIT_CEILING_DIRECTORIES` folder and at a file system's edge (unless
`GIT_DISCOVERY_ACROSS_FILESYSTEM`), as git's does with the environment OCP runs it in.

The global excludes file is named by git's config (`core.excludesFile`, from any of its
files), so that one name is asked of git.

`ignore_files_above` names the ignore files git applies to a workspace's files from outside its
own folders, for the watcher and for the search's check of ignore files edited since the last
update (on_disk.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ocp_server.git_commands import run_git
from ocp_server.index.git_text import strip_line_ends
from ocp_server.index.regular_file import read_regular

__all__ = [
    "GitDirs",
    "common_dir",
    "excludes_file",
    "find_git_dirs",
    "ignore_files_above",
    "is_git_dir",
    "linked_git_dir",
    "searched_folders",
]


@dataclass(frozen=True, slots=True)
class GitDirs:
    top: Path  # the work tree's top folder: the workspace, or a folder above it
    git_dir: Path  # HEAD and the index
    common_dir: Path  # branches, packed-refs, info/exclude (the same folder but in a worktree)
    bare: bool = False  # a bare repository's folder (or one inside a git folder): `top` is it


def linked_git_dir(dot_git: Path) -> Path | None:
    """The folder a `.git` file names (`gitdir: <path>`, relative to the file's folder), or
    None when it is not such a file. Read as git reads it (setup.c, read_gitfile_gently): the
    whole file, only its trailing CRs and LFs taken off (a folder may end with NBSP)."""
    try:
        data = strip_line_ends(read_regular(dot_git, _MAX_GITFILE)[:_MAX_GITFILE])
    except OSError:
        return None
    if not data.startswith(b"gitdir: ") or len(data) == 8:
        return None
    return Path(os.path.normpath(dot_git.parent / os.fsdecode(data[8:])))


#: A `.git` file longer than this is none (git refuses one over 1 MB).
_MAX_GITFILE = 1 << 20


def common_dir(git_dir: Path) -> Path:
    """The folder a worktree shares with the others (its `commondir` file, relative to
    `git_dir`); `git_dir` itself for a repository's main work tree or a submodule."""
    try:
        named = os.fsdecode(strip_line_ends(read_regular(git_dir / "commondir")))
    except OSError:
        return git_dir
    return Path(os.path.normpath(git_dir / named)) if named else git_dir


def is_git_dir(folder: Path) -> bool:
    """Whether git takes `folder` for a git folder: a HEAD file, and the objects and refs
    folders of the folder it shares (`is_git_directory` in git's setup.c, without reading
    HEAD: a pipe named HEAD would wait)."""
    return _shared(folder) is not None


def _shared(folder: Path) -> Path | None:
    """The common folder of `folder` when it is a git folder (is_git_dir), else None."""
    if not os.path.isfile(folder / "HEAD"):
        return None
    shared = common_dir(folder)
    return shared if os.path.isdir(shared / "objects") and os.path.isdir(shared / "refs") else None


@lru_cache(maxsize=8)
def _ceilings(variable: str) -> frozenset[Path]:
    """`GIT_CEILING_DIRECTORIES`: absolute folders, resolved but after an empty entry."""
    found, resolve = set(), True
    for entry in variable.split(os.pathsep):
        if not entry:
            resolve = False
        elif os.path.isabs(entry):
            found.add(Path(os.path.realpath(entry) if resolve else os.path.normpath(entry)))
    return frozenset(found)


def searched_folders(workspace: Path, env: Mapping[str, str]) -> Iterator[Path]:
    """The folders git looks in for a repository, from `workspace` up."""
    ceilings = _ceilings(env.get("GIT_CEILING_DIRECTORIES", ""))
    across = env.get("GIT_DISCOVERY_ACROSS_FILESYSTEM", "").lower() in {"1", "true", "yes", "on"}
    try:
        device = os.stat(workspace).st_dev
    except OSError:
        return
    yield workspace
    for folder in workspace.parents:
        if folder in ceilings:
            return
        try:
            if not across and os.stat(folder).st_dev != device:
                return
        except OSError:
            return
        yield folder


def find_git_dirs(workspace: Path, env: Mapping[str, str] | None = None) -> GitDirs | None:
    """The git folders of the repository git finds for `workspace` (None outside git, or
    where git fails at once: a `.git` file naming no git folder)."""
    for folder in searched_folders(workspace, os.environ if env is None else env):
        dot_git = folder / ".git"
        # nor open a pipe named `.git`: it would wait for a writer
        if os.path.isfile(dot_git):
            git_dir = linked_git_dir(dot_git)
            shared = _shared(git_dir) if git_dir is not None else None
            return GitDirs(folder, git_dir, shared) if git_dir and shared else None
        if os.path.isdir(dot_git) and (shared := _shared(dot_git)) is not None:
            return GitDirs(folder, dot_git, shared)
        if (shared := _shared(folder)) is not None:
            return GitDirs(folder, folder, shared, bare=True)
    return None


def excludes_file(top: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """The global excludes file `git ls-files --exclude-standard` applies in the work tree at
    `top`: `core.excludesFile` (relative to `top`, as git opens it there), else
    `$XDG_CONFIG_HOME/git/ignore` or `~/.config/git/ignore`; it may not exist. None when git
    cannot be run (the listing is then no git listing) or no home is known."""
    env = os.environ if env is None else env
    try:
        named = (
            run_git(top, "config", "--path", "core.excludesFile", timeout=10)
            .stdout.decode("utf-8", "surrogateescape")
            .removesuffix("\n")  # alone: a path may start or end with a space
        )  # exit status 1 and no output: not set
    except (OSError, subprocess.SubprocessError):
        return None
    if named:
        return top / named
    if xdg := env.get("XDG_CONFIG_HOME"):
        return Path(xdg) / "git" / "ignore"
    home = env.get("HOME")
    return Path(home) / ".config" / "git" / "ignore" if home else None


#: How a search's note names the global excludes file (its path is the user's, not the
#: workspace's).
GLOBAL_EXCLUDES = "git's global excludes file"


def ignore_files_above(
    workspace: Path, dirs: GitDirs | None = None
) -> tuple[tuple[str, Path], ...]:
    """The ignore files `git ls-files --exclude-standard` applies to the files of `workspace`
    that are not in its own folders, each with the name a note gives it: the `.gitignore` of
    each folder above it up to its work tree's top (`../.gitignore`: a workspace below the
    top), the info/exclude of the folder its worktrees share, and the global excludes file
    (excludes_file); a link among them also by its target (dotfiles managers link the global
    one, and edit the target). They may not exist; none outside a work tree (`dirs`: the
    workspace's, when known). Asks git one thing (core.excludesFile)."""
    dirs = find_git_dirs(workspace) if dirs is None else dirs
    if dirs is None or dirs.bare:
        return ()
    found: list[tuple[str, Path]] = []
    for folder in workspace.parents if workspace != dirs.top else ():
        found.append((os.path.relpath(folder / ".gitignore", workspace), folder / ".gitignore"))
        if folder == dirs.top:
            break
    found.append(("info/exclude", dirs.common_dir / "info" / "exclude"))
    if (excludes := excludes_file(dirs.top)) is not None:
        found.append((GLOBAL_EXCLUDES, excludes))
    targets = [(name, Path(os.path.realpath(path))) for name, path in found]
    return tuple(dict.fromkeys([*found, *(t for t in targets if t not in found)]))
