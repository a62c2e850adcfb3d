"""git's settings that change which files the index lists, asked of git again only when one of
its config files changed.

Two settings: `core.excludesFile` names the global excludes file (gitdirs.ignore_files_above),
and `core.ignoreCase` (git's default on a case-insensitive filesystem, settable anywhere) makes
git's ignore patterns match either case, which OCP's own matching must then do too (the
listing outside git, `.ocpignore`: ignore_rules.py). Either may be set in any of the config
files git reads (git_config_guard.config_files): their (mtime, size, inode) are stamped when
the settings are asked, and a search compares the stamp (a few stats) before it trusts them;
a config file written since the last update (by the stamp's times, once it is current) may
have changed the listing, as an ignore file written since then may have.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ocp_server.git_commands import run_git
from ocp_server.git_config_guard import config_files
from ocp_server.index.gitdirs import GitDirs, ignore_files_above

__all__ = ["GIT_CONFIG", "IgnoreSources", "config_stamp", "ignore_case", "ignore_sources"]

#: How a search's note names a config file of git's (the user's paths are not the workspace's).
GIT_CONFIG = "git's config"

#: Per config file: (mtime_ns, size, inode), None when it is not there.
Stamp = tuple[tuple[int, int, int] | None, ...]


def config_stamp(configs: tuple[str, ...]) -> Stamp:
    """What the config files look like now (through links: dotfiles managers link them)."""
    found: list[tuple[int, int, int] | None] = []
    for path in configs:
        # most are absent (the system's, one of the user's two): access() says so cheaper
        if not os.access(path, os.F_OK):
            found.append(None)
            continue
        try:
            st = os.stat(path)
        except OSError:
            found.append(None)
            continue
        found.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class IgnoreSources:
    """What git's rules for a workspace depend on outside its own folders."""

    files: tuple[tuple[str, str], ...]  # gitdirs.ignore_files_above: (name, path)
    configs: tuple[str, ...]  # git_config_guard.config_files
    stamp: Stamp  # of `configs`, taken before git was asked
    ignore_case: bool  # core.ignoreCase

    def current(self) -> bool:
        """Whether no config file changed since these were found (on every search: one
        syscall a file, access() for those that were absent)."""
        for path, was in zip(self.configs, self.stamp, strict=True):
            if was is None:
                if os.access(path, os.F_OK):
                    return False
                continue
            try:
                st = os.stat(path)
            except OSError:
                return False
            if (st.st_mtime_ns, st.st_size, st.st_ino) != was:
                return False
        return True

    def written_since(self, since: float | None, now: float) -> bool:
        """Whether a config file was written after `since` (the last update's time; None:
        never updated) and not "later" than `now` (a clock skewed: an update would not move
        `since` past it). By the stamp: call it once `current()` said it is."""
        if since is None:
            return False
        return any(found and since < found[0] / 1e9 <= now for found in self.stamp)

    def followed(self) -> tuple[str, ...]:
        """The config files, and the target of each that is a link (dotfiles managers link
        them, and edit the target), for the watcher to follow."""
        return tuple(dict.fromkeys([*self.configs, *map(os.path.realpath, self.configs)]))


def _ask_ignore_case(workspace: Path) -> bool:
    """core.ignoreCase as git reads it in `workspace` (outside a repository: the user's and the
    system's config). False when unset, not a boolean (git then fails, and the listing is no
    git listing) or git cannot be run."""
    try:
        done = run_git(workspace, "config", "--type=bool", "core.ignoreCase", timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == b"true"


def ignore_sources(workspace: Path, dirs: GitDirs | None = None) -> IgnoreSources:
    """The ignore files and config files git's rules for `workspace` depend on, and
    core.ignoreCase (`dirs`: the workspace's, when known). Asks git two things."""
    configs = tuple(map(str, config_files(workspace)))
    stamp = config_stamp(configs)  # before asking: a change meanwhile shows at the next check
    above = tuple((name, str(path)) for name, path in ignore_files_above(workspace, dirs))
    return IgnoreSources(above, configs, stamp, _ask_ignore_case(workspace))


#: Per workspace: the config files, their stamp, and core.ignoreCase as found then.
_CASES: dict[Path, tuple[tuple[str, ...], Stamp, bool]] = {}


def ignore_case(workspace: Path) -> bool:
    """core.ignoreCase as git reads it in `workspace`, asked of git again only when a config
    file changed (for the listing's matching: at every update)."""
    configs = tuple(map(str, config_files(workspace)))
    stamp = config_stamp(configs)
    known = _CASES.get(workspace)
    if known is not None and known[:2] == (configs, stamp):
        return known[2]
    found = _ask_ignore_case(workspace)
    if len(_CASES) > 64:
        _CASES.clear()
    _CASES[workspace] = (configs, stamp, found)
    return found
