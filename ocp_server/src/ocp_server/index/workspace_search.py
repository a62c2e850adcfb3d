"""Searching one workspace's index, fresh: a git HEAD moved, a cited file or an ignore
file changed since the last update is indexed first when this process may index, else said
in the answer's note; the postings snapshot and the .ocpignore rules kept between searches."""

from __future__ import annotations

import asyncio
import os
import time
from functools import partial

from ocp_router.words import counted
from ocp_server.db import moved_aside_note
from ocp_server.index import nested
from ocp_server.index.files import load_ocpignore
from ocp_server.index.full_disk import gone_note, storage_note, updated_unless_full, watcher_note
from ocp_server.index.git_settings import GIT_CONFIG, IgnoreSources, ignore_sources
from ocp_server.index.globs import relative_glob, scoped_glob
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.languages import language_named
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import NO_SEARCHABLE_WORDS
from ocp_server.index.models import SearchResponse, SearchResult
from ocp_server.index.on_disk import changed_note, changed_on_disk, idle, ignore_files_since
from ocp_server.index.ranking import load_weights
from ocp_server.index.search import search_chunks, unmatched_filters
from ocp_server.index.workspace_updates import WorkspaceUpdates
from ocp_wire.search import DEFAULT_SEARCH_RESULTS

__all__ = ["CHECKING_NOTE", "HEAD_MOVED_NOTE", "WorkspaceSearch"]

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


class WorkspaceSearch(WorkspaceUpdates):
    """`search`, and the snapshot and rules it reads by."""

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
        # (a folder gone has no file that changed: its note says why instead)
        gone = self.workspace_gone is not None or not self.workspace.is_dir()
        changed = [] if gone else await changed_on_disk(self._stored, self.workspace, cited)
        ignores = ignore_files_since(self.workspace, cited, meta.last_update, sources.files)
        if self._config_written(sources, meta.last_update):
            ignores.insert(0, GIT_CONFIG)
        # An update running (the watcher's) may have listed the files before the edit: it is
        # waited for, briefly, and one more runs after it.
        if (changed or ignores) and refresh and await idle(self._lock) and await refreshed():
            what = counted(len(changed), "cited file") if changed else ignores[0]
            note = f"{what} changed since the last update: re-indexed first"
            meta = await self._meta()
            snap, results, terms = await search_at(meta.generation)
            changed = []
        elif changed:
            note = changed_note(changed)
        if not terms:
            note = f"the query {NO_SEARCHABLE_WORDS}: give words, a symbol name or a question"
        elif not results and (path_glob or language):
            note = unmatched_filters(snap, given or None, language, scope) or note
        if meta.nested:  # a search finding nothing of their code is explained
            note = "; ".join(filter(None, (note, nested.search_note(meta.nested))))
        if full:  # this search's try: the next search leaves it to the watcher (storage_wait)
            self._search_may_retry = False
        elif self.storage_failure is not None:  # an earlier update's
            full.append(storage_note(self.storage_failure))
        if self.workspace_gone is not None:  # said instead of the watcher's retries
            full.append(gone_note(self.workspace_gone))
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
