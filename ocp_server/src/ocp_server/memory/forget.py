"""Forgetting (`forget_decisions`, `forget_notes` of a save) retires memories by id and leaves
no trace of their text in the database file: erased text is overwritten, not only unlinked.
The text a near-identical save replaced (a merge that rewords a memory, save.py) is erased
the same way.

SQLite keeps deleted text in free cells and pages unless secure_delete is on; the memory index
keeps a deleted row's terms in its segments until they merge; and in WAL mode the old pages
stay in the -wal file, and the database file keeps its copy until a checkpoint writes the new
pages over it. So a forget runs with secure_delete on (freed cells and pages are zeroed),
merges the memory index into one segment (the old segments' pages are freed, so zeroed), and
after its commit checkpoints the WAL into the database and truncates it. FTS5's own
'secure-delete' option would spare the merge, but needs SQLite 3.42.

That checkpoint waits for every other connection's read or write to end. Another process can
hold one for long (a database browser, a second IDE window's long write): then the forget
does not wait out the busy timeout with this store locked, but says which process holds the
database, and the checkpoint is tried again after each later save and restore.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiosqlite

from ocp_server.argument_errors import field_problem
from ocp_server.errors import InputError
from ocp_server.memory.base import MemoryBase
from ocp_server.memory.folding import title_key

__all__ = ["MemoryForgets", "zeroing_deletes"]


@asynccontextmanager
async def zeroing_deletes(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """secure_delete on for what runs inside (some builds have it on already)."""
    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        await db.execute(f"PRAGMA secure_delete = {int(previous)}")


class MemoryForgets(MemoryBase):
    """Forgetting memories by id, for MemorySaves (save.py)."""

    async def _forget(
        self,
        now: float,
        decisions: Sequence[int],
        notes: Sequence[int],
        warnings: list[str],
    ) -> list[str]:
        """Retire memories by id and erase their text and citations, inside the save's
        transaction; then `_erase_from_index`, and `_checkpoint_erased` after its commit."""
        if not decisions and not notes:
            return []
        async with zeroing_deletes(self.db):
            done = await self._erase(now, decisions, notes, warnings)
        if done:
            await self._unsign_uncited()
        return done

    async def _erase_from_index(self) -> None:
        """Merge the memory index into one segment, inside the save's transaction, after
        its last delete: the old segments hold erased terms, and their pages are freed
        (so zeroed)."""
        async with zeroing_deletes(self.db):
            await self.db.execute("INSERT INTO memory_fts (memory_fts) VALUES ('optimize')")

    async def _erase(
        self,
        now: float,
        decisions: Sequence[int],
        notes: Sequence[int],
        warnings: list[str],
    ) -> list[str]:
        done: list[str] = []
        for arg, table, ids in (
            ("forget_decisions", "decisions", decisions),
            ("forget_notes", "notes", notes),
        ):
            kind = "decision" if table == "decisions" else "note"
            for item in dict.fromkeys(ids):  # an id listed twice: forgotten once, by this save
                field = f"{arg}[{list(ids).index(item)}]"
                extra = " AND kind IN ('note', 'open_item', 'outcome')" if kind == "note" else ""
                rows = await self._fetch(
                    f"SELECT retired, {'kind' if kind == 'note' else 'NULL'} FROM {table} "
                    f"WHERE id = ?{extra}",
                    (item,),
                )
                if not rows:
                    raise InputError(
                        field_problem(
                            field, f"expected the id of a {kind}", item, hint=f"no {kind} #{item}"
                        )
                    )
                # An open item is a note row, but the brief and the save name it an open item.
                named = f"{'open item' if rows[0][1] == 'open_item' else kind} #{item}"
                if rows[0][0] == "forgotten":
                    warnings.append(f"{named} was already forgotten")
                    continue
                if table == "decisions":
                    await self.db.execute(
                        "UPDATE decisions SET title = '(forgotten)', title_key = ?, "
                        "decision = '', rationale = NULL, retired = 'forgotten', "
                        "retired_at = ? WHERE id = ?",
                        (title_key("(forgotten)"), now, item),
                    )
                else:
                    await self._erase_outcome(item)
                    await self.db.execute(
                        "UPDATE notes SET text = '', retired = 'forgotten', retired_at = ? "
                        "WHERE id = ?",
                        (now, item),
                    )
                await self.db.execute(f"DELETE FROM memory_citations WHERE {kind}_id = ?", (item,))
                for indexed_as in {kind, "open_item" if kind == "note" else kind}:
                    await self._unindex(indexed_as, item)
                done.append(named)
        return done

    async def _erase_outcome(self, note_id: int) -> None:
        """A route's outcome is kept on its trace too, and indexed with its request: a
        forgotten outcome note leaves the trace without it (unless a later one replaced it)."""
        rows = await self._fetch(
            "SELECT t.id, t.request FROM notes n JOIN traces t ON t.id = n.trace_id "
            "WHERE n.id = ? AND n.kind = 'outcome' AND t.outcome = n.text",
            (note_id,),
        )
        for trace_id, request in rows:
            await self.db.execute("UPDATE traces SET outcome = NULL WHERE id = ?", (trace_id,))
            await self._unindex("trace", trace_id)
            await self._index("trace", trace_id, f"{request}\n")
