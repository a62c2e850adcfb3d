"""Whether the files a search cites still look as they did when they were indexed.

The watcher re-indexes a save after its debounce (about a second); an agent that edits a file
and searches at once is faster. Its answer would cite `path:start-end` lines the file no
longer holds. So a search stats the files it cites (a few stats, no reads) against the size
and mtime the index stored for them: a file that changed is indexed before the answer, or,
where this process may not index, named in the answer as changed.

A .gitignore edited since the last update may ignore a cited file now: those on the cited
files' way (the workspace's and each folder's down to theirs) and git's ignore files outside
the workspace's folders (the folders' above it up to the repository's top, info/exclude, the
global excludes file: gitdirs.ignore_files_above) are stat'ed too, against the last update's
time, and one written since then is re-indexed first (git's listing decides, tracked files
and nested rules included).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from ocp_router.words import counted

__all__ = [
    "IDLE_WAIT",
    "StoredStats",
    "changed_note",
    "changed_on_disk",
    "idle",
    "ignore_files_since",
]

#: Seconds a search waits for a running update (the watcher's) before it indexes the files
#: it cites itself; a longer one (a big checkout) and the answer says the files changed.
IDLE_WAIT = 2.0


#: Per path: the (size, mtime_ns) the index stored, None when it holds no such file.
Stored = dict[str, tuple[int, int] | None]

#: Reads rows on the search's path: (sql, parameters) -> (rows, whether the read-only
#: connection read them: committed data only). `WorkspaceIndex._read_from`.
ReadFrom = Callable[[str, Sequence[object]], Awaitable[tuple[Iterable[sqlite3.Row], bool]]]


class StoredStats:
    """The size and mtime the index stored for the files searches cite, kept while no
    connection commits: keyed by the read-only connection's `PRAGMA data_version`, which
    moves on with every commit of any connection (of any process), a touch whose content was
    unchanged too (it stores a new mtime and moves no generation). A search's 20 cited files
    are mostly ones cited before; their rows were read by one query per search. Only the
    stored values are kept: the files on disk are stat'ed on every search."""

    def __init__(self, data_version: Callable[[], int | None], read_from: ReadFrom) -> None:
        self._data_version = data_version  # None when it cannot be read: nothing is kept
        self._read_from = read_from
        self._version: int | None = None
        self._stats: Stored = {}

    def forget(self) -> None:
        """Keep nothing read so far (the read-only connection was closed: a new one counts
        its data_version anew)."""
        self._version, self._stats = None, {}

    async def of(self, paths: list[str]) -> Stored:
        """The stored values of `paths` (distinct)."""
        version = self._data_version()  # taken before the read: a commit during it shows next
        if version is None or version != self._version:
            self._stats = {}
            self._version = version
        kept = self._stats
        missing = [p for p in paths if p not in kept]
        if not missing:
            return kept
        marks = ",".join("?" * len(missing))
        rows, committed = await self._read_from(
            f"SELECT path, size, mtime_ns FROM files WHERE path IN ({marks})", missing
        )
        found: Stored = dict.fromkeys(missing)
        for path, size, mtime in rows:
            found[str(path)] = (int(size), int(mtime))
        # aiosqlite's connection sees its own transaction in progress: read, never kept
        if committed and version is not None and version == self._version:
            kept.update(found)
            return kept
        return {**kept, **found}


async def changed_on_disk(stored: StoredStats, workspace: Path, paths: Iterable[str]) -> list[str]:
    """Of `paths` (indexed files), those whose size or mtime on disk is no longer what the
    index stored (or that are gone), in the order given."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return []
    known = await stored.of(wanted)
    changed = []
    root = _prefix(workspace)
    for path in wanted:
        try:
            st = os.stat(root + path)  # the listing stats a symlink's target too
            now: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
        except OSError:
            now = None
        if now is None or known.get(path) != now:
            changed.append(path)
    return changed


def ignore_files_since(
    workspace: Path,
    paths: Iterable[str],
    since: float | None,
    above: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """The ignore files on the way to `paths` written after `since` (the last update's time;
    None: never updated, nothing to compare): the workspace's `.gitignore` and each one down
    to theirs, by relative path, and of `above` (git's files outside the workspace's folders,
    gitdirs.ignore_files_above: (name, path)), those named. One written "later" than now (a
    clock skewed, an archive's dates) is not counted: an update would not move `since` past
    it, and every search would index again."""
    if since is None:
        return []
    folders = {""}
    for path in paths:
        at = path.rfind("/")
        while at > 0:
            folder = path[: at + 1]
            if folder in folders:
                break
            folders.add(folder)
            at = path.rfind("/", 0, at)
    root = _prefix(workspace)
    now = time.time()
    newer = []
    for rel in (f + ".gitignore" for f in folders):
        if _written(root + rel, since, now):
            newer.append(rel)
    newer.sort()
    # a link's own time (not followed): one pointed elsewhere changes the rules; its target
    # is in `above` on its own
    newer.extend(name for name, path in above if _written(path, since, now, follow=False))
    return newer


def _prefix(workspace: Path) -> str:
    """The workspace's path as text ending in a separator: an index path (relative) appended to
    it is what os.path.join makes of the two, at a tenth of its cost (a Path per file costs
    more than its stat; a search joins 20 cited files and the folders on their way)."""
    root = str(workspace)
    return root if root.endswith(os.sep) else root + os.sep


def _written(path: str, since: float, now: float, *, follow: bool = True) -> bool:
    # most folders have no .gitignore: access() says so at half a failing stat()'s cost
    if not os.access(path, os.F_OK, follow_symlinks=follow):
        return False
    try:
        mtime = os.stat(path, follow_symlinks=follow).st_mtime
    except OSError:
        return False
    return since < mtime <= now


def changed_note(changed: list[str]) -> str:
    """What an answer says of cited files that changed and could not be indexed first."""
    named = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return (
        f"{counted(len(changed), 'cited file')} changed on disk since they were indexed ({named}): "
        "their text and line numbers may be out of date; ask again in a second"
    )


async def idle(lock: asyncio.Lock, seconds: float = IDLE_WAIT) -> bool:
    """Whether `lock` (the index's update lock) is free, waiting up to `seconds` for it."""
    try:
        await asyncio.wait_for(lock.acquire(), seconds)
    except TimeoutError:
        return False
    lock.release()
    return True
