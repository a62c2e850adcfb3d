"""Citation checks: which memories still describe the code they cite (citations/)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ocp_server.citations import Check, CodeView, Stored, normalized
from ocp_server.citations.blocks import most_alike, most_alike_stretch
from ocp_server.citations.definitions import matches
from ocp_server.index.files import path_exclusion
from ocp_server.memory.base import MemoryBase, Snapshot
from ocp_server.memory.queries import STORED_CITATIONS, UNINDEXED, placeholders


class CitationChecks(MemoryBase):
    """Checking cited code: a memory is served as a fact only while the code it cites is
    unchanged (valid) or was found elsewhere (moved); otherwise it is stale."""

    async def verify(self, snapshot: Snapshot | None = None) -> int:
        """Check every live citation whose file changed since its last check, and every stale
        one a re-indexed file may now hold; store what was found. Returns how many were
        checked. Unchanged files are only stat'ed, never read. `snapshot`: one just read."""
        if self.workspace is None:
            return 0
        async with self._lock:  # reads only; a stale answer just means a check next time
            if snapshot is None:
                snapshot = await self._snapshot({"cut": float("-inf"), "ex": "", "scope": None})
            due = await self._checks_due(snapshot)
        return await self._check(due) if due else 0

    async def cited_files(self) -> list[str]:
        """The files live citations name, as their checks signed them."""
        async with self._lock:
            return [str(row[0]) for row in await self._fetch("SELECT path FROM memory_files")]

    async def _checks_due(self, snapshot: Snapshot) -> ChecksDue | None:
        """What `verify` has to check, read with the lock held (no write): the cited files
        whose signature changed, and the stale citations a newer index may resolve. None
        when nothing is due. Unchanged files are only stat'ed."""
        if self.workspace is None or not snapshot.signed:
            return None
        seen = snapshot.seen
        stale: list[Any] = []
        if snapshot.stale_due:
            stale = await self._fetch(
                "SELECT id, symbol, index_seen, path FROM memory_citations WHERE status = 'stale' "
                "AND active = 1 AND index_seen IS NOT ?",
                (seen,),
            )
        view = await CodeView.open(self.db, self.workspace, self.max_file_bytes)
        recheck = await self._stale_to_recheck(stale, view)
        ignore = view.ocpignore
        changed = {}
        for path, size, mtime, indexed in snapshot.signed:
            # A file the index dropped (deleted, ignored, now secret) is checked again.
            excluded = not indexed or path_exclusion(path, ignore) is not None
            sig = UNINDEXED if excluded else view.stat(path)
            if sig != (size, mtime):
                changed[path] = sig
        if not changed and not stale:
            return None
        return ChecksDue(changed, bool(stale), recheck, seen)

    async def _check(self, due: ChecksDue) -> int:
        """Check what is due and store what was found, in one write transaction."""
        assert self.workspace is not None
        view = await CodeView.open(self.db, self.workspace, self.max_file_bytes)
        changed, recheck, seen = due.changed, due.recheck, due.seen
        stale = due.stale
        async with self._transaction():
            rows = []
            paths = list(changed)
            for start in range(0, len(paths), 400):
                chunk = paths[start : start + 400]
                rows += await self._fetch(
                    f"{STORED_CITATIONS} WHERE active = 1 AND path IN ({placeholders(len(chunk))})",
                    chunk,
                )
            for start in range(0, len(recheck), 400):
                ids = recheck[start : start + 400]
                rows += await self._fetch(
                    f"{STORED_CITATIONS} WHERE id IN ({placeholders(len(ids))})", ids
                )
            checked = {}
            rejudged: dict[int, tuple[str, int, int]] = {}  # stale from where it was saved
            for row in rows:
                stored = Stored(
                    row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7], row[13],
                    row[14],
                )  # fmt: skip
                if stored.id not in checked:
                    checked[stored.id] = await view.check(stored)
                    if row[9] == "moved" and checked[stored.id].status != "stale":
                        saved = await _judged_where_saved(view, row)
                        if saved is not None:
                            checked[stored.id], rejudged[stored.id] = saved
            now = self.clock()
            moved_to: list[tuple[str, tuple[int, int]]] = []
            updates = []
            for row in rows:
                result = checked.pop(row[0], None)
                if result is None:
                    continue
                where, status = result.where, result.status
                if status == "stale" or where is None:
                    path, start, end = rejudged.get(row[0], (row[1], row[2], row[3]))
                    moved_from = None if row[0] in rejudged else row[10]
                    updates.append(
                        (
                            "stale", path, start, end, row[4], row[5], moved_from,
                            result.change, seen, now, row[13], row[14], row[0],
                        )
                    )  # fmt: skip
                    continue
                if status == "moved" and where.citation == row[8]:
                    # Back at the lines it was saved at (after a move, or a stale spell
                    # elsewhere): valid there, not "moved" from where it was last seen.
                    status = "valid"
                moved_from = f"{row[1]}:{row[2]}-{row[3]}" if status == "moved" else None
                if status == "valid" and row[9] == "moved" and where.citation != row[8]:
                    # still at the place it moved to, not back where it was saved
                    status, moved_from = "moved", row[10]
                # confirmed: the namesakes of its file now are what a copy is told by later
                namesakes = (await view.counted(where)).namesakes
                updates.append(
                    (
                        status, where.path, where.start_line, where.end_line, where.symbol,
                        int(where.whole), moved_from, None, seen, now, namesakes, where.context,
                        row[0],
                    )
                )  # fmt: skip
                if where.path != row[1]:
                    moved_to.append((where.path, view.signature(where.path)))
            await self.db.executemany(
                "UPDATE memory_citations SET status = ?, path = ?, start_line = ?, end_line = ?, "
                "symbol = ?, whole = ?, moved_from = ?, change = ?, index_seen = ?, "
                "checked_at = ?, namesakes = ?, context = ? WHERE id = ?",
                updates,
            )
            if recheck or stale:
                await self.db.execute(
                    "UPDATE memory_citations SET index_seen = ? WHERE status = 'stale' "
                    "AND active = 1",
                    (seen,),
                )
            await self._sign(list(changed.items()), every=True)
            await self._sign(moved_to)  # (its file's other citations were checked at another)
            await self._unsign_uncited()
            for table, column, owners in (
                ("decisions", "decision_id", {r[11] for r in rows if r[11] is not None}),
                ("notes", "note_id", {r[12] for r in rows if r[12] is not None}),
            ):
                await self._flag_stale(table, column, sorted(owners))
        return len(updates)

    async def _stale_to_recheck(self, stale: Sequence[Any], view: CodeView) -> list[int]:
        """Stale citations whose symbol a file indexed since their last check defines, and
        those of lines outside any definition whose file is gone once the index has new
        files (it may have been renamed: `CodeView.renamed_to`)."""
        if not stale:
            return []
        since = min(_float(r[2]) for r in stale)
        fresh = {
            str(r[0])
            for r in await self._fetch(
                "SELECT DISTINCT c.symbol FROM files f JOIN chunks c ON c.file_id = f.id "
                "WHERE f.indexed_at > ? AND c.symbol IS NOT NULL",
                (since,),
            )
        }
        unnamed = [r for r in stale if not r[1] and view.stat(str(r[3])) == (-1, -1)]
        if unnamed:
            new = await self._fetch("SELECT 1 FROM files WHERE indexed_at > ? LIMIT 1", (since,))
            unnamed = unnamed if new else []
        named = [r for r in stale if r[1] and str(r[1]).rsplit(".", 1)[-1] in fresh]
        return [int(r[0]) for r in (*named, *unnamed)]


