"""Where git keeps a workspace's metadata, found by reading `.git` files, without running git.

A plain repository keeps it in `<top>/.git/`. A linked worktree's `.git` is a file,
`gitdir: <repo>/.git/worktrees/<name>`: that folder holds the worktree's own HEAD and index, and
its `commondir` file names the folder holding what all worktrees share (the branches,
packed-refs, info/exclude). A submodule checkout's `.git` file names its folder in the
superproject's `.git/modules/`. A workspace below its work tree's top has no `.git` at all: the
first one above it counts, as git finds it.

The global excludes file is named by git's config (`core.excludesFile`, from any of its
files), so that one name is asked of git.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ocp_server.git_commands import run_git

__all__ = ["GitDirs", "common_dir", "excludes_file", "find_git_dirs", "linked_git_dir"]


@dataclass(frozen=True, slots=True)
class GitDirs:
    top: Path  # the work tree's top folder: the workspace, or a folder above it
    git_dir: Path  # HEAD and the index
    common_dir: Path  # branches, packed-refs, info/exclude (the same folder but in a worktree)


def linked_git_dir(dot_git: Path) -> Path | None:
    """The folder a `.git` file names (`gitdir: <path>`, relative to the file's folder), or
    None when it is not such a file."""
    try:
        with open(dot_git, encoding="utf-8") as file:
            first = file.readline(4096).strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not first.startswith("gitdir: "):
        return None
    return Path(os.path.normpath(dot_git.parent / first[8:]))


def common_dir(git_dir: Path) -> Path:
    """The folder a worktree shares with the others (its `commondir` file, relative to
    `git_dir`); `git_dir` itself for a repository's main work tree or a submodule."""
    try:
        named = (git_dir / "commondir").read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return git_dir
    return Path(os.path.normpath(git_dir / named)) if named else git_dir


def find_git_dirs(workspace: Path) -> GitDirs | None:
    """The git folders of the work tree holding `workspace` (None outside git)."""
    for folder in (workspace, *workspace.parents):
        dot_git = folder / ".git"
        if os.path.isdir(dot_git):
            return GitDirs(folder, dot_git, common_dir(dot_git))
        # nor open a pipe named `.git`: it would wait for a writer
        if os.path.isfile(dot_git) and (git_dir := linked_git_dir(dot_git)) is not None:
            return GitDirs(folder, git_dir, common_dir(git_dir))
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
            .strip()
        )  # exit status 1 and no output: not set
    except (OSError, subprocess.SubprocessError):
        return None
    if named:
        return top / named
    if xdg := env.get("XDG_CONFIG_HOME"):
        return Path(xdg) / "git" / "ignore"
    home = env.get("HOME")
    return Path(home) / ".config" / "git" / "ignore" if home else None
