"""Hard links to secret files (files.py's listing asks): one file with two names, one of them
a secret's."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from ocp_server.index.secret_files import secret_name

__all__ = ["SecretTwins"]


class SecretTwins:
    """Hard links to secret files: `ln .env notes.txt` makes one file with two names, and its
    ordinary name must not get it indexed. A file with more than one link is a secret when
    another name of it is a secret by name: in its own folder or at the workspace root (where
    secret files live, ignored by git or not), read here; or anywhere the listing went, before
    or after it (`seen`: the listing stats each secret-named file it skips, `saw`, and drops
    the twins at its end). Asked only of files with links (st_nlink > 1: rare outside package
    stores, which are vendored folders); each folder is read once."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._folders: dict[str, frozenset[tuple[int, int]]] = {}
        self.seen: set[tuple[int, int]] = set()  # the listed secret files that have links

    def saw(self, full: str) -> None:
        """The listing skipped the file at `full` for its secret name."""
        with contextlib.suppress(OSError):
            st = os.lstat(full)
            if st.st_nlink > 1 and stat.S_ISREG(st.st_mode):
                self.seen.add((st.st_dev, st.st_ino))

    def secret(self, rel: str, st: os.stat_result) -> bool:
        me = (st.st_dev, st.st_ino)
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        return any(me in self._secrets_in(f) for f in {folder, ""})

    def _secrets_in(self, folder: str) -> frozenset[tuple[int, int]]:
        """The files of `folder` (relative, "" the root) that are secrets by name."""
        if (known := self._folders.get(folder)) is not None:
            return known
        found = set()
        try:
            with os.scandir(self.workspace / folder) as entries:
                for entry in entries:
                    rel = f"{folder}/{entry.name}" if folder else entry.name
                    if not secret_name(rel):
                        continue
                    with contextlib.suppress(OSError):
                        linked = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(linked.st_mode):
                            found.add((linked.st_dev, linked.st_ino))
        except OSError:
            pass
        self._folders[folder] = frozenset(found)
        return self._folders[folder]
