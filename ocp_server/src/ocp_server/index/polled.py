"""Folders the watcher polls instead of watching: those holding a name that is not UTF-8.

watchfiles stops at any event naming such an entry ("Unable to decode path"), a read included:
a folder of such a name listed by the index's own update (git's listing opens it), a file of
one opened by an editor. A watched folder holding one had the whole watcher fail, and retry up
to every 30 s, and every search say that changes may be missing. Such a folder (and one whose
own path is not UTF-8) is not given to watchfiles: its entries are compared with what they
were, about every POLL_S, by their names, and their files' size, time and inode (a stat, which
raises no event). Its subfolders with names that are UTF-8 are still watched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import watchfiles

__all__ = ["POLL_S", "PolledFolders", "decodable", "holds_undecodable"]

POLL_S = 1.0

# A folder's entry: a folder (None: its own changes are its own watch's or poll's), or a
# file's (inode, size, modification time in ns).
_Entry = tuple[int, int, int] | None


def decodable(name: str) -> bool:
    """Whether `name` is UTF-8 (Python spells the bytes that are not as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def holds_undecodable(folder: str) -> bool:
    """Whether `folder` holds an entry whose name is not UTF-8 (False when it cannot be read)."""
    try:
        with os.scandir(folder) as entries:
            return not all(decodable(e.name) for e in entries)
    except OSError:
        return False


def _entries(folder: str) -> dict[str, _Entry]:
    found: dict[str, _Entry] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        found[entry.name] = None
                    else:
                        st = entry.stat(follow_symlinks=False)
                        found[entry.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
                except OSError:  # gone meanwhile: the next poll says so
                    continue
    except OSError:  # the folder is gone: its parent's watch (or poll) says so
        pass
    return found


class PolledFolders:
    """The polled folders' entries as last seen, and what changed since (`changes`)."""

    def __init__(self, folders: Iterable[str]) -> None:
        self.folders = tuple(folders)
        self._seen = {folder: _entries(folder) for folder in self.folders}

    def changes(self) -> set[tuple[watchfiles.Change, str]]:
        """The changes since the last call (or the listing), as watchfiles names them."""
        found: set[tuple[watchfiles.Change, str]] = set()
        for folder in self.folders:
            before, now = self._seen[folder], _entries(folder)
            self._seen[folder] = now
            for name in before.keys() - now.keys():
                found.add((watchfiles.Change.deleted, os.path.join(folder, name)))
            for name, entry in now.items():
                if name not in before:
                    found.add((watchfiles.Change.added, os.path.join(folder, name)))
                elif before[name] != entry:
                    found.add((watchfiles.Change.modified, os.path.join(folder, name)))
        return found
