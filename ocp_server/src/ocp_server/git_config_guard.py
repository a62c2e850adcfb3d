"""A repository's config files, and the user's and the system's, checked before OCP runs git
in it: none may be a pipe or a device, as none of the files they include may be, nor the ignore
and attributes files git reads for the index's listing (`info/exclude`, `core.excludesFile`,
`core.attributesFile`, else the user's `git/ignore` and `git/attributes`).

Git reads the system's config (`GIT_CONFIG_SYSTEM`, else git's own `etc/gitconfig`; none with
`GIT_CONFIG_NOSYSTEM`), the user's (`GIT_CONFIG_GLOBAL`, else `$XDG_CONFIG_HOME/git/config` or
`~/.config/git/config`, and `~/.gitconfig`), `.git/config` and every file their `include.path`
and `includeIf.<condition>.path` name (relative to the including file, `~` expanded), at the
start of every command. A named pipe there (a FIFO, `/dev/stdin` of a process with no input, a
socket) makes each command wait for a writer until OCP's timeout, 60 s for the index's file
list; a terminal device waits for input the same way (a device is never a config file: all are
refused but `/dev/null`, which git reads as empty at once, a common way to switch an include
off). Git has no switch that turns includes off for a command (`git config --no-includes` is
`git config`'s alone), and a shorter timeout would also cut a slow but honest command on a
large repository, so the files are looked at first: a repository whose config reaches such a
file is treated as one git cannot read (the index lists its files as for a folder outside git,
with its .gitignore files), and the log says which file and why.

What each config file includes is asked of git itself (`git config --file <it> --no-includes
--get-regexp`: its own parser, quoting and sections included) outside any repository, so the
asking cannot wait on the same pipe (nor on the user's or the system's config: git reads them
before any command, `git --version` included, so they are switched off for the asking); the
answer is kept per file until the file changes. A missing include is no problem (git skips
it), nor a folder (git fails at once).

`config_files` names the same files (those not there yet too) for git_settings.py, which
asks git's settings again when one of them changed.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from ocp_server.git_commands import read_config_file, system_config
from ocp_server.index.git_waits import loose_object_waits, repository_waits, waits
from ocp_server.index.gitdirs import find_git_dirs

__all__ = ["UnreadableConfig", "check_config", "config_files", "look_for_stalls"]

logger = logging.getLogger(__name__)

_INCLUDE_KEYS = r"^include(if\..*)?\.path$"
# Files named in config that `ls-files --exclude-standard`, `check-attr` and `add` open.
_READ_KEYS = r"^(include(if\..*)?\.path|core\.excludesfile|core\.attributesfile)$"
_LIST_TIMEOUT_S = 10.0
# Includes nest at most this deep (git's own limit is 10: it fails past it).
_MAX_DEPTH = 10
_named_in: dict[tuple[str, int, int, int], list[tuple[str, str]]] = {}
#: What the log said already: (workspace, problem).
_TOLD: set[tuple[Path, str]] = set()
#: Per workspace: the loose objects found to be pipes or devices (look_for_stalls).
_STALLS: dict[Path, tuple[Path, ...]] = {}


class UnreadableConfig(OSError):
    """A config file git would read is a pipe or a device: git is not run (callers treat
    this as any other failure to start git)."""


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


def _problem(config: Path, top: Path, depth: int, seen: dict[Path, set[str]]) -> str | None:
    """What in `config`, or in what it names, git would wait on. `seen` gets each config file
    read, with the keys it sets."""
    if waits(config):
        return f"{config} is a pipe or a device"
    if depth > _MAX_DEPTH or config in seen or not config.is_file():
        return None
    named_here = _named(config)
    seen[config] = {key for key, _ in named_here}
    for key, named in named_here:
        if key.startswith("include"):
            target = _included(config, named)
            if waits(target):
                return f"{target} (included by {config}) is a pipe or a device"
            if problem := _problem(target, top, depth + 1, seen):
                return problem
        else:  # read relative to the work tree's top, where git runs its commands
            target = Path(os.path.expanduser(named))
            target = target if target.is_absolute() else top / target
            if waits(target):
                return f"{target} ({key} in {config}) is a pipe or a device"
    return None


def _on(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


# What decides which of the user's and the system's files git reads (and where they are).
_USER_VARIABLES = (
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_GLOBAL",
    "XDG_CONFIG_HOME",
    "HOME",
)


@dataclass(frozen=True, slots=True)
class _UserFiles:
    configs: tuple[Path, ...]  # in git's order
    ignore: Path | None  # read when no config names core.excludesFile
    attributes: Path | None  # read when no config names core.attributesFile


def _user_files(env: Mapping[str, str]) -> _UserFiles:
    # built once per value of the variables: this runs before every git command
    return _user_files_for(tuple(env.get(name) for name in _USER_VARIABLES))


@lru_cache(maxsize=16)
def _user_files_for(values: tuple[str | None, ...]) -> _UserFiles:
    """The system's and the user's config files git reads, in its order
    (`do_git_config_sequence` and `git_global_config` in git's config.c), and the ignore and
    attributes files it reads when no config names others."""
    no_system, system, global_, xdg, home = values
    configs = []
    if not _on(no_system):
        configs.append(Path(system) if system is not None else _system_config())
    if global_ is not None:
        configs.append(Path(global_))
    else:
        if xdg:
            configs.append(Path(xdg) / "git" / "config")
        if home:
            if not xdg:
                configs.append(Path(home) / ".config" / "git" / "config")
            configs.append(Path(home) / ".gitconfig")
    user = Path(xdg) / "git" if xdg else Path(home) / ".config" / "git" if home else None
    return _UserFiles(
        tuple(configs),
        user / "ignore" if user else None,
        user / "attributes" if user else None,
    )


@cache
def _system_config() -> Path:
    return system_config(timeout=_LIST_TIMEOUT_S) or Path("/etc/gitconfig")


def check_config(workspace: Path, env: Mapping[str, str] | None = None) -> None:
    """Raises UnreadableConfig when git, run in `workspace`, would read a config, ignore or
    attributes file that is a pipe or a device."""
    env = os.environ if env is None else env
    dirs = find_git_dirs(workspace, env)
    # outside a repository git still reads the user's and the system's config
    top = dirs.top if dirs is not None else workspace
    seen: dict[Path, set[str]] = {}
    user = _user_files(env)
    configs = list(user.configs)
    if dirs is not None:
        configs += [dirs.common_dir / "config", dirs.git_dir / "config.worktree"]
    problems = [_problem(config, top, 0, seen) for config in configs]
    if dirs is not None:
        exclude = dirs.common_dir / "info" / "exclude"
        problems.append(f"{exclude} is a pipe or a device" if waits(exclude) else None)
    # HEAD, the branch, packed-refs and the rest git opens in the repository (git_waits.py)
    if (waiting := repository_waits(workspace, dirs, env)) is not None:
        problems.append(f"{waiting} is a pipe or a device")
    # loose objects a command that stalled found (a stat each while they are there)
    if stalls := tuple(p for p in _STALLS.get(workspace, ()) if waits(p)):
        problems.append(f"{stalls[0]} (a loose object) is a pipe or a device")
    else:
        _STALLS.pop(workspace, None)
    # the user's own ignore and attributes files, unless a config names others (checked above)
    named = set().union(*seen.values())
    for key, default in (
        ("core.excludesfile", user.ignore),
        ("core.attributesfile", user.attributes),
    ):
        if key not in named and default is not None and waits(default):
            problems.append(f"{default} is a pipe or a device")
    for problem in filter(None, problems):
        if (workspace, problem) not in _TOLD:  # once: it is checked before every git command
            _TOLD.add((workspace, problem))
            logger.warning("git is not run in %s: %s, which git would wait on", workspace, problem)
        raise UnreadableConfig(
            f"git not run: {problem}, which git would wait on (every command, until its timeout)"
        )


def look_for_stalls(workspace: Path) -> None:
    """A git command in `workspace` has not ended for a while: raises UnreadableConfig (and
    `check_config` does before every later command) when a loose object of its repository
    is a pipe or a device, which git opens and waits on until the command's timeout."""
    dirs = find_git_dirs(workspace)
    if dirs is None or not (found := loose_object_waits(dirs)):
        return
    if len(_STALLS) >= 64:
        _STALLS.clear()
    _STALLS[workspace] = found
    check_config(workspace)


def config_files(workspace: Path, env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Every config file git may read for a command in `workspace`, whether it is there or not
    (one made later counts as much as one changed): the system's and the user's, the
    repository's and its worktree's, and each one they include (under any condition). A
    change to one of them may change any setting (gitdirs.py's `core.excludesFile`,
    `core.ignoreCase`)."""
    env = os.environ if env is None else env
    dirs = find_git_dirs(workspace, env)
    pending = [(config, 0) for config in _user_files(env).configs]
    if dirs is not None:
        pending += [(dirs.common_dir / "config", 0), (dirs.git_dir / "config.worktree", 0)]
    found: dict[Path, None] = {}
    while pending:
        config, depth = pending.pop(0)
        if config in found or depth > _MAX_DEPTH:
            continue
        found[config] = None
        if waits(config) or not config.is_file():
            continue
        pending += [
            (_included(config, named), depth + 1)
            for key, named in _named(config)
            if key.startswith("include")
        ]
    return tuple(found)
