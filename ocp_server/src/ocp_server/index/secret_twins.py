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
    rare outside package stores, which are vendored folders); each folder is read once.
    What a walk found is kept for the next listings (`_WALKS`) while the file's link count and
    inode change time stay and its names found outside the listing are still there: a `cp
    -al` copy of a tree (every file linked outside) is walked once, not at every update."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._folders: dict[str, dict[int, list[str]]] = {}
        self.seen: set[tuple[int, int]] = set()  # the listed secret files that have links
        # a linked candidate's identity: its st_nlink and st_ctime_ns
        self.links: dict[tuple[int, int], tuple[int, int]] = {}

    def saw(self, full: str) -> None:
        """The listing skipped the file at `full` for its secret name."""
        with contextlib.suppress(OSError):
            st = os.lstat(full)
            if st.st_nlink > 1 and stat.S_ISREG(st.st_mode):
                self.seen.add((st.st_dev, st.st_ino))

    def secret(self, rel: str, st: os.stat_result) -> bool:
        me = (st.st_dev, st.st_ino)
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        for f in {folder, ""}:
            for other in self._inodes_in(f).get(st.st_ino, ()):
                if other != rel and secret_name(other):
                    with contextlib.suppress(OSError):
                        if _identity(os.lstat(self.workspace / other)) == me:
                            return True
        return False

    def _inodes_in(self, folder: str) -> dict[int, list[str]]:
        """The files of `folder` (relative, "" the root) by inode, read from the folder (no
        stat): a name is judged only when its inode is a linked candidate's (secret_name
        costs more than a folder entry does, and a linked tree has thousands)."""
        if (known := self._folders.get(folder)) is not None:
            return known
        found: dict[int, list[str]] = {}
        with contextlib.suppress(OSError), os.scandir(self.workspace / folder) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        rel = f"{folder}/{entry.name}" if folder else entry.name
                        found.setdefault(entry.inode(), []).append(rel)
        self._folders[folder] = found
        return found

    def unseen(
        self, listed: dict[tuple[int, int], list[str]], prune: Collection[str]
    ) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """For linked candidates with names the listing did not see (`listed`: an identity, its
        names listed; fewer than its links), every name of theirs in the workspace, git-ignored
        ones too: the workspace walked once (folders named in `prune`, git's and
        dependencies', left out), an entry's inode read from its folder (no stat), stat'ed only
        when it matches; or what the last walk found, when it still holds (`_known`). Returns
        the identities with a secret's name, and those with names the walk did not find
        (outside the workspace, or in a pruned folder)."""
        wanted = {
            me: link
            for me, link in self.links.items()
            if len(listed.get(me, ())) < link[0] and me not in self.seen
        }
        known = _WALKS.get(str(self.workspace), {})
        names = {me: known[me][1] for me in wanted if self._known(me, wanted[me], known, listed)}
        if missing := {me for me in wanted if me not in names}:
            names |= self._walk(missing, prune)
        _WALKS[str(self.workspace)] = {me: (wanted[me], names[me]) for me in wanted}
        secret = {  # the listed names are no secret's: the listing judged them
            me
            for me, rels in names.items()
            if any(secret_name(r) for r in rels if r not in listed.get(me, ()))
        }
        outside = {me for me, rels in names.items() if len(rels) < wanted[me][0]} - secret
        return secret, outside

    def _known(
        self,
        me: tuple[int, int],
        link: tuple[int, int],
        known: dict[tuple[int, int], tuple[tuple[int, int], tuple[str, ...]]],
        listed: dict[tuple[int, int], list[str]],
    ) -> bool:
        """The names the last walk found for `me` still hold: its link count and ctime are
        the same (a link made, removed or renamed changes them) and each name the listing did
        not see is still there (a folder renamed on its way does not change the file)."""
        was = known.get(me)
        if was is None or was[0] != link:
            return False
        seen = set(listed.get(me, ()))
        for rel in was[1]:
            if rel in seen:
                continue
            try:
                st = os.lstat(self.workspace / rel)
            except OSError:
                return False
            if _identity(st) != me:
                return False
        return True

    def _walk(
        self, wanted: Collection[tuple[int, int]], prune: Collection[str]
    ) -> dict[tuple[int, int], tuple[str, ...]]:
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
        return {me: tuple(rels) for me, rels in names.items()}


#: Per workspace, what the last walk found of each linked file (SecretTwins.unseen): its
#: (st_nlink, st_ctime_ns) then, and its names in the workspace. Only the files of the last
#: listing are kept, so it holds no more than a listing's linked files.
_WALKS: dict[str, dict[tuple[int, int], tuple[tuple[int, int], tuple[str, ...]]]] = {}


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino
