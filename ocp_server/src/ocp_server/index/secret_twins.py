"""Hard links to secret files (files.py's listing asks): one file with two names, one of them
a secret's, wherever in the workspace it is (a git-ignored `services/api/.env` linked as
`docs/api.txt`); and files with names the workspace does not hold (a link to `~/app/.env`),
whose content is then judged as a file of no name is (secret_files.secret_content_of_link)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Collection
from pathlib import Path

from ocp_server.index.secret_files import secret_name

__all__ = ["SecretTwins"]


class SecretTwins:
    """Hard links to secret files: `ln .env notes.txt` makes one file with two names, and its
    ordinary name must not get it indexed. A file with more than one link is a secret when
    another name of it is a secret by name: in its own folder or at the workspace root (where
    secret files live, ignored by git or not), read here; or anywhere the listing went, before
    or after it (`seen`: the listing stats each secret-named file it skips, `saw`, and drops
    the twins at its end); or anywhere else in the workspace (git-ignored: `unseen`, when a
    file has names the listing did not see). Asked only of files with links (st_nlink > 1:
    rare outside package stores, which are vendored folders); each folder is read once."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._folders: dict[str, frozenset[tuple[int, int]]] = {}
        self.seen: set[tuple[int, int]] = set()  # the listed secret files that have links
        self.links: dict[tuple[int, int], int] = {}  # a linked candidate's identity: st_nlink

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

    def unseen(
        self, listed: dict[tuple[int, int], int], prune: Collection[str]
    ) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """For linked candidates with names the listing did not see (`listed`: an identity, how
        many of its names were listed; fewer than its links), every name of theirs in the
        workspace, git-ignored ones too: the workspace walked once (folders named in `prune`,
        git's and dependencies', left out), an entry's inode read from its folder (no stat),
        stat'ed only when it matches. Returns the identities with a secret's name, and those
        with names the walk did not find (outside the workspace, or in a pruned folder)."""
        wanted = {
            me: n for me, n in self.links.items() if listed.get(me, 0) < n and me not in self.seen
        }
        if not wanted:
            return set(), set()
        inodes = {ino for _, ino in wanted}
        names: dict[tuple[int, int], list[str]] = {me: [] for me in wanted}
        folders = [""]
        while folders:
            folder = folders.pop()
            try:
                with os.scandir(self.workspace / folder) as entries:
                    for entry in entries:
                        rel = f"{folder}/{entry.name}" if folder else entry.name
                        with contextlib.suppress(OSError):
                            if entry.is_dir(follow_symlinks=False):
                                if entry.name not in prune:
                                    folders.append(rel)
                            elif entry.inode() in inodes:
                                st = entry.stat(follow_symlinks=False)
                                if (me := (st.st_dev, st.st_ino)) in names:
                                    names[me].append(rel)
            except OSError:
                continue
        secret = {me for me, rels in names.items() if any(map(secret_name, rels))}
        outside = {me for me, rels in names.items() if len(rels) < wanted[me]} - secret
        return secret, outside
