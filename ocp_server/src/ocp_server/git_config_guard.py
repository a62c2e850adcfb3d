"""A repository's config files, checked before OCP runs git in it: none may be a pipe or a
device, as none of the files they include may be, nor the ignore and attributes files git
reads for the index's listing (`info/exclude`, `core.excludesFile`, `core.attributesFile`).

Git reads `.git/config` and every file its `include.path` and `includeIf.<condition>.path`
name (relative to the including file, `~` expanded), at the start of every command. A named
pipe there (a FIFO, `/dev/stdin` of a process with no input, a socket) makes each command wait
for a writer until OCP's timeout, 60 s for the index's file list; a terminal device waits for
input the same way (a device is never a config file: all are refused but `/dev/null`, which
git reads as empty at once, a common way to switch an include off). Git has no switch that
turns includes off for a command (`git config --no-includes` is `git config`'s alone), and a
shorter timeout would also cut a slow but honest command on a large repository, so the files
are looked at first: a repository whose config reaches such a file is treated as one git
cannot read (the index lists its files as for a folder outside git, with its .gitignore
files), and the log says which file and why.

What each config file includes is asked of git itself (`git config --file <it> --no-includes
--get-regexp`: its own parser, quoting and sections included) outside any repository, so the
asking cannot wait on the same pipe; the answer is kept per file until the file changes. A
missing include is no problem (git skips it), nor a folder (git fails at once).
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

from ocp_server.git_commands import read_config_file
from ocp_server.index.gitdirs import find_git_dirs

__all__ = ["UnreadableConfig", "check_config"]

logger = logging.getLogger(__name__)

_INCLUDE_KEYS = r"^include(if\..*)?\.path$"
# Files named in config that `ls-files --exclude-standard`, `check-attr` and `add` open.
_READ_KEYS = r"^(include(if\..*)?\.path|core\.excludesfile|core\.attributesfile)$"
_LIST_TIMEOUT_S = 10.0
# Includes nest at most this deep (git's own limit is 10: it fails past it).
_MAX_DEPTH = 10
_named_in: dict[tuple[str, int, int, int], list[tuple[str, str]]] = {}


class UnreadableConfig(OSError):
    """A config file git would read is a pipe or a device: git is not run (callers treat
    this as any other failure to start git)."""


def _waits(path: Path) -> bool:
    """Whether opening and reading `path` may wait or never end: it exists and is neither a
    regular file nor a folder."""
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


def _named(config: Path) -> list[tuple[str, str]]:
    """The files `config` names (its includes, its ignore and attributes files) as written,
    each with its key in lower case (a regular file's, asked of git)."""
    st = config.stat()
    key = (str(config), st.st_ino, st.st_mtime_ns, st.st_size)
    if key in _named_in:
        return _named_in[key]
    try:
        done = read_config_file(config, _READ_KEYS, timeout=_LIST_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return []  # the command that follows fails the same way, and says so
    # --null: each entry is "<key>\n<value>\0"; exit status 1 is "none"
    entries = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    found = [(k, v) for k, v in (e.split("\n", 1) for e in entries if "\n" in e)]
    if len(_named_in) > 256:
        _named_in.clear()
    _named_in[key] = found
    return found


def _included(config: Path, named: str) -> Path:
    path = Path(os.path.expanduser(named))
    return path if path.is_absolute() else config.parent / path


def _problem(config: Path, top: Path, depth: int, seen: set[Path]) -> str | None:
    if _waits(config):
        return f"{config} is a pipe or a device"
    if depth > _MAX_DEPTH or config in seen or not config.is_file():
        return None
    seen.add(config)
    for key, named in _named(config):
        if key.startswith("include"):
            target = _included(config, named)
            if _waits(target):
                return f"{target} (included by {config}) is a pipe or a device"
            if problem := _problem(target, top, depth + 1, seen):
                return problem
        else:  # read relative to the work tree's top, where git runs its commands
            target = Path(os.path.expanduser(named))
            target = target if target.is_absolute() else top / target
            if _waits(target):
                return f"{target} ({key} in {config}) is a pipe or a device"
    return None


def check_config(workspace: Path) -> None:
    """Raises UnreadableConfig when git, run in `workspace`, would read a config, ignore or
    attributes file that is a pipe or a device."""
    dirs = find_git_dirs(workspace)
    if dirs is None:
        return
    seen: set[Path] = set()
    configs = (dirs.common_dir / "config", dirs.git_dir / "config.worktree")
    problems = [_problem(config, dirs.top, 0, seen) for config in configs]
    exclude = dirs.common_dir / "info" / "exclude"
    if _waits(exclude):
        problems.append(f"{exclude} is a pipe or a device")
    for problem in filter(None, problems):
        logger.warning("git is not run in %s: %s, which git would wait on", workspace, problem)
        raise UnreadableConfig(
            f"git not run: {problem}, which git would wait on (every command, until its timeout)"
        )
