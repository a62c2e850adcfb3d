"""Indexing what changed, for one workspace's index: the update under the lease, whether a
complete index exists (and waiting for one), its status, and an update's storage failure
(a full disk) kept for searches, the status and other processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterable

from ocp_server.errors import storage_cause, storage_failed
from ocp_server.index.full_disk import STORAGE_META_KEY, updated_unless_full
from ocp_server.index.indexer import Progress
from ocp_server.index.lease import LeaseLost
from ocp_server.index.limits import SAVE_UPDATE_FILES, TooManyChanges
from ocp_server.index.models import IndexStatus, IndexSummary
from ocp_server.index.on_disk import changed_on_disk, idle
from ocp_server.index.workspace_root import WorkspaceGone
from ocp_server.index.workspace_state import WorkspaceState
from ocp_server.path_text import path_text
from ocp_server.transactions import begin, rollback

__all__ = ["WorkspaceUpdates"]

logger = logging.getLogger(__name__)


class WorkspaceUpdates(WorkspaceState):
    """Updates of the index: only the lease holder indexes (lease.py)."""

    # ---- indexing ---------------------------------------------------------------------
    async def update(
        self, progress: Progress | None = None, *, max_files: int | None = None
    ) -> IndexSummary | None:
        """Index what changed. None when another process holds the lease (it indexes).
        `max_files`: at most that many changed files read, else TooManyChanges (limits.py)."""
        async with self._lock:
            if not await self._acquire_lease():
                return None
            # The first build: no update finished yet (an index of a workspace with nothing to
            # index holds no file, and is complete; one killed midway holds some, and is not)
            self.building = not await self.built()

            def record(done: int, total: int) -> None:
                self.progress = (done, total)
                if progress is not None:
                    progress(done, total)

            self.progress = (0, None)
            try:
                summary = await self._indexer.update(record, max_files=max_files)
            except LeaseLost:
                logger.info("another process took the indexing lease over: it indexes now")
                self._holds_lease = False
                return None
            except sqlite3.DatabaseError as exc:
                if storage_failed(exc):
                    await self._storage_failed(exc)
                raise
            except WorkspaceGone as exc:
                self.folder_gone(str(exc))
                raise
            finally:
                self.building = False
            if self.workspace_gone is not None:
                logger.info("the workspace folder %s is back", path_text(self.workspace))
                self.workspace_gone = None
            if self._storage_recorded or self.storage_failure is not None:
                await self._storage_works()  # (said here even when it could not be recorded)
        summary.db_bytes = self.db_size()
        self._checked = True
        self._updated.set()
        if self.watcher_state == "retrying":  # (a search's update): the disk is followed again
            self.watcher_state, self.watcher_error = "starting", self._polling
            self._retry_now.set()  # the watcher retries now, not up to RETRY_MAX later
        return summary

    def folder_gone(self, why: str) -> None:
        """Keep why the workspace folder counts as gone, for the status and searches; said
        once in the log until it is back, at INFO: the server's log shows it, and a command
        that prints its own answer (status, search, index) says it there, once."""
        if self.workspace_gone is None:
            logger.info("%s", why)
        self.workspace_gone = why

    async def _storage_failed(self, exc: sqlite3.DatabaseError) -> None:
        """Keep the cause of an update's storage failure for searches and the status, and
        record it for other processes' (`ocp-server status`, `doctor`) when the disk takes
        that much (a few bytes in a WAL the failed update left room in, often)."""
        self.storage_failure = storage_cause(exc, self.db_path)
        record = json.dumps({"cause": self.storage_failure, "at": time.time()})
        try:
            await rollback(self.db)
            await begin(self.db)
            await self.db.execute(
                "INSERT INTO meta VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (STORAGE_META_KEY, record),
            )
            await self.db.execute("COMMIT")
            self._storage_recorded = True
        except sqlite3.Error:
            logger.debug("recording the storage failure failed too", exc_info=True)
            with contextlib.suppress(sqlite3.Error):
                await rollback(self.db)

    async def _storage_works(self) -> None:
        """An update worked: no storage failure is said any more, here or in the database."""
        self.storage_failure = None
        try:
            key = (STORAGE_META_KEY,)
            if list(await self.db.execute_fetchall("SELECT 1 FROM meta WHERE key = ?", key)):
                await self.db.execute("DELETE FROM meta WHERE key = ?", key)
        except sqlite3.Error:  # the next update that works tries again
            logger.debug("deleting the storage failure's record failed", exc_info=True)
            return
        self._storage_recorded = False

    def storage_wait(self) -> bool:
        """Whether a search leaves the update to the watcher: one failed on storage, and would
        fail again (reading every file to find so) until room is made, which the watcher
        looks for (`_storage_pause`). One search tries after each of the watcher's failures
        (room may have been made meanwhile), no more; with no watcher, every search tries."""
        return (
            self.storage_failure is not None
            and self.watcher_state == "retrying"
            and not self._search_may_retry
        )

    async def built(self) -> bool:
        """Whether the workspace has a complete index: an update has finished (in this process
        or another one sharing the database) and no first build is running here."""
        if self.building:
            return False
        if self._built:  # a complete index stays complete: later updates are incremental
            return True
        rows = await self.db.execute_fetchall("SELECT 1 FROM meta WHERE key = 'last_update'")
        self._built = bool(list(rows))
        return self._built

    async def wait_built(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for `built()`; whether it came true. A build the disk
        failed on storage is not waited for: it fails again until someone makes room."""
        deadline = time.monotonic() + timeout
        while not await self.built():
            left = deadline - time.monotonic()
            if left <= 0 or self.storage_failure is not None:
                return False
            self._updated.clear()
            try:  # woken by this process's update, or polling for another process's
                await asyncio.wait_for(self._updated.wait(), min(left, 0.1))
            except TimeoutError:
                pass
        return True

    def first_wait_left(self, timeout: float) -> float:
        """How long a search waits for the first index (`wait_built`): the first search up to
        `timeout`, one arriving during that wait with it (to the same end), any later one not
        at all (it answers from the index so far). An agent's many searches during a long
        first build would otherwise each wait the whole `timeout`."""
        if self._first_wait_ends is None:
            self._first_wait_ends = time.monotonic() + timeout
        return max(0.0, self._first_wait_ends - time.monotonic())

    async def _stored_head(self) -> str | None:
        rows = list(await self.db.execute_fetchall("SELECT value FROM meta WHERE key = 'git_head'"))
        return rows[0][0] or None if rows else None

    async def status(self) -> IndexStatus:
        files, chunks = next(
            iter(
                await self.db.execute_fetchall(
                    "SELECT (SELECT count(*) FROM files WHERE skip_reason IS NULL),"
                    " (SELECT count(*) FROM chunks)"
                )
            )
        )
        rows = list(
            await self.db.execute_fetchall("SELECT value FROM meta WHERE key = 'last_update'")
        )
        last = float(rows[0][0]) if rows else None
        head = self._git_head()
        stale = last is None or (head is not None and head != await self._stored_head())
        return self._status(files, chunks, last, stale, head)

    def _status(
        self, files: int, chunks: int, last: float | None, stale: bool, head: str | None
    ) -> IndexStatus:
        return IndexStatus(
            path_text(self.workspace),
            path_text(self.db_path),
            files,
            chunks,
            last,
            # nothing follows the disk meanwhile
            stale
            or self.watcher_state == "retrying"
            or self.storage_failure is not None
            or self.workspace_gone is not None,
            self.building,
            head,
            self._holds_lease,
            self.watcher_state,
            self.watcher_error,
            self.storage_failure,
            self.workspace_gone,
        )

    async def catch_up(self, cited: Iterable[str]) -> bool:
        """Index what changed first when the git HEAD moved since the last update, or one of
        `cited` (files memories cite) that the index holds changed on disk since it was
        indexed: a restore, a session's first call, checks citations against the code as it
        is now (a file renamed while no watcher ran is found where it went). Only when this
        process may index and no first build runs; whether it indexed."""
        if self.building or not await idle(self._lock):
            return False
        head, meta = self._git_head(), await self._meta()
        paths = list(dict.fromkeys(cited))
        stored = await self._stored.of(paths)
        held = [path for path in paths if stored.get(path)]  # a file gone from it: no update
        if (head is None or head == meta.git_head) and not await changed_on_disk(
            self._stored, self.workspace, held
        ):
            return False
        return await updated_unless_full(self.update, self.db_path, [])

    async def update_now(self) -> bool:
        """Index what changed now, when this process may (no first build here, no update
        running past a brief wait); whether it did. A save whose citation the index could
        not resolve asks this before it says so: a function written a moment ago is not
        indexed until the watcher's next turn (or the one running now, waited for). Bounded,
        as a save must stay quick: when more than SAVE_UPDATE_FILES files changed (a
        checkout, a pull), nothing is read here, and the watcher's update reads them."""
        if self.building or not await idle(self._lock):
            return False
        try:
            return await updated_unless_full(
                lambda: self.update(max_files=SAVE_UPDATE_FILES), self.db_path, []
            )
        except TooManyChanges as exc:
            logger.info("a save's citation waits for the watcher's update: %s", exc)
            return False
