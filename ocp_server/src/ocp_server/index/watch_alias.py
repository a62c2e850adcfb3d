"""A name in UTF-8 for a workspace whose own path is not UTF-8, for the OS's file watches.

watchfiles takes paths as text and gives events' paths as text, and fails on a path that is
not UTF-8 ("Unable to decode path"): every folder of a workspace whose own path is not (a
Latin-1 `Übung` above it) was polled, each entry of each folder stat'ed every second (0.5-0.8
s a poll for 3,000 folders of 5 files, most of a core). On Linux the workspace's folder, kept
open, has a name in UTF-8: `/proc/self/fd/<fd>`, and the kernel resolves a watch placed
through it to the folder itself. Its folders are watched by that name, and the events' paths
are given back with the workspace's own path (`real`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ocp_server.index.polled import decodable

__all__ = ["PathAlias"]

_FDS = "/proc/self/fd"


class PathAlias:
    """`/proc/self/fd/<fd>` for the workspace's folder, while it is open (`close`)."""

    def __init__(self, root: str, fd: int) -> None:
        self.root = root
        self.alias = f"{_FDS}/{fd}"
        self._fd = fd

    @classmethod
    def open(cls, workspace: Path) -> PathAlias | None:
        """The alias of `workspace`, or None when its path is UTF-8 (none is needed) or none
        can be made (no /proc: the folders are polled, as before)."""
        root = os.fspath(workspace)
        if decodable(root) or not os.path.isdir(_FDS):
            return None
        try:
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None
        alias = cls(root, fd)
        try:
            same = os.path.samestat(os.stat(alias.alias), os.fstat(fd))
        except OSError:
            same = False
        if not same:
            alias.close()
            return None
        return alias

    def aliased(self, path: str) -> str | None:
        """`path` by the alias, or None when it is not in the workspace or the rest of it is
        not UTF-8 either."""
        if path == self.root:
            return self.alias
        if not path.startswith(self.root + os.sep):
            return None
        rest = path[len(self.root) :]
        return self.alias + rest if decodable(rest) else None

    def real(self, path: str) -> str:
        """A path by the alias (an event's) with the workspace's own path."""
        if path == self.alias or path.startswith(self.alias + os.sep):
            return self.root + path[len(self.alias) :]
        return path

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
