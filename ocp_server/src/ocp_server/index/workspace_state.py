"""The state one workspace's index keeps in this process, which its parts share: the
database connection and its lock, the indexing lease, and the search path's read-only reader
(whose data_version keys what is kept between searches).

WorkspaceIndex (workspace.py) is put together from this and one part per job: updating
(workspace_updates.py), watching (workspace_watch.py) and searching (workspace_search.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from ocp_router.closing import ClosesOnExit
from ocp_server.index import change_log, nested
from ocp_server.index.chunk_columns import READ_MMAP_BYTES
from ocp_server.index.current_snapshot import CurrentSnapshot
from ocp_server.index.database_file import current_path, remember_opened
from ocp_server.index.git_settings import IgnoreSources
from ocp_server.index.githead import GitHead
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.indexer import Indexer
from ocp_server.index.lease import LEASE_SECONDS, release_lease, take_lease
from ocp_server.index.limits import DEFAULT_HISTORY_COMMITS, DEFAULT_MAX_FILE_BYTES
from ocp_server.index.on_disk import StoredStats
from ocp_server.index.own_files import OwnFiles
from ocp_server.index.watched import RelevantChanges

__all__ = ["IndexMeta", "WorkspaceState"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndexMeta:
    generation: str
    last_update: float | None
    git_head: str | None
    nested: int  # nested repositories the last update left out


class WorkspaceState(ClosesOnExit):
    """One workspace's index in this process: what its parts (updates, watching, search)
    share."""

    def __init__(
        self,
        workspace: Path,
        db: aiosqlite.Connection,
        db_path: Path,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        history_commits: int = DEFAULT_HISTORY_COMMITS,
        saved_snapshot_bytes: int = 0,
        save_snapshot: bool = False,
    ) -> None:
        self.workspace = workspace
        self.db = db
        self.db_path = db_path
        remember_opened(db_path)  # found again if it moves away with the workspace
        self.owner = uuid.uuid4().hex
        self.building = False
        self._built = False  # whether built() has seen a complete index
        self._first_wait_ends: float | None = None  # when searches stop waiting for the index
        # files done, files to read (None while they are listed), of the running update
        self.progress: tuple[int, int | None] = (0, None)
        self._holds_lease = False
        self._lock = asyncio.Lock()
        self._ignore_path = str(workspace / ".ocpignore")
        # .ocpignore's (mtime_ns, size), core.ignoreCase, its rules (_ocpignore)
        self._ignore_cache: tuple[tuple[int, int] | None, bool, IgnoreRules | None] | None
        self._ignore_cache = None
        self._updated = asyncio.Event()  # set after each update this process completes
        self._retry_now = asyncio.Event()  # an update succeeded while the watcher waited to retry
        self._reader: sqlite3.Connection | None = None  # the search's reads (see _read)
        self._meta_seen: tuple[int, IndexMeta] | None = None  # (the reader's data_version, meta)
        # the stored size and mtime of files searches cite (on_disk.py)
        self._stored = StoredStats(self._data_version, self._read_from)
        # off, starting, watching, polling (no inotify watches left), standby, retrying, stopped
        self.watcher_state = "off"
        self._polling: str | None = None  # why the watcher polls, once inotify failed
        self._inotify_again = 0.0  # when polling, the time.monotonic() to try inotify again
        self._trying_watches = False  # polling, and file watches tried again meanwhile
        self.watcher_error: str | None = None
        # The last update's storage failure, in words (errors.storage_cause), until one works;
        # whether the database may hold its record.
        self.storage_failure: str | None = None
        self._storage_recorded = True  # another process's may be there: cleared at the first
        self._search_may_retry = False  # (storage_wait)
        # Why the workspace folder counts as gone (workspace_root.py), until an update works.
        self.workspace_gone: str | None = None
        self._checked = False  # an update finished in this process (CHECKING_NOTE)
        self._git_head = GitHead(workspace)  # read again only when .git changed
        self._relevant = RelevantChanges(workspace, db_path)  # the watcher's filter
        self._sources: IgnoreSources | None = None  # (_ignore_sources)
        self._config_changed: float | None = None  # when _ignore_sources last found one
        self._indexer = Indexer(
            db,
            workspace,
            max_file_bytes=max_file_bytes,
            git_head=self._git_head,
            history_commits=history_commits,
            own_files=OwnFiles.of(workspace, db_path),
            lease_owner=self.owner,
        )
        # postings, for search (saved beside the database: saved_snapshot.py)
        self.snapshots = CurrentSnapshot(
            db_path, saved_bytes=saved_snapshot_bytes, save=save_snapshot
        )

    async def aclose(self) -> None:
        await self.snapshots.aclose()
        if self._holds_lease:
            await release_lease(self.db, self.owner)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
            self._meta_seen = None  # its data_version counted that connection's view
            self._stored.forget()  # a new connection counts its versions anew
        await self.db.close()

    close = aclose  # the name most callers use; `async with` calls aclose

    # ---- the lease --------------------------------------------------------------------
    async def acquire_lease(self, seconds: float = LEASE_SECONDS) -> bool:
        """Take or renew the right to index and watch. False when a live process holds it."""
        async with self._lock:
            return await self._acquire_lease(seconds)

    async def _acquire_lease(self, seconds: float = LEASE_SECONDS) -> bool:
        # Callers hold self._lock: one connection runs one transaction at a time.
        self._holds_lease = await take_lease(self.db, self.owner, seconds)
        return self._holds_lease

    def db_size(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.path.getsize(f"{self.db_path}{suffix}")
            except OSError:
                pass
        return total

    # ---- the search's reads ----------------------------------------------------------
    async def _read(self, sql: str, params: Sequence[object] = ()) -> Iterable[sqlite3.Row]:
        """The rows of a read on the search's path, read on the event loop from a read-only
        connection: a few rows by key take a tenth of a millisecond, less than the two thread
        hops of aiosqlite, which cost milliseconds on a loaded machine. Committed data only
        (WAL: a running index write never blocks it); when the read fails (the database
        busy recovering, say), it goes through aiosqlite as every other query does. It still
        yields to the loop first, as an aiosqlite query would: tasks started just before a
        search (a watcher's first update) run first."""
        return (await self._read_from(sql, params))[0]

    async def _read_from(
        self, sql: str, params: Sequence[object] = ()
    ) -> tuple[Iterable[sqlite3.Row], bool]:
        """`_read`'s rows, and whether the read-only connection read them (committed data
        only: aiosqlite's connection also sees its own transaction in progress)."""
        await asyncio.sleep(0)
        try:
            return self._reader_connection().execute(sql, params).fetchall(), True
        except sqlite3.Error:
            logger.debug("read-only search connection failed; using aiosqlite", exc_info=True)
            return await self.db.execute_fetchall(sql, params), False

    def _reader_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            uri = f"{current_path(self.db_path).resolve().as_uri()}?mode=ro"
            # It reads on the event loop, so it waits for no lock (busy timeout 0): a read that
            # finds the database busy (another process's WAL recovery, a rollback-journal
            # writer) goes through aiosqlite, which waits in its thread (db.BUSY_TIMEOUT_MS).
            self._reader = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
            # A search's first read of a chunk walks its row's overflow pages (1 KiB pages):
            # mapped, not a read() each (pytest's first-time queries: about 50 µs less a query)
            self._reader.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
        return self._reader

    def _data_version(self) -> int | None:
        """The read-only connection's `PRAGMA data_version`: it moves on with every commit of
        any other connection (other processes', and this one's aiosqlite connection), and the
        reader itself never writes. None when it cannot be read."""
        try:
            row = self._reader_connection().execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])

    async def _meta(self) -> IndexMeta:
        """The index's generation, last update, git HEAD and nested repositories left out:
        read again only when some connection committed since the last read (a third of the
        read's cost, and no yield)."""
        version = self._data_version()  # taken first: a commit during the read shows next time
        seen = self._meta_seen
        if version is not None and seen is not None and seen[0] == version:
            return seen[1]
        found, committed = await self._read_from(
            "SELECT key, value FROM meta WHERE key IN ('last_update', 'git_head', 'skipped')"
            f" UNION ALL SELECT 'generation', value FROM ({change_log.GENERATION_SQL})"
            f" UNION ALL SELECT 'stamp', stamp FROM ({change_log.GENERATION_SQL})"
        )
        rows = {str(key): str(value) for key, value in found if value is not None}
        last = rows.get("last_update")
        meta = IndexMeta(
            change_log.token(rows.get("generation", ""), rows.get("stamp")),
            float(last) if last else None,
            rows.get("git_head") or None,
            nested.count_in(rows.get("skipped")),
        )
        self._meta_seen = (version, meta) if version is not None and committed else None
        return meta
