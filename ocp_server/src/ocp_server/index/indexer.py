"""Bring the index in line with the workspace, doing as little work as possible.

Size and mtime decide what looks changed; only those files are read and hashed. A file read
within its mtime's racy window of its last save is read again at the next update all the same
(git's "racy clean" case: a rewrite of as many bytes in the same mtime tick keeps both; see
`_racy_window_ns`). A file whose hash is unchanged (a touch, a revert, a branch switched back)
only gets its stat updated (and the time it was stored: it is no longer racy once that is
later than its mtime). A changed file is re-chunked, and its chunks are matched to the stored
ones by content hash: unchanged chunks keep their rows (moved ones get new line numbers), so an
edit re-indexes only what it touched. Each batch of files is one transaction, and removed files
are deleted in the first one: killing the indexer leaves a consistent database that the next
run completes, and the database never keeps rows of files that are gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Future
from pathlib import Path

import aiosqlite

from ocp_server.index import nested, secret_files, workspace_root
from ocp_server.index.change_log import ChangeLog, next_generation
from ocp_server.index.clean_text import fill_flags, forget_other_rules
from ocp_server.index.edited_moves import EditedMoves, Recent
from ocp_server.index.file_chunks import Processed, process_file
from ocp_server.index.file_pool import Workers, file_pool, note_workers
from ocp_server.index.file_secrets import NAMED_RULES_KEY, claim_named, named_with_our_rules
from ocp_server.index.files import VENDORED_META_KEY, Candidate, list_workspace
from ocp_server.index.history import read_history, store_history
from ocp_server.index.lease import LEASE_SECONDS, LeaseLost, renew_lease
from ocp_server.index.limits import DEFAULT_HISTORY_COMMITS, TooManyChanges
from ocp_server.index.meta import read_meta, write_meta
from ocp_server.index.models import IndexSummary
from ocp_server.index.moves import pair_new, record_gone
from ocp_server.index.own_files import NO_OWN_FILES, OwnFiles
from ocp_server.transactions import begin

# process_file lives in file_chunks; read through this module, where tests replace it
__all__ = ["BATCH_FILES", "Indexer", "Progress", "process_file"]

logger = logging.getLogger(__name__)

BATCH_FILES = 200
#: A file whose mtime was this close to the time it was read (or later) is read again at the
#: next update: a same-size rewrite within the mtime tick it was read in leaves its stat as
#: stored. For mtimes in whole seconds (a tick of 2 s on FAT, 1 s on HFS+ and ext3)...
RACY_SECONDS = 2.0
#: ... and for mtimes with a part below the second (ext4, xfs, btrfs, tmpfs, APFS, NTFS: a tick
#: of 10 ms at most, exFAT's, plus up to as much again for the kernel's coarse clock, which
#: stamps files behind time.time()), with a tenfold margin.
RACY_FINE_SECONDS = 0.1
#: How often a running update renews its indexing lease (LEASE_SECONDS long) besides the
#: renewal with each batch it writes.
LEASE_RENEWAL_SECONDS = LEASE_SECONDS / 3
# (files done, files to do): called once with (0, total) when the work is known, then after
# every file, from a worker thread.
Progress = Callable[[int, int], None]


#: What the index stored of a file: (id, size, mtime_ns, content_hash, indexed_at).
_Known = dict[str, tuple[int, int, int, str, float]]


def _known_hash(known: _Known, candidate: Candidate) -> str | None:
    row = known.get(candidate.path)
    return row[3] if row is not None else None


def _racy_window_ns(mtime_ns: int) -> int:
    """How close to the moment a file was read its mtime must be for a later rewrite to get
    the same mtime. Git compares each mtime with its index file's, stamped by the same
    filesystem; the database may be elsewhere, so the filesystem's tick is told by the mtime
    itself: a part below the second means a fine one (RACY_FINE_SECONDS), whole seconds maybe
    a coarse one (RACY_SECONDS). A fresh clone indexed at once is then not read twice, nor a
    file the watcher indexed after a save."""
    fine = mtime_ns % 1_000_000_000
    return int((RACY_FINE_SECONDS if fine else RACY_SECONDS) * 1e9)


#: The secret-file rules (secret_files.py) the files were judged with.
FILE_RULES_KEY = "secret_file_rules"


def _looks_changed(row: tuple[int, int, int, str, float] | None, candidate: Candidate) -> bool:
    """Whether a listed file must be read: new, its stat changed, racy (`_racy_window_ns`
    from the time stored with it, see `_stored_at`), or a file with links whose inode changed
    since (a link made to it outside the workspace has its content judged: files.py)."""
    if row is None or (row[1], row[2]) != (candidate.size, candidate.mtime_ns):
        return True
    if candidate.ctime_ns and candidate.ctime_ns >= row[4] * 1e9 - _racy_window_ns(
        candidate.ctime_ns
    ):
        return True  # (racy too: a link made just after the read may carry an older tick)
    return row[2] >= row[4] * 1e9 - _racy_window_ns(row[2])


def _stored_at(p: Processed, now: float) -> float:
    """The `indexed_at` to store for a file read at `p.read_at` and stored at `now`: `now`, or
    the moment it was read when its mtime was racy then, so that `_looks_changed` reads it
    again at the next update however long its batch took. (Git smudges such an entry's size
    instead: a stat no longer as stored would have the next search index it first.)"""
    mtime = p.candidate.mtime_ns
    if p.read_at * 1e9 - mtime < _racy_window_ns(mtime):
        return min(p.read_at, now)
    return now


class Indexer:
    """Runs updates against one open database. Callers hold the indexing lease."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        workspace: Path,
        *,
        max_file_bytes: int,
        git_head: Callable[[], str | None],
        history_commits: int = DEFAULT_HISTORY_COMMITS,
        own_files: OwnFiles = NO_OWN_FILES,
        lease_owner: str | None = None,
    ) -> None:
        self.db = db
        self.lease_owner = lease_owner  # renewed at each batch written (None: no lease)
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes
        self.own_files = own_files  # the database's files, when it lives in the workspace
        self.git_head = git_head
        self.history_commits = history_commits
        self.changes = ChangeLog()  # what the running write changes, recorded with it
        self.recent = Recent()  # the files recent updates dropped and added, by their lines
        self.edited = EditedMoves({}, self.recent)  # the update's dropped files, likewise

    async def update(
        self, progress: Progress | None = None, *, max_files: int | None = None
    ) -> IndexSummary:
        """Index what changed. LeaseLost when another process took the lease over meanwhile
        (this one stalled past it), at the next batch it would have written. With
        `max_files`, TooManyChanges when more files than that changed, and the commits are
        not read again (a save's update: `update_now`)."""
        if self.lease_owner is None:
            return await self._update(progress, max_files)
        # renewed all along, however long the listing or a batch takes (and at each batch)
        keeping = asyncio.create_task(self._keep_lease(self.lease_owner))
        try:
            return await self._update(progress, max_files)
        finally:
            keeping.cancel()
            await asyncio.gather(keeping, return_exceptions=True)

    async def _keep_lease(self, owner: str) -> None:
        while True:
            await asyncio.sleep(LEASE_RENEWAL_SECONDS)
            try:
                await renew_lease(self.db, owner)
            except LeaseLost:
                return  # the next batch's renewal says so, and the update stops there
            except sqlite3.Error:  # busy: the next try, or the next batch's renewal
                logger.debug("could not renew the indexing lease", exc_info=True)

    async def _update(self, progress: Progress | None, max_files: int | None) -> IndexSummary:
        started = time.perf_counter()
        summary = IndexSummary()
        # HEAD before the listing: a checkout finishing during the update then leaves the old
        # HEAD recorded, and the next search indexes again (after, it recorded the new one).
        head = self.git_head()
        device = await workspace_root.recorded_device(self.db)
        listing = await asyncio.to_thread(
            list_workspace,
            self.workspace,
            max_file_bytes=self.max_file_bytes,
            own_files=self.own_files,
        )
        # Gone (a listing of nothing), or an unmounted drive's empty mount point: none deleted.
        if why := workspace_root.gone_reason(self.workspace, device, not listing.candidates):
            raise workspace_root.WorkspaceGone(why)
        summary.git = listing.git
        summary.skipped = dict(listing.skipped)
        known: _Known = {
            row[0]: (row[1], row[2], row[3], row[4], row[5])
            for row in await self.db.execute_fetchall(
                "SELECT path, id, size, mtime_ns, content_hash, indexed_at FROM files"
            )
        }
        # Flags found with other redaction rules are forgotten before any chunk is written
        # (the postings do not change: no new generation).
        await self._transaction(self._forget_other_rules)
        # Files with chunks stored without tiles (before m015, or by an older server sharing
        # the database) or without the values their file names (before m026), and every file
        # when those were found with other redaction rules, are read and chunked again: their
        # kept chunks get them (the values found before are used until then).
        untiled = {
            row[0]
            for row in await self.db.execute_fetchall(
                "SELECT file_id FROM chunks WHERE tiles IS NULL"
                " UNION SELECT file_id FROM chunks WHERE named IS NULL"
                if await named_with_our_rules(self.db)
                else "SELECT DISTINCT file_id FROM chunks"
            )
        }
        if untiled:
            known = {
                p: (v[0], -1, -1, "", v[4]) if v[0] in untiled else v for p, v in known.items()
            }
        # Files judged under other secret-file rules are read again (not chunked again when
        # unchanged): one a content rule added since finds (a `token.json`) leaves the index.
        if await read_meta(self.db, FILE_RULES_KEY) != secret_files.FILE_RULES_DIGEST:
            if known:
                known = {p: (v[0], -1, -1, v[3], v[4]) for p, v in known.items()}
            else:  # an empty index: every file is judged with ours from its first transaction,
                # so a first build killed midway resumes instead of reading every file again
                await self._transaction(
                    write_meta, self.db, FILE_RULES_KEY, secret_files.FILE_RULES_DIGEST
                )
        listed = {c.path for c in listing.candidates}
        removed = [known[p][0] for p in known if p not in listed]
        todo = [c for c in listing.candidates if _looks_changed(known.get(c.path), c)]
        if max_files is not None and len(todo) > max_files:
            raise TooManyChanges(len(todo), max_files)  # nothing written yet
        if progress is not None:
            progress(0, len(todo))
        # a file moved and edited is paired by its lines (edited_moves.py)
        new = [c.path for c in todo if c.path not in known]
        self.edited = await EditedMoves.before_drop(self.db, removed, new, self.recent)
        if removed:
            await self._transaction(self._delete_files, removed)
            summary.removed = len(removed)
        # A build of several batches records how far it got, for `ocp-server status` and the
        # ocp://index/status resource of other processes.
        build = {"done": 0, "total": len(todo), "started_at": time.time()}
        track = len(todo) > BATCH_FILES
        stop = threading.Event()  # set when the update is cancelled (Ctrl-C): the batch ends
        batches = [todo[i : i + BATCH_FILES] for i in range(0, len(todo), BATCH_FILES)]
        async with file_pool(len(todo)) as workers:
            reading: dict[int, list[Future[Processed]] | None] = {}
            for n, batch in enumerate(batches):
                if workers.pool is not None:
                    summary.workers = workers.count
                    # the next batch is read while this one is written
                    if n + 1 < len(batches) and n + 1 not in reading:
                        reading[n + 1] = workers.submit_all(
                            process_file, self._calls(batches[n + 1], known)
                        )
                offset = n * BATCH_FILES
                try:
                    processed = await asyncio.to_thread(
                        self._process_batch,
                        batch,
                        known,
                        (offset, len(todo)),
                        progress,
                        stop,
                        workers,
                        reading.pop(n, None),
                    )
                except asyncio.CancelledError:
                    stop.set()
                    raise
                build["done"] = offset + len(batch)
                await self._transaction(
                    self._write, processed, known, head, summary, build if track else None
                )
        # moves with edits, and copies indexed before their original went: once all is written
        await self._transaction(self.edited.pair, self.db)
        await self.db.execute(
            "INSERT INTO meta VALUES ('last_update', ?), ('git_head', ?), ('skipped', ?), "
            f"('{nested.META_KEY}', ?), ('{VENDORED_META_KEY}', ?), "
            f"('{workspace_root.DEVICE_META_KEY}', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            # What the listing skipped by path; files skipped for their content have rows.
            (
                str(time.time()),
                head or "",
                json.dumps(listing.skipped, sort_keys=True),
                nested.named(listing.nested),
                nested.named(listing.vendored),
                str(workspace_root.device_of(self.workspace) or ""),
            ),
        )
        # Also a build interrupted before (a kill, a full disk) that this update completed,
        # however few files it had left
        await self.db.execute("DELETE FROM meta WHERE key = 'build'")
        summary.workers_failed = workers.failure
        if workers.wanted:  # kept until workers are wanted again: `ocp-server status` says it
            await note_workers(self.db, workers.failure)
        if max_files is None:  # (a bounded update leaves `git log` to the next one)
            await self._update_history(head)
        await claim_named(self.db)  # ours now: every file whose were not was read again
        # likewise: every file was judged with ours
        await write_meta(self.db, FILE_RULES_KEY, secret_files.FILE_RULES_DIGEST)
        await fill_flags(self.db)
        rows = await self.db.execute_fetchall(
            "SELECT (SELECT count(*) FROM files WHERE skip_reason IS NULL),"
            " (SELECT count(*) FROM chunks)"
        )
        summary.files, summary.chunks = next(iter(rows))
        for reason, count in await self.db.execute_fetchall(
            "SELECT skip_reason, count(*) FROM files WHERE skip_reason IS NOT NULL "
            "GROUP BY skip_reason"
        ):
            if reason not in summary.skipped:
                summary.skipped[reason] = count
        summary.scanned = len(todo)
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    async def _forget_other_rules(self) -> None:
        claimed_from = await forget_other_rules(self.db)
        if claimed_from is not None and await read_meta(self.db, NAMED_RULES_KEY) == claimed_from:
            # found under rules whose code is ours (their comments differ): ours too
            await claim_named(self.db)
        if await named_with_our_rules(self.db):
            return
        if not list(await self.db.execute_fetchall("SELECT 1 FROM chunks LIMIT 1")):
            # No chunk was found with other rules: all are written with ours from now on, so
            # a first build killed midway resumes instead of reading every file again.
            await claim_named(self.db)

    async def _update_history(self, head: str | None) -> None:
        """Read the recent commits again when HEAD moved (or history was switched off)."""
        wanted = f"{head}:{self.history_commits}" if head else ""
        if (await read_meta(self.db, "history_head") or "") == wanted:
            return
        commits = await asyncio.to_thread(read_history, self.workspace, self.history_commits)

        async def write() -> bool:
            changed = await store_history(self.db, commits)
            self.changes.history = changed
            await write_meta(self.db, "history_head", wanted)
            return changed

        await self._transaction(write)

    def _calls(self, files: list[Candidate], known: _Known) -> list[tuple[object, ...]]:
        """`process_file`'s arguments for each file."""
        return [(self.workspace, c, _known_hash(known, c), self.max_file_bytes) for c in files]

    def _process_batch(
        self,
        batch: list[Candidate],
        known: _Known,
        place: tuple[int, int],  # files before this batch, files in the update
        progress: Progress | None,
        stop: threading.Event,
        workers: Workers,
        reading: list[Future[Processed]] | None,  # the batch, handed to them already
    ) -> list[Processed]:
        """Process one batch in a worker thread, handing what is left of it to the worker
        processes once they are there (or collecting what they already made of it), and
        report progress per file. Should the workers fail, the thread does the rest."""
        offset, total = place
        processed = []
        futures: Sequence[Future[Processed] | None] | None = reading
        for j, c in enumerate(batch):
            if stop.is_set():
                break  # cancelled: the caller raises, and nothing of this batch is written
            if futures is None and workers.pool is not None:
                rest = workers.submit_all(process_file, self._calls(batch[j:], known))
                futures = None if rest is None else [*([None] * j), *rest]
            future = futures[j] if futures is not None else None
            done: Processed | None = None
            if future is not None:
                try:
                    done = future.result()
                except BrokenExecutor as exc:
                    if stop.is_set():  # stopped at once (file_pool): not a failure
                        break
                    workers.broke(exc)
                    futures = None
            if done is None:
                done = process_file(self.workspace, c, _known_hash(known, c), self.max_file_bytes)
            processed.append(done)
            if progress is not None:
                progress(offset + j + 1, total)
        return processed

    async def _transaction(self, fn: Callable[..., object], *args: object) -> None:
        await begin(self.db)
        self.changes.begin()
        try:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            # Chunks changed: every reader rebuilds its in-memory postings (`lexical`), any
            # process's from what `changes` records with the generation (`snapshot_delta`).
            if result:
                await self.changes.record(self.db, await next_generation(self.db))
            await self.db.execute("COMMIT")
        except BaseException:
            try:
                await self.db.execute("ROLLBACK")
            except sqlite3.OperationalError:
                pass  # cancelled while COMMIT ran: it went through, nothing to roll back
            raise

    async def _delete_files(self, file_ids: list[int], went: bool = True) -> bool:
        if went:  # a plain `mv` is paired (moves.py)
            await record_gone(self.db, file_ids, time.time())
        for start in range(0, len(file_ids), 500):
            ids = file_ids[start : start + 500]
            marks = ",".join("?" * len(ids))
            await self.db.execute(f"DELETE FROM chunks WHERE file_id IN ({marks})", ids)
            await self.db.execute(f"DELETE FROM files WHERE id IN ({marks})", ids)
        self.changes.files.update(file_ids)
        return bool(file_ids)

    async def _write(
        self,
        processed: list[Processed],
        known: _Known,
        head: str | None,
        summary: IndexSummary,
        build: dict[str, float] | None = None,
    ) -> bool:
        """Write one batch; True when chunks changed."""
        if self.lease_owner is not None:
            await renew_lease(self.db, self.lease_owner)
        now = time.time()
        if build is not None:
            await write_meta(self.db, "build", json.dumps(build))
        gone: list[int] = []
        dropped: list[int] = []  # skipped where they stand (a secret gained): not gone
        remembered: list[Processed] = []
        for p in processed:
            if p.skip:
                summary.skipped[p.skip] = summary.skipped.get(p.skip, 0) + 1
                if p.candidate.path in known:
                    was = known[p.candidate.path][0]
                    (gone if p.skip == "vanished" else dropped).append(was)
                if p.skip not in ("vanished", "unreadable"):
                    remembered.append(p)
        if gone:
            await self._delete_files(gone)
        if dropped:  # a file still there is neither moved nor deleted (moves.py)
            await self._delete_files(dropped, went=False)
        if remembered:
            # Remember files skipped for their content, so they are not read again until
            # their size or mtime changes.
            await self.db.executemany(
                "INSERT INTO files (path, size, mtime_ns, content_hash, language, git_head,"
                " indexed_at, skip_reason) VALUES (?, ?, ?, '', NULL, ?, ?, ?)",
                [
                    (p.candidate.path, p.candidate.size, p.candidate.mtime_ns, head, now, p.skip)
                    for p in remembered
                ],
            )
        live = [p for p in processed if not p.skip]
        same = [p for p in live if p.chunks is None]
        if same:
            await self.db.executemany(
                "UPDATE files SET size = ?, mtime_ns = ?, indexed_at = ? WHERE path = ?",
                [
                    (p.candidate.size, p.candidate.mtime_ns, _stored_at(p, now), p.candidate.path)
                    for p in same
                ],
            )
        changed = [p for p in live if p.chunks is not None]
        if not changed:
            return bool(gone or dropped)
        summary.changed += len(changed)
        await self.db.executemany(
            "INSERT INTO files (path, size, mtime_ns, content_hash, language, git_head, indexed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET size = excluded.size,"
            " mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash,"
            " language = excluded.language, git_head = excluded.git_head,"
            " indexed_at = excluded.indexed_at, skip_reason = NULL",
            [
                (
                    p.candidate.path,
                    p.candidate.size,
                    p.candidate.mtime_ns,
                    p.content_hash,
                    p.language,
                    head,
                    _stored_at(p, now),
                )
                for p in changed
            ],
        )
        new = [p for p in changed if p.candidate.path not in known]
        await pair_new(self.db, [(p.candidate.path, p.content_hash, p.candidate.size) for p in new])
        if known:  # (a first build moves nothing: its files are kept for no pairing)
            self.edited.add(new)
        paths = [p.candidate.path for p in changed]
        marks = ",".join("?" * len(paths))
        file_ids = {
            row[0]: row[1]
            for row in await self.db.execute_fetchall(
                f"SELECT path, id FROM files WHERE path IN ({marks})", paths
            )
        }
        self.changes.files.update(file_ids.values())
        # per file, per chunk hash: (id, start, end, whether it has tiles and literal pairs,
        # the values its file names in it, where in its line a piece starts) of the chunks kept
        existing: dict[int, dict[str, list[tuple[int, int, int, bool, str | None, int | None]]]]
        existing = {}
        old_ids = [known[p][0] for p in paths if p in known]
        if old_ids:
            id_marks = ",".join("?" * len(old_ids))
            for row in await self.db.execute_fetchall(
                f"SELECT id, file_id, content_hash, start_line, end_line,"
                f" tiles IS NOT NULL AND literals IS NOT NULL, named, line_from"
                f" FROM chunks WHERE file_id IN ({id_marks})",
                old_ids,
            ):
                existing.setdefault(row[1], {}).setdefault(row[2], []).append(
                    (row[0], row[3], row[4], bool(row[5]), row[6], row[7])
                )
        next_id = next(
            iter(await self.db.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM chunks"))
        )[0]
        inserts: list[tuple[object, ...]] = []
        moves: list[tuple[int, int, bytes, bytes, bytes, bytes, int | None, int]] = []
        renamed: list[tuple[str, int, int]] = []  # kept chunks whose file names other values
        deletes: list[int] = []
        for p in changed:
            assert p.chunks is not None
            path = p.candidate.path
            file_id = file_ids[path]
            old = existing.get(file_id, {})
            for c in p.chunks:
                bucket = old.get(c.content_hash)
                if bucket:
                    cid, start, end, complete, named, line_from = bucket.pop()
                    if named != c.named:  # the rest of the file changed what it names
                        renamed.append((c.named, int(c.clean), cid))
                    # its tiles count from the file's first line: they move with it (and a
                    # chunk stored without tiles or literal pairs, by an older server, gets
                    # them, with the terms they go with; a piece of a long line, where in the
                    # line it now starts: the same text may start elsewhere)
                    moved = (start, end, line_from) != (c.start_line, c.end_line, c.line_from)
                    if moved or not complete:
                        moves.append(
                            (
                                c.start_line,
                                c.end_line,
                                c.terms,
                                c.pairs,
                                c.tiles,
                                c.literals,
                                c.line_from,
                                cid,
                            )
                        )
                    continue
                inserts.append(
                    (
                        next_id,
                        file_id,
                        c.start_line,
                        c.end_line,
                        c.symbol,
                        c.kind,
                        c.scope,
                        c.text,
                        c.content_hash,
                        c.terms,
                        c.pairs,
                        c.tiles,
                        c.names,
                        c.literals,
                        c.length,
                        c.tokens,
                        int(c.clean),
                        c.named,
                        c.line_from,
                    )
                )
                next_id += 1
            for bucket in old.values():
                deletes.extend(cid for cid, *_ in bucket)
        if deletes:
            await self.db.executemany("DELETE FROM chunks WHERE id = ?", [(d,) for d in deletes])
        if moves:
            await self.db.executemany(
                "UPDATE chunks SET start_line = ?, end_line = ?, terms = ?, pairs = ?, tiles = ?,"
                " literals = ?, line_from = ? WHERE id = ?",
                moves,
            )
        if renamed:
            await self.db.executemany(
                "UPDATE chunks SET named = ?, clean = ? WHERE id = ?", renamed
            )
        await self.db.executemany(
            "INSERT INTO chunks (id, file_id, start_line, end_line, symbol, kind, scope, text,"
            " content_hash, terms, pairs, tiles, names, literals, length, tokens, clean, named,"
            " line_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        summary.chunks_added += len(inserts)
        summary.chunks_removed += len(deletes)
        return True
