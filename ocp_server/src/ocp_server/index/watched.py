"""What the watcher watches: the workspace's own folders, each one on its own, and which of
the changes in them are edits to index.

watchfiles watches a folder recursively by following every symlink below it: a link to a
folder outside the workspace (`data -> /mnt/datasets`, `home -> ~`) had it watch the whole
tree out there, an inotify watch per folder (15,712 for a link to /usr, from the user's
limit that their IDE shares; 5 s before the first event) and re-index on every write there.
So the watcher gets the list of the workspace's real folders, each watched without its
subfolders: a symlink is never entered, and vendored folders (node_modules, .venv) cost
nothing. A folder made later is not in the list: its creation restarts the watcher
(`new_folder`), which re-lists and catches up with an update. A folder deleted between the
listing and the start of watching is not watched: the folders are listed again
(`watch_folders`).

Of `.git`, only what changes which files the workspace holds or lists is followed (GIT_FILES):
HEAD and the branches (a checkout, a commit), the index (`git add -f` of an ignored file, a
`git rm --cached`) and info/exclude. Its objects, logs and lock files are written on every
git command and change nothing the index reads; their folders are not even watched.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import watchfiles

from ocp_server.index.files import VENDORED_DIRS
from ocp_server.index.nested import is_repository

__all__ = ["GIT_FILES", "RelevantChanges", "new_folder", "watch_folders", "watched_folders"]

# Listings tried when a listed folder is gone as watching starts; each try needs another
# deletion in that instant, so after these the error goes to the watcher's retry and backoff.
LISTINGS = 3
#: The files of `.git` whose changes the index follows (and `refs/heads/`, below).
GIT_FILES = frozenset({".git/HEAD", ".git/index", ".git/info/exclude", ".git/info"})


def watched_folders(workspace: Path) -> list[str]:
    """The workspace and every folder below it that is neither vendored, nor reached through
    a symlink, nor inside a nested repository (its top folder is watched: a `.git` removed
    there makes its files the workspace's), and the folders of .git holding GIT_FILES and the
    branches."""
    folders: list[str] = []
    root = os.fspath(workspace)
    for dirpath, dirnames, filenames in os.walk(root):  # symlinked folders are not entered
        folders.append(dirpath)
        nested = ".git" in dirnames or ".git" in filenames
        if nested and dirpath != root and is_repository(dirpath):
            dirnames[:] = []  # its files are not indexed (nested.py)
            continue
        dirnames[:] = sorted(d for d in dirnames if d not in VENDORED_DIRS)
    git = workspace / ".git"
    if git.is_dir() and not git.is_symlink():
        folders.append(str(git))
        if (git / "info").is_dir():
            folders.append(str(git / "info"))
        folders.extend(dirpath for dirpath, _, _ in os.walk(git / "refs" / "heads"))
    return folders


class RelevantChanges:
    """The watcher's filter: whether a change is one the index should follow."""

    def __init__(self, workspace: Path, db_path: Path) -> None:
        self.workspace = workspace
        self.db_path = db_path

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        rel = os.path.relpath(path, self.workspace).replace(os.sep, "/")
        parts = rel.split("/")
        if parts[0] == ".git":  # `.git/info` itself: made later, it is watched from then on
            return rel in GIT_FILES or rel.startswith(".git/refs/heads")
        if rel.startswith(".ocp/") or self._is_database(path):
            return False
        return not any(p in VENDORED_DIRS for p in parts[:-1])

    def _is_database(self, path: str) -> bool:
        """The database or its -wal/-shm/-journal files: their writes are not edits (watching
        them would re-index after every write, for ever)."""
        base = self.db_path.name
        if os.path.basename(path) not in (base, f"{base}-wal", f"{base}-shm", f"{base}-journal"):
            return False
        return Path(path).parent.resolve() == self.db_path.parent.resolve()


def new_folder(changes: Iterable[tuple[watchfiles.Change, str]]) -> bool:
    """Whether a change added a folder the watcher should watch too, or removed the `.git`
    of a nested repository (its folders are the workspace's now)."""
    for change, path in changes:
        if change == watchfiles.Change.deleted and os.path.basename(path) == ".git":
            return True
        if change != watchfiles.Change.added or os.path.basename(path) in VENDORED_DIRS:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            return True
    return False


async def watch_folders(
    workspace: Path, **options: Any
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    """watchfiles.awatch over `watched_folders(workspace)` (not recursive); a listed folder
    deleted before watching starts is dropped by listing again, up to LISTINGS times."""
    for listing in range(1, LISTINGS + 1):
        folders = await asyncio.to_thread(watched_folders, workspace)
        async with aclosing(watchfiles.awatch(*folders, recursive=False, **options)) as changes:
            try:
                # watchfiles checks the folders exist when it starts, at the first step.
                first = await anext(changes, None)
            except FileNotFoundError:
                if listing == LISTINGS or not workspace.is_dir():
                    raise
                continue
            if first is None:  # stopped
                return
            yield first
            async for more in changes:
                yield more
            return
