"""WorkspaceIndex: one workspace's index, kept fresh, shared safely between processes.

Several processes may open the same database (one per IDE window): the one holding the
indexing lease (lease.py) indexes and watches, the others only read.

A database holds one workspace: opening it for another (a shared OCP_DB_PATH) is refused,
since search results and saved decisions would mix.

The watcher never stops for good: a failure (a locked database, a folder briefly gone) is
retried with backoff, and each retry starts with a full incremental update, so no edit made
meanwhile is lost. Its state is part of the index status.

Over 600 lines: a search's freshness checks (git HEAD, the cited files, the read-only reader
whose data_version keys what is kept between searches) share the index's state and its lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiosqlite

from ocp_router.closing import ClosesOnExit
from ocp_router.redact_names import redact_name_head
from ocp_server.db import DatabaseError, DatabaseNaming, connect, moved_aside_note
from ocp_server.errors import storage_cause, storage_failed
from ocp_server.index import change_log, nested
from ocp_server.index.current_snapshot import CurrentSnapshot
from ocp_server.index.files import load_ocpignore
from ocp_server.index.full_disk import (
    STORAGE_META_KEY,
    storage_note,
    updated_unless_full,
    watcher_note,
)
from ocp_server.index.git_settings import GIT_CONFIG, IgnoreSources, ignore_sources
from ocp_server.index.githead import GitHead
from ocp_server.index.globs import relative_glob, scoped_glob
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.indexer import Indexer, Progress
from ocp_server.index.languages import language_named
from ocp_server.index.lease import LEASE_SECONDS, LeaseLost, release_lease, take_lease
from ocp_server.index.lexical import Snapshot
from ocp_server.index.limits import DEFAULT_HISTORY_COMMITS, DEFAULT_MAX_FILE_BYTES
from ocp_server.index.models import IndexStatus, IndexSummary, SearchResponse, SearchResult
from ocp_server.index.on_disk import (
    StoredStats,
    changed_note,
    changed_on_disk,
    idle,
    ignore_files_since,
)
from ocp_server.index.own_files import OwnFiles, same_file
from ocp_server.index.ranking import load_weights
from ocp_server.index.search import search_chunks, unmatched_filters
from ocp_server.index.watched import (
    RelevantChanges,
    first_set,
    new_folder,
    watch_folders,
    watch_limit_reached,
    workspace_removed,
)
from ocp_server.path_text import path_text
from ocp_server.settings import workspace_db_path
from ocp_server.transactions import begin, rollback
from ocp_wire.search import DEFAULT_SEARCH_RESULTS

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


@dataclass(frozen=True, slots=True)
class _Meta:
    generation: str
    last_update: float | None
    git_head: str | None
    nested: int  # nested repositories the last update left out


#: A search's note while the watcher's first update, the check for files changed while no
#: server ran, has not finished: the search answers from the index as it was meanwhile.
CHECKING_NOTE = (
    "the server just started and is checking the index for files changed while it was not "
    "running: results may miss such changes; ask again in a few seconds"
)

#: A search's note when the git HEAD moved since the index's last update, and the search
#: could not index first.
HEAD_MOVED_NOTE = (
    "the git HEAD moved since the last update (a checkout, a pull) and the index is catching "
    "up: results may be from before it; ask again in a few seconds"
)


class WorkspaceIndex(ClosesOnExit):
    def __init__(
        self,
        workspace: Path,
        db: aiosqlite.Connection,
        db_path: Path,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        history_commits: int = DEFAULT_HISTORY_COMMITS,
    ) -> None:
        self.workspace = workspace
        self.db = db
        self.db_path = db_path
        self.owner = uuid.uuid4().hex
        self.building = False
        self._built = False  # whether built() has seen a complete index
        self._first_wait_ends: float | None = None  # when searches stop waiting for the index
        self.progress: tuple[int, int] = (0, 0)  # files done, files to do, of the running update
        self._holds_lease = False
        self._lock = asyncio.Lock()
        self._ignore_path = str(workspace / ".ocpignore")
        # .ocpignore's (mtime_ns, size), core.ignoreCase, its rules (_ocpignore)
        self._ignore_cache: tuple[tuple[int, int] | None, bool, IgnoreRules | None] | None
        self._ignore_cache = None
        self._updated = asyncio.Event()  # set after each update this process completes
        self._retry_now = asyncio.Event()  # an update succeeded while the watcher waited to retry
        self._reader: sqlite3.Connection | None = None  # the search's reads (see _read)
        self._meta_seen: tuple[int, _Meta] | None = None  # (the reader's data_version, meta)
        # the stored size and mtime of files searches cite (on_disk.py)
        self._stored = StoredStats(self._data_version, self._read_from)
        # off, starting, watching, polling (no inotify watches left), standby, retrying, stopped
        self.watcher_state = "off"
        self._polling: str | None = None  # why the watcher polls, once inotify failed
        self._inotify_again = 0.0  # when polling, the time.monotonic() to try inotify again
        self.watcher_error: str | None = None
        # The last update's storage failure, in words (errors.storage_cause), until one works;
        # whether the database may hold its record.
        self.storage_failure: str | None = None
        self._storage_recorded = True  # another process's may be there: cleared at the first
        self._search_may_retry = False  # (storage_wait)
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
        self.snapshots = CurrentSnapshot(db_path)  # postings, for search

    @classmethod
    async def open(
        cls,
        workspace: Path,
        db_path: Path | None = None,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        history_commits: int = DEFAULT_HISTORY_COMMITS,
        naming: DatabaseNaming | None = None,
    ) -> WorkspaceIndex:
        workspace = workspace.resolve()
        if not workspace.is_dir():
            raise NotADirectoryError(f"workspace {workspace} is not a folder")
        db_path = db_path or workspace_db_path(workspace)
        db = await connect(db_path, naming)
        try:
            await _claim(db, workspace, db_path)
        except BaseException:
            await db.close()
            raise
        return cls(
            workspace,
            db,
            db_path,
            max_file_bytes=max_file_bytes,
            history_commits=history_commits,
        )

    async def aclose(self) -> None:
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

    # ---- indexing ---------------------------------------------------------------------
    async def update(self, progress: Progress | None = None) -> IndexSummary | None:
        """Index what changed. None when another process holds the lease (it indexes)."""
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

            self.progress = (0, 0)
            try:
                summary = await self._indexer.update(record)
            except LeaseLost:
                logger.info("another process took the indexing lease over: it indexes now")
                self._holds_lease = False
                return None
            except sqlite3.DatabaseError as exc:
                if storage_failed(exc):
                    await self._storage_failed(exc)
                raise
            finally:
                self.building = False
            if self._storage_recorded or self.storage_failure is not None:
                await self._storage_works()  # (said here even when it could not be recorded)
        summary.db_bytes = self.db_size()
        self._checked = True
        self._updated.set()
        if self.watcher_state == "retrying":  # (a search's update): the disk is followed again
            self.watcher_state, self.watcher_error = "starting", self._polling
            self._retry_now.set()  # the watcher retries now, not up to RETRY_MAX later
        return summary

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

    def db_size(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.path.getsize(f"{self.db_path}{suffix}")
            except OSError:
                pass
        return total

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
            stale or self.watcher_state == "retrying" or self.storage_failure is not None,
            self.building,
            head,
            self._holds_lease,
            self.watcher_state,
            self.watcher_error,
            self.storage_failure,
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
        indexed until the watcher's next turn (or the one running now, waited for)."""
        if self.building or not await idle(self._lock):
            return False
        return await updated_unless_full(self.update, self.db_path, [])

    # ---- search -----------------------------------------------------------------------
    async def search(
        self,
        query: str,
        *,
        k: int = DEFAULT_SEARCH_RESULTS,
        path_glob: str | None = None,
        language: str | None = None,
        max_tokens: int | None = None,
        refresh: bool = True,
        group_by_file: bool = False,
        scope: str | None = None,
    ) -> SearchResponse:
        """Best chunks for `query`. A git HEAD change since the last update (a checkout made
        while nothing ran), or a cited file changed since it was indexed (an edit the watcher
        has not indexed yet), is indexed first when this process may index, else noted.
        `scope`: the sub-folder searched (a `workspace` argument naming one, relative to
        the workspace); `path_glob` is then relative to it, as the caller wrote it."""
        # blank is no filter, as the wire allows it: agents send empty optional arguments
        language = language_named(language) if language and language.strip() else None
        given = path_glob
        if path_glob:
            folder = self.workspace / scope if scope else self.workspace
            given = relative_glob(folder, path_glob, scoped=scope is not None)
        # the caller's glob inside the folder searched: the one the index filters with
        path_glob = scoped_glob(scope, given)
        note = None
        head = self._git_head()
        meta = await self._meta()
        sources = await self._ignore_sources()
        full: list[str] = []  # a storage failure of an update this search ran
        refreshed = partial(updated_unless_full, self.update, self.db_path, full)
        refresh = refresh and not self.storage_wait()  # the watcher retries it (`watch`)
        if refresh and not self._lock.locked() and head is not None and head != meta.git_head:
            if await refreshed():
                note = (
                    "git HEAD changed since the last update: re-indexed first"
                    if meta.last_update  # else none recorded one: a first build stopped midway
                    else "the first index of this workspace was interrupted: completed first"
                )
                meta = await self._meta()

        async def search_at(generation: str) -> tuple[Snapshot, list[SearchResult], list[str]]:
            snap = await self._snapshot_at(generation)
            results, terms = await search_chunks(
                self._read,
                snap,
                query,
                k=k,
                path_glob=path_glob,
                language=language,
                max_tokens=max_tokens,
                ocpignore=self._ocpignore(sources.ignore_case),
                group_by_file=group_by_file,
                root=str(self.workspace),
            )
            return snap, results, terms

        snap, results, terms = await search_at(meta.generation)
        cited = [r.path for r in results]
        changed = await changed_on_disk(self._stored, self.workspace, cited)
        ignores = ignore_files_since(self.workspace, cited, meta.last_update, sources.files)
        if self._config_written(sources, meta.last_update):
            ignores.insert(0, GIT_CONFIG)
        # An update running (the watcher's) may have listed the files before the edit: it is
        # waited for, briefly, and one more runs after it.
        if (changed or ignores) and refresh and await idle(self._lock) and await refreshed():
            note = (
                f"{len(changed)} cited file(s) changed since the last update: re-indexed first"
                if changed
                else f"{ignores[0]} changed since the last update: re-indexed first"
            )
            meta = await self._meta()
            snap, results, terms = await search_at(meta.generation)
            changed = []
        elif changed:
            note = changed_note(changed)
        if not terms:
            note = (
                "the query has no searchable words (it is empty, or only spaces, punctuation, "
                "single characters or words as common as 'the'): give words, a symbol name or "
                "a question"
            )
        elif not results and (path_glob or language):
            note = unmatched_filters(snap, given or None, language, scope) or note
        if meta.nested:  # a search finding nothing of their code is explained
            note = "; ".join(filter(None, (note, nested.search_note(meta.nested))))
        if full:  # this search's try: the next search leaves it to the watcher (storage_wait)
            self._search_may_retry = False
        elif self.storage_failure is not None:  # an earlier update's
            full.append(storage_note(self.storage_failure))
        retrying = None if full else watcher_note(self.watcher_state, self.watcher_error)
        if self.watcher_state == "starting" and not self._checked and meta.last_update:
            note = "; ".join(filter(None, (CHECKING_NOTE, note)))
        behind = head not in (None, meta.git_head)
        if behind and meta.last_update and not (full or retrying):
            # a checkout or pull the update running (or another window's) has not caught up
            note = "; ".join(filter(None, (HEAD_MOVED_NOTE, note)))
        moved = moved_aside_note(self.db_path, search=True)
        note = "; ".join(filter(None, (moved, *full, retrying, note))) or None
        stale = bool(full or changed) or not meta.last_update or behind
        status = self._status(snap.n_files, snap.n_chunks, meta.last_update, stale, head)
        return SearchResponse(query, tuple(results), status, tuple(terms), note)

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
            uri = f"{self.db_path.resolve().as_uri()}?mode=ro"
            self._reader = sqlite3.connect(uri, uri=True, timeout=0.05, isolation_level=None)
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

    async def _meta(self) -> _Meta:
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
        meta = _Meta(
            change_log.token(rows.get("generation", ""), rows.get("stamp")),
            float(last) if last else None,
            rows.get("git_head") or None,
            nested.count_in(rows.get("skipped")),
        )
        self._meta_seen = (version, meta) if version is not None and committed else None
        return meta

    async def _ignore_sources(self) -> IgnoreSources:
        """git's ignore files outside the workspace's folders, its config files and
        core.ignoreCase (git_settings.py): as last found here or by the watcher's last start,
        found again (two git commands) once a config file changed."""
        for found in (self._sources, self._relevant.git.sources):
            if found is not None and found.current():
                self._sources = found
                return found
        if self._sources is not None:  # changed since: the listing may have (_config_written)
            self._config_changed = time.time()
        self._sources = await asyncio.to_thread(ignore_sources, self.workspace)
        return self._sources

    def _config_written(self, sources: IgnoreSources, since: float | None) -> bool:
        """Whether a git config file changed since the last update (`since`): seen changed by
        _ignore_sources (a link pointed elsewhere keeps an old time), or written then."""
        changed = self._config_changed
        if since is not None and changed is not None and changed > since:
            return True
        return sources.written_since(since, time.time())

    def _ocpignore(self, ignore_case: bool) -> IgnoreRules | None:
        """The workspace's .ocpignore, read again only when it (or core.ignoreCase) changed."""
        cache = self._ignore_cache
        # Absent before and still absent: access() says so at a third of a failing stat()'s cost.
        if cache is not None and cache[0] is None and not os.access(self._ignore_path, os.F_OK):
            return None
        try:
            stat = os.stat(self._ignore_path)
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if cache is None or cache[:2] != (stamp, ignore_case):
            rules = load_ocpignore(self.workspace, ignore_case=ignore_case) if stamp else None
            cache = self._ignore_cache = (stamp, ignore_case, rules)
        return cache[2]

    async def snapshot(self) -> Snapshot:
        """The postings of the index as it is now. Any process's index write moves the
        database's generation on; the next search then reads the postings again."""
        return await self._snapshot_at((await self._meta()).generation)

    async def _snapshot_at(self, generation: str) -> Snapshot:
        return await self.snapshots.at(generation)

    async def preload(self) -> None:
        """Read the snapshot before a search asks for it, when the index is built (during a
        first build it would be read again at once): it is most of a first search's time
        (pytest's 670 files: about 0.3 s of a fresh server's first search). The ranker's
        weights too, read once per process."""
        load_weights()
        if await self.built():
            await self.snapshot()

    # ---- watching ---------------------------------------------------------------------
    async def watch(self, stop: asyncio.Event) -> None:
        """Keep the index current until `stop` is set: a debounced watcher re-indexes changed
        files about a second after a save. Only the lease holder indexes; the others keep
        trying to take the lease over in case the holder goes away. A failure is retried with
        backoff (RETRY_FIRST doubling to RETRY_MAX); the watcher never gives up."""
        delay = RETRY_FIRST
        try:
            while not stop.is_set():
                self.watcher_state = "starting"
                try:
                    await self._watch(stop)  # returns when stopped, or to watch a new folder
                    delay = RETRY_FIRST
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a locked database, a folder gone…
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
                    logger.warning(
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
            raise FileNotFoundError(self._gone())
        self.watcher_state = self._watching() if await self.update() is not None else "standby"
        self.watcher_error = self._polling
        # The watches are in place only after that update and the listing of the folders: a
        # file saved in between (during a first build, or a listing slow on a loaded machine)
        # raises no event. One more update, started once they are in place, catches it.
        catch_up: list[asyncio.Task[IndexSummary | None]] = []

        def armed() -> None:
            if not catch_up:
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
            if catch_up and catch_up[0].done():
                catch_up[0].result()  # its failure (a locked database) goes to watch()'s retry
            if stop.is_set() or new_folder(changes) or self._relevant.git.config_changed(changes):
                break  # a new folder, git's config: watch() starts again, and lists them again
            if self._polling is not None and time.monotonic() >= self._inotify_again:
                self._polling = None  # watch() starts again, with inotify if it has watches
                break
            # Its watches went with it (a folder made again there is not watched); its parent
            # is not watched, so watch() retries until it is back. Checked at every timeout
            # too: deleted and made again within one debounce, only the event says so.
            if workspace_removed(self.workspace, changes):
                raise FileNotFoundError(self._gone())
            if not await self.acquire_lease():
                self.watcher_state = "standby"  # another process indexes
                continue
            # A lease just taken over: catch up with what changed while another process held it.
            took_over = self.watcher_state != self._watching()
            self.watcher_state = self._watching()
            if changes or took_over:
                summary = await self.update()
                if summary is not None:
                    logger.info(
                        "re-indexed %d changed file(s) in %.3fs", summary.changed, summary.seconds
                    )

    def _watching(self) -> str:
        return "watching" if self._polling is None else "polling"

    def _gone(self) -> str:
        return f"the workspace folder {self.workspace} was deleted; watched again once it is back"


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


async def _claim(db: aiosqlite.Connection, workspace: Path, db_path: Path) -> None:
    """Record which workspace a database holds; refuse one that holds another workspace."""
    await begin(db)
    try:
        rows = list(await db.execute_fetchall("SELECT value FROM meta WHERE key = 'workspace'"))
        if not rows:  # a database from before workspaces were recorded: its sessions say
            rows = list(
                await db.execute_fetchall(
                    "SELECT workspace FROM sessions ORDER BY started_at DESC LIMIT 1"
                )
            )
        recorded = str(rows[0][0]) if rows else None
        mine = path_text(workspace)
        # A workspace's own database (.ocp/ocp.db) follows it when the folder moves; any other
        # is taken over only when the workspace it holds is gone. Known by the file it is, not
        # by spelling: OCP_DB_PATH may spell it in another case (macOS, Windows) or by a link.
        own = same_file(db_path, workspace_db_path(workspace))
        if recorded not in (None, mine) and not own and Path(recorded).is_dir():
            raise DatabaseError(
                f"the OCP database at {db_path} holds the workspace {recorded}, not {mine}: "
                "a database holds one workspace's index and memory, or search results and "
                "saved decisions would mix. Unset OCP_DB_PATH (each workspace then keeps its "
                "own in .ocp/), or give each project its own OCP_DB_PATH."
            )
        if recorded != mine:
            await db.execute(
                "INSERT INTO meta VALUES ('workspace', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (mine,),
            )
        await db.execute("COMMIT")
    except BaseException:
        await rollback(db)
        raise
