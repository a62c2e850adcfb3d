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
(`watch_folders`). One holding a name that is not UTF-8 is polled instead (polled.py).

Of git's metadata, only what changes which files the workspace holds or lists is followed
(`GitWatch`), wherever git keeps it (gitdirs.py: a worktree's and a submodule's `.git` is a file
naming a folder elsewhere, a workspace below its repository's top has none): HEAD and the
branches (a checkout, a commit, a reset), the index (`git add -f` of an ignored file, a
`git rm --cached`), info/exclude, the `.gitignore` of each folder between the top and a workspace
below it, the global excludes file git applies (`core.excludesFile`), and git's config files
(git_settings.py: one may name another excludes file, or set `core.ignoreCase`). A change to
a config file restarts the watcher, which names the excludes file again. Their folders are
watched without subfolders, so git's objects, logs and lock files, written on every git
command, cost nothing; of a folder outside the workspace (the home folder holding
`~/.gitignore_global`) only the followed file counts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import watchfiles

from ocp_server.index.files import VENDORED_DIRS
from ocp_server.index.git_settings import IgnoreSources, ignore_sources
from ocp_server.index.gitdirs import find_git_dirs
from ocp_server.index.nested import is_repository
from ocp_server.index.own_files import OwnFiles
from ocp_server.index.polled import POLL_S, PolledFolders, decodable, holds_undecodable
from ocp_server.index.watch_alias import PathAlias

__all__ = [
    "Folders",
    "GitWatch",
    "RelevantChanges",
    "git_watch",
    "new_folder",
    "watch_folders",
    "watch_limit_reached",
    "watched_folders",
    "workspace_removed",
]

# Listings tried when a listed folder is gone as watching starts; each try needs another
# deletion in that instant, so after these the error goes to the watcher's retry and backoff.
LISTINGS = 3
# Seconds between two startings again after an event named an entry that is not UTF-8 (each
# lists the folders again, and an update catches up): one such name coming and going all the
# time costs no more than that.
REARM_S = 1.0

logger = logging.getLogger(__name__)


class Folders(list[str]):
    """The folders watchfiles watches; `polled`: those polled instead (polled.py)."""

    polled: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GitWatch:
    """What the watcher follows of git's metadata (absolute paths, as watchfiles reports them)."""

    folders: tuple[str, ...] = ()  # watched, each without its subfolders
    files: frozenset[str] = frozenset()  # a change to one of these counts
    branches: str | None = None  # and any change in this folder or below it
    # for the search's check (git_settings.py); None: not looked for (outside git)
    sources: IgnoreSources | None = None

    def follows(self, path: str) -> bool:
        if path in self.files:
            return True
        heads = self.branches
        return heads is not None and (path == heads or path.startswith(heads + os.sep))

    def config_changed(self, changes: Iterable[tuple[watchfiles.Change, str]]) -> bool:
        """Whether a change was to one of git's config files (the watcher starts again: it
        may name another excludes file to follow)."""
        if self.sources is None:
            return False
        configs = set(self.sources.followed())
        return any(path in configs for _, path in changes)


def git_watch(workspace: Path) -> GitWatch:
    """HEAD and the index of the workspace's git folder; the branches and info/exclude of the
    folder its worktrees share; the `.gitignore` of each folder from the work tree's top down
    to the workspace (not included: its own are its files); the global excludes file, and its
    target when it is a link (dotfiles managers link it); git's config files. Nothing outside a
    git work tree (a bare repository has none), nor where `.git` names a folder that is not
    there (git fails there too)."""
    dirs = find_git_dirs(workspace)
    if dirs is None or dirs.bare or not (dirs.git_dir.is_dir() and dirs.common_dir.is_dir()):
        return GitWatch()
    git_dir, common = dirs.git_dir, dirs.common_dir
    info, heads = common / "info", common / "refs" / "heads"
    sources = ignore_sources(workspace, dirs)
    outside = [Path(path) for _, path in sources.files] + list(map(Path, sources.followed()))
    # `info` itself: made later, its creation restarts the watcher, which watches it then.
    files = {git_dir / "HEAD", git_dir / "index", info, *outside}
    folders = [git_dir, common, *([info] if info.is_dir() else [])]
    folders.extend(Path(dirpath) for dirpath, _, _ in os.walk(heads))
    for folder in workspace.parents if workspace != dirs.top else ():
        folders.append(folder)
        if folder == dirs.top:
            break
    for path in outside:
        # a folder that cannot be watched would fail every start of the watcher
        if path.parent.is_dir() and os.access(path.parent, os.R_OK | os.X_OK):
            folders.append(path.parent)
    return GitWatch(
        tuple(dict.fromkeys(map(str, folders))), frozenset(map(str, files)), str(heads), sources
    )


def watched_folders(
    workspace: Path, git: GitWatch | None = None, alias: PathAlias | None = None
) -> Folders:
    """The workspace and every folder below it that is neither vendored, nor reached through
    a symlink, nor inside a nested repository (its top folder is watched: a `.git` removed
    there makes its files the workspace's), nor named with bytes that are not UTF-8 (no file
    in one is indexed), and the folders of `git` (default: `git_watch`). One whose path or
    any entry's name is not UTF-8 is in `polled` instead (polled.py), but for a workspace
    whose own path is not: watched by its `alias` (watch_alias.py) when one is given."""
    folders: list[str] = []
    polled: list[str] = []
    root = os.fspath(workspace)

    def watchable(folder: str) -> bool:
        return decodable(folder) or (alias is not None and alias.aliased(folder) is not None)

    for dirpath, dirnames, filenames in os.walk(root):  # symlinked folders are not entered
        names = (*dirnames, *filenames)
        watched = watchable(dirpath) and all(map(decodable, names))
        (folders if watched else polled).append(dirpath)
        nested = ".git" in dirnames or ".git" in filenames
        if nested and dirpath != root and is_repository(dirpath):
            dirnames[:] = []  # its files are not indexed (nested.py)
            continue
        dirnames[:] = sorted(d for d in dirnames if d not in VENDORED_DIRS and decodable(d))
    git = git_watch(workspace) if git is None else git
    seen = {*folders, *polled}
    for folder in dict.fromkeys(git.folders):
        if folder not in seen:
            odd = not watchable(folder) or holds_undecodable(folder)
            (polled if odd else folders).append(folder)
    listed = Folders(folders)
    listed.polled = tuple(polled)
    return listed


class RelevantChanges:
    """The watcher's filter: whether a change is one the index should follow."""

    def __init__(self, workspace: Path, db_path: Path, git: GitWatch | None = None) -> None:
        self.workspace = workspace
        self.db_path = db_path
        # The database's files: their writes are not edits (watching them would re-index after
        # every write, for ever).
        self._database = OwnFiles.of(workspace, db_path)
        self.git = git or GitWatch()  # set by watch_folders at each start of the watcher

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if self.git.follows(path):
            return True
        rel = os.path.relpath(path, self.workspace).replace(os.sep, "/")
        parts = rel.split("/")
        if parts[0] in (".git", ".."):  # git's other files; others in a folder git's are in
            return False
        if rel.startswith(".ocp/") or self._database.written(path):
            return False
        return not any(p in VENDORED_DIRS for p in parts[:-1])


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


def watch_limit_reached(exc: BaseException) -> bool:
    """Whether watching failed for want of inotify watches (fs.inotify.max_user_watches, shared
    by every watcher of the user: IDEs, bundlers) or instances (max_user_instances): watchfiles
    raises a plain OSError for both, named only in its message."""
    if not isinstance(exc, OSError) or isinstance(exc, FileNotFoundError):
        return False
    text = str(exc)
    return "watch limit reached" in text or "(os error 24)" in text


def workspace_removed(workspace: Path, changes: Iterable[tuple[watchfiles.Change, str]]) -> bool:
    """Whether the workspace folder itself was deleted (or moved away), even if a folder of
    that name is there again."""
    root = os.fspath(workspace)
    deleted = watchfiles.Change.deleted
    return any(c == deleted and p == root for c, p in changes) or not workspace.is_dir()


async def watch_folders(
    workspace: Path, relevant: RelevantChanges, armed: Callable[[], None], **options: Any
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    """watchfiles.awatch over `watched_folders(workspace)` (not recursive), keeping the changes
    `relevant` says are, and those of the polled folders (polled.py). `armed` is called each
    time the watches are in place: a change from then on raises an event (what changed before
    is for an update to find).

    An event naming an entry that is not UTF-8 in a watched folder (one made since the
    listing) stops watchfiles: the folders are listed again (that folder is polled from then
    on), watched again, and `armed` called again: the changes of the lost batch, and those
    made meanwhile, are the update's it starts."""
    rearmed = 0.0
    while True:
        try:
            async for changes in _watch_listed(workspace, relevant, armed, **options):
                yield changes
            return
        except Exception as exc:  # noqa: BLE001 - only watchfiles' decoding failure is handled
            if not _undecodable(exc):
                raise
        logger.info("an entry named with bytes that are not UTF-8 appeared: watching again")
        if (wait := rearmed + REARM_S - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        rearmed = time.monotonic()


def _undecodable(exc: BaseException) -> bool:
    """Whether watchfiles failed on a path that is not UTF-8 (its error alone, or the only
    errors of the task group it is raised from)."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_undecodable(e) for e in exc.exceptions)
    return str(exc).startswith("Unable to decode path")


async def _watch_listed(
    workspace: Path, relevant: RelevantChanges, armed: Callable[[], None], **options: Any
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    """One listing's watch; a listed folder deleted before watching starts is dropped by
    listing again, up to LISTINGS times."""
    alias = PathAlias.open(workspace)
    try:
        async for batch in _watch_listings(workspace, relevant, armed, alias, **options):
            yield batch if alias is None else {(c, alias.real(p)) for c, p in batch}
    finally:
        if alias is not None:
            alias.close()


async def _watch_listings(
    workspace: Path,
    relevant: RelevantChanges,
    armed: Callable[[], None],
    alias: PathAlias | None,
    **options: Any,
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    loop = asyncio.get_running_loop()
    watch_filter: Callable[[watchfiles.Change, str], bool] = relevant
    if alias is not None:  # the filter sees the paths by the alias
        watch_filter = lambda change, path: relevant(change, alias.real(path))  # noqa: E731
    for listing in range(1, LISTINGS + 1):
        git = await asyncio.to_thread(git_watch, workspace)
        folders = await asyncio.to_thread(watched_folders, workspace, git, alias)
        paths = folders if alias is None else [alias.aliased(f) or f for f in folders]
        relevant.git = git
        polled = await asyncio.to_thread(PolledFolders, folders.polled)
        if polled.folders:  # woken at least every POLL_S to poll them
            timeout = min(options.get("rust_timeout") or POLL_S * 1000, POLL_S * 1000)
            awatch_options = {**options, "rust_timeout": int(timeout), "yield_on_timeout": True}
        else:
            awatch_options = options
        async with aclosing(
            watchfiles.awatch(*paths, watch_filter=watch_filter, recursive=False, **awatch_options)
        ) as changes:
            # At its first step awatch places its watches (checking the folders exist), then
            # waits for changes in a thread: `armed` runs at that wait, as the loop's next turn.
            announced = loop.call_soon(armed)
            try:
                first = await anext(changes, None)
            except FileNotFoundError:
                announced.cancel()
                if listing == LISTINGS or not workspace.is_dir():
                    raise
                continue
            if first is None:  # stopped
                return
            if not polled.folders:
                yield first
                async for more in changes:
                    yield more
                return
            async for batch in _with_polled(first, changes, polled, relevant, options):
                yield batch
            return


async def _with_polled(
    first: set[tuple[watchfiles.Change, str]],
    changes: AsyncIterator[set[tuple[watchfiles.Change, str]]],
    polled: PolledFolders,
    relevant: RelevantChanges,
    options: dict[str, Any],
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    """The watched folders' changes and the polled ones', polled at each wake-up; a wake-up
    with none is told only as often as the caller asked (`rust_timeout`, `yield_on_timeout`)."""
    told = time.monotonic()
    quiet_s = options.get("rust_timeout") if options.get("yield_on_timeout") else None
    batch: set[tuple[watchfiles.Change, str]] | None = first
    while batch is not None:
        batch |= {c for c in await asyncio.to_thread(polled.changes) if relevant(*c)}
        if batch or (quiet_s is not None and time.monotonic() - told >= quiet_s / 1000):
            yield batch
            told = time.monotonic()
        batch = await anext(changes, None)


async def first_set(events: Sequence[asyncio.Event], seconds: float) -> None:
    """Wait until one of `events` is set, or `seconds` have passed (the watcher's pause before
    a retry: until it is stopped, or an update of a search succeeded meanwhile)."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
