""".gitignore files git would wait on for ever: a named pipe (FIFO), or a device, by that name.

`git ls-files --exclude-standard` opens the .gitignore of every folder it lists, and opening a
pipe waits for a writer: git never answered, and each listing (so the first results, and each
update after) waited OCP's 60 s timeout before the files were listed without git. The config,
info/exclude and global excludes files git reads are checked before each command
(git_config_guard.py); the .gitignore files inside a workspace cannot be, short of a walk of
every folder at every update. So they are looked for only when git has not listed the files
within STALL_CHECK_S seconds (or three times its usual time on this workspace, whichever is
longer): a walk of the folders (file types from the directory entries: nothing opened, one
stat per .gitignore). Those found are kept per workspace, and checked (a stat each) before
each later listing, with the .gitignore of each folder above the workspace up to its work
tree's top: while one is still there, git is not run at all.

A nested repository's HEAD or branch that is a pipe holds `ls-files --others` the same way
(git reads them to tell a repository from a folder): looked for in the same walk.

A .gitignore git itself never opens is not told apart (a pipe inside an ignored folder, or in
a nested repository): such a workspace is listed without git too, which applies its regular
.gitignore files all the same. A symbolic link named .gitignore is no problem: git 2.32 and
later open .gitignore without following links.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

from ocp_server.git_commands import start_git
from ocp_server.index.git_waits import nested_waits
from ocp_server.index.gitdirs import find_git_dirs

__all__ = [
    "GIT_LIST_TIMEOUT_S",
    "STALL_CHECK_S",
    "WaitsOnPipes",
    "known_pipes",
    "look_for_pipes",
    "ls_files",
    "remember_pipes",
]

#: How long git may take to list a workspace's files before its .gitignore files are looked at.
STALL_CHECK_S = 2.0

_NAME = ".gitignore"
#: Per workspace: the .gitignore files (absolute) found to be pipes or devices.
_FOUND: dict[Path, tuple[Path, ...]] = {}


def _waits(path: Path) -> bool:
    """Whether git opening `path` as a .gitignore may wait: it exists, and is neither a regular
    file, a folder nor a link (/dev/null cannot be a .gitignore: it is no link)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))


def known_pipes(workspace: Path) -> tuple[Path, ...]:
    """The pipes git would wait on that are known without a walk: those found before for this
    workspace that still are, and a .gitignore above it (up to its work tree's top) that is
    one. A few stats: run before every listing."""
    still = tuple(p for p in _FOUND.get(workspace, ()) if _waits(p))
    if still != _FOUND.get(workspace, ()):
        remember_pipes(workspace, still)
    above: list[Path] = []
    if (dirs := find_git_dirs(workspace)) is not None and workspace != dirs.top:
        for folder in workspace.parents:
            if _waits(folder / _NAME):
                above.append(folder / _NAME)
            if folder == dirs.top:
                break
    return (*still, *above)


def look_for_pipes(workspace: Path) -> tuple[Path, ...]:
    """Every .gitignore below `workspace` that is a pipe or a device, and each file of a
    nested repository git opens to tell it from a folder (its HEAD, its branch: git_waits.py)
    that is one, in no particular order (a walk of its folders, `.git` folders left out)."""
    found: list[Path] = []
    root = str(workspace)
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name == _NAME:
                        if _waits(Path(entry.path)):
                            found.append(Path(entry.path))
                    elif entry.name == ".git":
                        if folder != root and (nested := nested_waits(Path(entry.path))):
                            found.append(nested)
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
        except OSError:
            continue  # unreadable: git cannot open its .gitignore either
    return tuple(found)


def remember_pipes(workspace: Path, pipes: tuple[Path, ...]) -> None:
    if pipes:
        if len(_FOUND) > 64:
            _FOUND.clear()
        _FOUND[workspace] = pipes
    else:
        _FOUND.pop(workspace, None)


#: How long git may take to list a workspace's files (then they are listed without it).
GIT_LIST_TIMEOUT_S = 60.0
#: Per workspace: how long git took to list its files last time (the stall check scales).
_USUAL_S: dict[Path, float] = {}


class WaitsOnPipes(Exception):
    """git waits on these pipes (ls_files)."""

    def __init__(self, pipes: tuple[Path, ...]) -> None:
        self.pipes = pipes


def ls_files(workspace: Path) -> tuple[bytes, bytes]:
    """`git ls-files` of tracked plus untracked-not-ignored files, tagged, and what git wrote
    on stderr (its warnings: a folder it could not open, unreadable.py). Raises
    WaitsOnPipes when git has not answered in a while and a .gitignore is a pipe it would
    wait on for ever (ignore_pipes.py), TimeoutExpired after GIT_LIST_TIMEOUT_S, and
    CalledProcessError or OSError as run_git does."""
    args = ("-z", "--cached", "--others", "--exclude-standard", "--full-name", "-t")
    started = time.monotonic()
    with start_git(workspace, "ls-files", *args) as git:  # -t: "? " untracked, others tracked
        stall = max(STALL_CHECK_S, 3 * _USUAL_S.get(workspace, 0.0))
        try:
            try:
                out, err = git.communicate(timeout=stall)
            except subprocess.TimeoutExpired:
                if pipes := look_for_pipes(workspace):
                    raise WaitsOnPipes(pipes) from None
                left = GIT_LIST_TIMEOUT_S - (time.monotonic() - started)
                out, err = git.communicate(timeout=max(left, 0.0))
        except (subprocess.TimeoutExpired, WaitsOnPipes):
            git.kill()
            git.communicate()
            raise
    if git.returncode:
        raise subprocess.CalledProcessError(git.returncode, git.args, out, err)
    if len(_USUAL_S) > 64:
        _USUAL_S.clear()
    _USUAL_S[workspace] = time.monotonic() - started
    return out, err
