"""WorkspaceIndex: one workspace's index, kept fresh, shared safely between processes.

Several processes may open the same database (one per IDE window). One of them holds a lease
(a row in `leases`, renewed while it lives) and is the only one that indexes and watches; the
others only read. A lease whose holder died expires and is taken over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import aiosqlite
import pathspec
import watchfiles

from ocp_server.db import connect
from ocp_server.index.files import DEFAULT_MAX_FILE_BYTES, VENDORED_DIRS, git_head, load_ocpignore
from ocp_server.index.history import DEFAULT_HISTORY_COMMITS
from ocp_server.index.indexer import Indexer, Progress
from ocp_server.index.lexical import Snapshot, load_snapshot
from ocp_server.index.models import IndexStatus, IndexSummary, SearchResponse
from ocp_server.index.search import search_chunks

logger = logging.getLogger(__name__)

LEASE_NAME = "indexer"
LEASE_SECONDS = 30.0
DEBOUNCE_MS = 300


@dataclass(frozen=True, slots=True)
class _Meta:
    generation: str
    last_update: float | None
    git_head: str | None


def default_db_path(workspace: Path, env: Mapping[str, str] | None = None) -> Path:
    """`OCP_DB_PATH` when set, else `<workspace>/.ocp/ocp.db`."""
    env = os.environ if env is None else env
    value = (env.get("OCP_DB_PATH") or "").strip()
    if value and not value.startswith("$"):
        return Path(value).expanduser()
    return workspace / ".ocp" / "ocp.db"


class WorkspaceIndex:
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
        self.progress: tuple[int, int] = (0, 0)  # files done, files to do, of the running update
        self._holds_lease = False
        self._lock = asyncio.Lock()
        self._snapshot: Snapshot | None = None  # postings in memory, for search
        self._snapshot_lock = asyncio.Lock()
        self._ignore_cache: tuple[tuple[int, int] | None, pathspec.GitIgnoreSpec | None] | None
        self._ignore_cache = None
        self._indexer = Indexer(
            db,
            workspace,
            max_file_bytes=max_file_bytes,
            git_head=lambda: git_head(workspace),
            history_commits=history_commits,
        )

    @classmethod
    async def open(
        cls,
        workspace: Path,
        db_path: Path | None = None,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        history_commits: int = DEFAULT_HISTORY_COMMITS,
    ) -> WorkspaceIndex:
        workspace = workspace.resolve()
        if not workspace.is_dir():
            raise NotADirectoryError(f"workspace {workspace} is not a folder")
        db_path = db_path or default_db_path(workspace)
        return cls(
            workspace,
            await connect(db_path),
            db_path,
            max_file_bytes=max_file_bytes,
            history_commits=history_commits,
        )

    async def close(self) -> None:
        if self._holds_lease:
            try:
                await self.db.execute(
                    "DELETE FROM leases WHERE name = ? AND owner = ?", (LEASE_NAME, self.owner)
                )
            except aiosqlite.Error:
                logger.debug("could not release the indexing lease", exc_info=True)
        await self.db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- the lease --------------------------------------------------------------------
    async def acquire_lease(self, seconds: float = LEASE_SECONDS) -> bool:
        """Take or renew the right to index and watch. False when a live process holds it."""
        async with self._lock:
            return await self._acquire_lease(seconds)

    async def _acquire_lease(self, seconds: float = LEASE_SECONDS) -> bool:
        # Callers hold self._lock: one connection runs one transaction at a time.
        now = time.time()
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            rows = list(
                await self.db.execute_fetchall(
                    "SELECT owner, expires_at FROM leases WHERE name = ?", (LEASE_NAME,)
                )
            )
            free = not rows or rows[0][0] == self.owner or rows[0][1] < now
            if free:
                await self.db.execute(
                    "INSERT INTO leases VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                    "owner = excluded.owner, pid = excluded.pid, expires_at = excluded.expires_at",
                    (LEASE_NAME, self.owner, os.getpid(), now + seconds),
                )
            await self.db.execute("COMMIT")
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        self._holds_lease = free
        return free

    # ---- indexing ---------------------------------------------------------------------
    async def update(self, progress: Progress | None = None) -> IndexSummary | None:
        """Index what changed. None when another process holds the lease (it indexes)."""
        async with self._lock:
            if not await self._acquire_lease():
                return None
            files = next(
                iter(
                    await self.db.execute_fetchall(
                        "SELECT count(*) FROM files WHERE skip_reason IS NULL"
                    )
                )
            )[0]
            self.building = files == 0

            def record(done: int, total: int) -> None:
                self.progress = (done, total)
                if progress is not None:
                    progress(done, total)

            self.progress = (0, 0)
            try:
                summary = await self._indexer.update(record)
            finally:
                self.building = False
        summary.db_bytes = self.db_size()
        return summary

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
        head = git_head(self.workspace)
        stale = last is None or (head is not None and head != await self._stored_head())
        return IndexStatus(
            str(self.workspace),
            str(self.db_path),
            files,
            chunks,
            last,
            stale,
            self.building,
            head,
            self._holds_lease,
        )

    # ---- search -----------------------------------------------------------------------
    async def search(
        self,
        query: str,
        *,
        k: int = 8,
        path_glob: str | None = None,
        language: str | None = None,
        max_tokens: int | None = None,
        refresh: bool = True,
        group_by_file: bool = False,
    ) -> SearchResponse:
        """Best chunks for `query`. A git HEAD change since the last update (a checkout made
        while nothing ran) is noticed here and indexed first, when this process may index."""
        note = None
        head = git_head(self.workspace)
        meta = await self._meta()
        if refresh and not self._lock.locked() and head is not None and head != meta.git_head:
            if await self.update() is not None:
                note = "git HEAD changed since the last update: re-indexed first"
                meta = await self._meta()
        snap = await self._snapshot_at(meta.generation)
        results, terms = await search_chunks(
            self.db,
            snap,
            query,
            k=k,
            path_glob=path_glob,
            language=language,
            max_tokens=max_tokens,
            ocpignore=self._ocpignore(),
            group_by_file=group_by_file,
        )
        if not terms:
            note = "the query has no searchable words (only punctuation or empty)"
        status = IndexStatus(
            str(self.workspace),
            str(self.db_path),
            snap.n_files,
            snap.n_chunks,
            meta.last_update,
            meta.last_update is None or (head is not None and head != meta.git_head),
            self.building,
            head,
            self._holds_lease,
        )
        return SearchResponse(query, tuple(results), status, tuple(terms), note)

    async def _meta(self) -> _Meta:
        rows = {
            str(key): str(value)
            for key, value in await self.db.execute_fetchall(
                "SELECT key, value FROM meta WHERE key IN ('generation', 'last_update', 'git_head')"
            )
        }
        last = rows.get("last_update")
        return _Meta(
            rows.get("generation", ""), float(last) if last else None, rows.get("git_head") or None
        )

    def _ocpignore(self) -> pathspec.GitIgnoreSpec | None:
        """The workspace's .ocpignore, read again only when it changed."""
        try:
            stat = (self.workspace / ".ocpignore").stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if self._ignore_cache is None or self._ignore_cache[0] != stamp:
            self._ignore_cache = (stamp, load_ocpignore(self.workspace) if stamp else None)
        return self._ignore_cache[1]

    async def snapshot(self) -> Snapshot:
        """The postings of the index as it is now. Any process's index write moves the
        database's generation on; the next search then reads the postings again."""
        return await self._snapshot_at((await self._meta()).generation)

    async def _snapshot_at(self, generation: str) -> Snapshot:
        current = self._snapshot
        if current is not None and current.generation == generation:
            return current
        async with self._snapshot_lock:
            current = self._snapshot
            if current is None or current.generation != generation:
                current = await asyncio.to_thread(load_snapshot, self.db_path)
                self._snapshot = current
            return current

    # ---- watching ---------------------------------------------------------------------
    def _relevant(self, change: watchfiles.Change, path: str) -> bool:
        rel = os.path.relpath(path, self.workspace).replace(os.sep, "/")
        parts = rel.split("/")
        if parts[0] == ".git":
            return rel == ".git/HEAD" or rel.startswith(".git/refs/heads")
        if Path(path).resolve() == self.db_path.resolve() or rel.startswith(".ocp/"):
            return False
        return not any(p in VENDORED_DIRS for p in parts[:-1])

    async def watch(self, stop: asyncio.Event) -> None:
        """Keep the index current until `stop` is set: a debounced watcher re-indexes changed
        files about a second after a save. Only the lease holder indexes; the others keep
        trying to take the lease over in case the holder goes away."""
        await self.update()
        async for changes in watchfiles.awatch(
            self.workspace,
            watch_filter=self._relevant,
            debounce=DEBOUNCE_MS,
            stop_event=stop,
            rust_timeout=int(LEASE_SECONDS * 1000 / 3),
            yield_on_timeout=True,
            recursive=True,
        ):
            if stop.is_set():
                break
            if not await self.acquire_lease():
                continue
            if changes:
                try:
                    summary = await self.update()
                except Exception:
                    logger.exception("re-indexing after a change failed; will retry on the next")
                    continue
                if summary is not None:
                    logger.info(
                        "re-indexed %d changed file(s) in %.3fs", summary.changed, summary.seconds
                    )
