"""The watcher of one workspace's index: re-indexes changed files about a second after a
save, and never stops for good: a failure (a locked database, a folder briefly gone) is
retried with backoff, and each retry starts with a full incremental update, so no edit made
meanwhile is lost. Its state is part of the index status."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ocp_router.redact_names import redact_name_head
from ocp_server.errors import storage_failed
from ocp_server.index.hot_files import HotFiles
from ocp_server.index.lease import LEASE_SECONDS
from ocp_server.index.models import IndexSummary
from ocp_server.index.watched import (
    first_set,
    new_folder,
    watch_folders,
    watch_limit_reached,
    workspace_removed,
)
from ocp_server.index.workspace_root import WorkspaceGone, gone_reason
from ocp_server.index.workspace_updates import WorkspaceUpdates

__all__ = ["WorkspaceWatch"]

logger = logging.getLogger(__name__)

DEBOUNCE_MS = 300
RETRY_FIRST = 0.5  # seconds before the watcher's first retry; doubles up to RETRY_MAX
RETRY_MAX = 30.0
# After a storage failure (a full disk, a file-size limit) an update fails again until someone
# acts, and each try reads the files again: the watcher waits longer between tries (and no
# search tries meanwhile), but tries at once when that much room was made on the disk, which
# it looks at every ROOM_POLL_S.
STORAGE_RETRY_MAX = 300.0
ROOM_POLL_S = 5.0
ROOM_MADE_BYTES = 16 << 20
# Polling, once the OS has no inotify watches left: notify's poll watcher stats every entry of
# the watched folders at this interval, and inotify is tried again this often (another
# program may have let its watches go, or the limit been raised).
POLL_MS = 1000
INOTIFY_RETRY_S = 60.0


class WorkspaceWatch(WorkspaceUpdates):
    """`watch`: the index kept current until stopped."""

    async def watch(self, stop: asyncio.Event) -> None:
        """Keep the index current until `stop` is set: a debounced watcher re-indexes changed
        files about a second after a save. Only the lease holder indexes; the others keep
        trying to take the lease over in case the holder goes away. A failure is retried with
        backoff (RETRY_FIRST doubling to RETRY_MAX); the watcher never gives up."""
        delay = RETRY_FIRST
        try:
            while not stop.is_set():
                if self.watcher_state != "polling":  # polling till file watches are back
                    self.watcher_state = "starting"
                try:
                    await self._watch(stop)  # returns when stopped, or to watch a new folder
                    delay = RETRY_FIRST
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a locked database, a folder gone…
                    self._trying_watches = False  # still polling (below), or retrying
                    if self._polling is None and watch_limit_reached(exc):
                        # A quick retry brings no watches back (other watchers hold them):
                        # polling at once, rather than stale between retries, and inotify
                        # tried again now and then (`_watch_changes`).
                        again = self._inotify_again != 0.0  # this was such a try
                        self._polling = (
                            redact_name_head(f"{exc}", 300)
                            + ": the OS has no file watches left for OCP; "
                            f"polling every {POLL_MS / 1000:g} s instead, and trying file "
                            f"watches again every {INOTIFY_RETRY_S:g} s. Raise "
                            "fs.inotify.max_user_watches (and max_user_instances)"
                        )
                        self._inotify_again = time.monotonic() + INOTIFY_RETRY_S
                        log = logger.debug if again else logger.warning
                        log("the index watcher of %s: %s", self.workspace, self._polling)
                        continue
                    self.watcher_state = "retrying"
                    self._retry_now.clear()
                    self.watcher_error = redact_name_head(f"{type(exc).__name__}: {exc}", 500)
                    storage = self._search_may_retry = storage_failed(exc)
                    if (
                        storage
                        and self.storage_failure is None
                        and isinstance(exc, sqlite3.DatabaseError)
                    ):
                        # failed outside update()'s own handling (the lease's write): said too
                        await self._storage_failed(exc)
                    # A folder gone is said once (folder_gone), not at each retry while away;
                    # another failure (back but unreadable, a full disk) is said at each
                    log = logger.debug if self._failed_as_gone(exc) else logger.warning
                    log(
                        "the index watcher of %s failed (%s); retrying in %.1fs",
                        self.workspace,
                        self.storage_failure if storage else self.watcher_error,
                        delay,
                    )
                    if storage:
                        await self._storage_pause(stop, delay)
                    else:
                        await first_set((stop, self._retry_now), delay)
                    delay = min(delay * 2, STORAGE_RETRY_MAX if storage else RETRY_MAX)
        finally:
            self.watcher_state = "stopped"

    async def _watch(self, stop: asyncio.Event) -> None:
        if not self.workspace.is_dir():
            raise WorkspaceGone(self._gone())
        self.watcher_state = self._watching() if await self.update() is not None else "standby"
        self.watcher_error = self._polling
        # The watches are in place only after that update and the listing of the folders: a
        # file saved in between (during a first build, or a listing slow on a loaded machine)
        # raises no event. One more update, started once they are in place, catches it; and
        # again each time they are placed again (watched.py: a name that is not UTF-8).
        catch_up: list[asyncio.Task[IndexSummary | None]] = []

        def armed() -> None:
            if self._trying_watches:  # file watches are back: no longer polling
                self._trying_watches = False
                self.watcher_state = self._watching()
            catch_up.append(asyncio.create_task(self.update()))

        try:
            await self._watch_changes(stop, catch_up, armed)
        finally:
            await asyncio.gather(*catch_up, return_exceptions=True)

    async def _watch_changes(
        self,
        stop: asyncio.Event,
        catch_up: list[asyncio.Task[IndexSummary | None]],
        armed: Callable[[], None],
    ) -> None:
        hot = HotFiles()
        later: asyncio.Task[IndexSummary | None] | None = None  # a hot file's pass, waiting
        try:
            async for changes in watch_folders(  # symlinks are never followed out (see `watched`)
                self.workspace,
                self._relevant,
                armed,
                debounce=DEBOUNCE_MS,
                stop_event=stop,
                rust_timeout=int(min(LEASE_SECONDS / 3, INOTIFY_RETRY_S) * 1000),
                yield_on_timeout=True,
                force_polling=self._polling is not None,
                poll_delay_ms=POLL_MS,
            ):
                for task in [t for t in catch_up if t.done()]:
                    catch_up.remove(task)
                    task.result()  # its failure (a locked database) goes to watch()'s retry
                if (
                    stop.is_set()
                    or new_folder(changes)
                    or self._relevant.git.config_changed(changes)
                ):
                    break  # a new folder, git's config: watch() starts again, and lists them again
                if self._polling is not None and time.monotonic() >= self._inotify_again:
                    self._polling = None  # watch() starts again, with inotify if it has watches
                    self._trying_watches = True
                    break
                # Its watches went with it (a folder made again there is not watched); its parent
                # is not watched, so watch() retries until it is back. Checked at every timeout
                # too: deleted and made again within one debounce, only the event says so.
                if workspace_removed(self.workspace, changes):
                    raise WorkspaceGone(self._gone())
                if not await self.acquire_lease():
                    self.watcher_state = "standby"  # another process indexes
                    continue
                # A lease just taken over: catch up with what changed while another process held it.
                took_over = self.watcher_state != self._watching()
                self.watcher_state = self._watching()
                if changes or took_over:
                    wait = 0.0 if took_over else hot.wait(path for _, path in changes)
                    if wait > 0.0:  # only files that keep changing: one pass later takes them
                        if later is None or later.done():
                            later = asyncio.create_task(self._pass_later(hot, wait))
                            catch_up.append(later)
                        continue
                    hot.passed()
                    summary = await self.update()
                    if summary is not None:
                        logger.info(
                            "re-indexed %d changed file(s) in %.3fs",
                            summary.changed,
                            summary.seconds,
                        )
        finally:
            if later is not None:  # stopped, or watched again: watch() starts with an update
                later.cancel()

    async def _pass_later(self, hot: HotFiles, wait: float) -> IndexSummary | None:
        """The pass for changes of hot files, `wait` seconds from now (hot_files.py)."""
        await asyncio.sleep(wait)
        hot.passed()
        return await self.update()

    def _watching(self) -> str:
        return "watching" if self._polling is None and not self._trying_watches else "polling"

    def _failed_as_gone(self, exc: Exception) -> bool:
        """Whether `exc` is the workspace folder being gone (an update's WorkspaceGone, or any
        failure while the folder is not there), not a failure of its own."""
        return self.workspace_gone is not None and (
            isinstance(exc, WorkspaceGone) or not self.workspace.is_dir()
        )

    def _gone(self) -> str:
        said = f"the workspace folder {self.workspace} was deleted; watched again once it is back"
        self.folder_gone(gone_reason(self.workspace, None, listed_nothing=False) or said)
        return said

    async def _storage_pause(self, stop: asyncio.Event, seconds: float) -> None:
        """The watcher's pause after a storage failure: `seconds`, or until ROOM_MADE_BYTES
        more are free on the disk holding the database, it is stopped, or a search's update
        worked meanwhile."""
        free = _free_bytes(self.db_path.parent)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            await first_set((stop, self._retry_now), min(left, ROOM_POLL_S))
            if stop.is_set() or self._retry_now.is_set():
                return
            if _free_bytes(self.db_path.parent) > free + ROOM_MADE_BYTES:
                logger.info("room was made on the disk holding %s: indexing again", self.db_path)
                return


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0