@dataclass(frozen=True, slots=True)
class ChecksDue:
    changed: dict[str, tuple[int, int]]  # cited file -> its signature now
    stale: bool  # stale citations not checked since the index's last update
    recheck: list[int]  # those of them whose symbol a newly indexed file defines
    seen: str  # the index's last update


async def _judged_where_saved(
    view: CodeView, row: Any
) -> tuple[Check, tuple[str, int, int]] | None:
    """A citation an earlier check found moved, judged again from where it was saved (a
    STORED_CITATIONS row): stale there, with where it was saved, or None. Older servers took
    a copy of the cited code for where it went (another file's copy while its own file still
    defined it; a block its file repeats, edited where it is), and a file only the copy's
    was signed for never had it checked again. A citation whose saved file is gone is judged
    in the file git or the index says it became (git mv, mv); gone otherwise (deleted),
    it followed its code where it went. One an older check renamed after a copy in its own
    file (its symbol the copy's now; one this server never confirmed) is judged again under
    the name of the definition there most like the cited code, when that is another."""
    path, _, lines = str(row[8] or "").rpartition(":")
    start, _, end = lines.partition("-")
    if not (path and start.isdigit() and end.isdigit()) or (path, int(start), int(end)) == (
        row[1],
        row[2],
        row[3],
    ):
        return None
    if await view.lines(path) is None:
        went = (await view.moves.renamed_to(path))[:1]
        if not went or await view.lines(went[0]) is None:
            return None
        path = went[0]
    # (the lines around, as last confirmed: they are the block's own, wherever it was)
    saved = Stored(
        row[0], path, int(start), int(end), row[4], bool(row[5]), row[6], row[7], context=row[14]
    )
    again = await view.check(saved)
    if again.status != "stale" and path == row[1] and saved.symbol and row[13] is None:
        # (namesakes NULL: not confirmed by a check that takes no copy for the cited code;
        # one that is confirmed since may be a function renamed as it moved in its file,
        # whose siblings may look alike)
        named = await _most_alike_other(view, saved)
        if named is not None:
            again = await view.check(replace(saved, symbol=named))
    return (again, (path, int(start), int(end))) if again.status == "stale" else None


async def _most_alike_other(view: CodeView, c: Stored) -> str | None:
    """The name of the definition of `c`'s file, not named as `c`, most like the cited code
    (its stretch most like the cited lines, for lines cited within one), if alike enough."""
    lines = await view.lines(c.path)
    assert lines is not None and c.symbol is not None
    others = [d for d in await view.definitions(c.path) if matches(d, c.symbol) != 2]
    old = normalized(c.content.splitlines())
    alike = most_alike(others, lines, old) if c.whole else most_alike_stretch(others, lines, old)[0]
    return alike.name if alike is not None else None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
