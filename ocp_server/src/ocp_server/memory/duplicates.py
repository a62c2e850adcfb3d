"""What a save's item may merge into: the live memories of its kind found by its rarest
words (or reading as it does), how alike they are (alike.py; the long pairs compared
before the write lock), the near-identical one about the same code; and the same-title
decision a new decision updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from ocp_server.citations import Located
from ocp_server.index.terms import fts_query
from ocp_server.memory.alike import Comparer, Item, compare_all, ratio, sampled, words_of
from ocp_server.memory.folding import title_key
from ocp_server.memory.forget import MemoryForgets
from ocp_server.memory.queries import LIVE, MOSTLY_ALIKE, NEAR_IDENTICAL, placeholders
from ocp_server.memory.values import DecisionIn, NoteIn
from ocp_server.migrations import NOTE_START
from ocp_server.off_loop import off_loop

_LOOKUPS: Final = 4096  # words whose counts one query reads (SQLite's limit is 32,766)


class MemoryDuplicates(MemoryForgets):
    """Finding the near-identical live memory a save merges into."""

    async def _updated(
        self,
        text: str,
        same_title: Sequence[Any],
        citations: Sequence[Located],
        this_save: Sequence[int],
    ) -> tuple[int, str, float] | None:
        """The active decision of the same title (rows of id, text as compared, decision) that
        a decision saved as `text` updates: mostly alike (MOSTLY_ALIKE) and about the same
        code (as a merge's), the most alike. Not one this save wrote or merged into: two
        decisions of one title in one save are two on purpose. Its id, decision and how alike."""
        best: tuple[int, str, float] | None = None
        for row_id, other, decision in same_title:
            if row_id in this_save:
                continue
            alike = await off_loop(len(text) + len(other), ratio, text, other)
            if alike >= MOSTLY_ALIKE and (best is None or alike > best[2]):
                if await self._same_scope("decision", row_id, citations):
                    best = (int(row_id), str(decision), alike)
        return best

    async def _similarities(
        self,
        decisions: Sequence[DecisionIn],
        notes: Sequence[NoteIn],
        open_items: Sequence[str],
        absent: set[str],
    ) -> Comparer:
        """Outside the write transaction: how alike each decision, note and open item of a
        save is to what it may merge into, keyed by (its text, the other text): the live
        memories found for it now, and the rows this save's earlier items of its kind insert
        or merge into (as the save will leave them)."""
        texts: dict[str, list[tuple[str, bool]]] = {"decision": [], "note": [], "open_item": []}
        for d in decisions:  # a superseding decision is not merged, but may be merged into
            texts["decision"].append(
                (f"{d.title.strip()}\n{d.decision.strip()}", d.supersedes is None)
            )
        texts["note"] = [(n.text.strip(), True) for n in notes if n.text.strip()]
        texts["open_item"] = [(t.strip(), True) for t in open_items if t.strip()]
        found: list[list[Item]] = []
        # The words' counts are read here, all at once, and kept (and kept up to date) for
        # the transaction; words in no memory are collected in `absent`.
        wanted: dict[str, None] = {}
        words = {
            text: words_of(text) for items in texts.values() for text, merges in items if merges
        }
        samples = {text: sampled(words[text]) for text in words}
        for sample in samples.values():
            wanted.update(dict.fromkeys(t for t in sample if not self._df.get(t)))
        async with self._lock:
            with self._sized():
                terms = list(wanted)
                for start in range(0, len(terms), _LOOKUPS):
                    await self._selective(terms[start : start + _LOOKUPS], absent=absent)
                for kind, items in texts.items():
                    found.append(
                        [
                            (
                                text,
                                await self._candidates(kind, text, samples[text], absent)
                                if merges
                                else None,
                            )
                            for text, merges in items
                        ]
                    )
        compare = await asyncio.to_thread(compare_all, found, words) if any(found) else Comparer()
        compare.samples.update(samples)
        return compare

    @asynccontextmanager
    async def _counted_from_zero(self, absent: set[str]) -> AsyncIterator[None]:
        """Words found in no memory before the transaction count from 0 in it, and count
        this save's memories as they are indexed: they are not looked up again. Afterwards
        those still at 0 are read when asked for again: other processes may bring them."""
        for term in absent:
            self._df.setdefault(term, 0)
        try:
            yield
        finally:
            for term in absent:
                if self._df.get(term) == 0:
                    del self._df[term]

    async def _candidates(
        self, kind: str, text: str, sample: list[str], absent: set[str] | None = None
    ) -> list[tuple[int, str]]:
        """The live memories of this kind most like a text (found by the rarest words of its
        `sampled` words), and any that reads as it does: id and text as compared. `absent`:
        as for `_selective`."""
        # The same words whatever this process counted before (a restart, other saves):
        # those it has not counted are looked up (a word counted 0 is in no memory).
        terms = await self._selective(sample, keep=4, absent=absent)
        ids: list[int] = []
        if terms:
            # bm25 (as `rank`, ties by rowid as its sort leaves them) of this kind's matches
            # only: ORDER BY rank scores every kind's (traces, state, the other memories)
            # before the kind is looked at. CROSS JOIN: the index's matches first, whatever
            # the planner would guess.
            matches = await self._fetch(
                "SELECT r.ref_id FROM memory_fts CROSS JOIN memory_refs r "
                "ON r.id = memory_fts.rowid WHERE memory_fts MATCH ? AND r.kind = ? "
                "ORDER BY bm25(memory_fts), memory_fts.rowid LIMIT 20",
                (fts_query(terms), kind),
            )
            ids = [int(r[0]) for r in matches]
        if len(ids) == 20 or not sample:  # one reading as the text may be past the 20 (or wordless)
            ids += [i for i in await self._same_text(kind, text) if i not in ids]
        if not ids:
            return []
        if kind == "decision":
            sql = (
                "SELECT id, title || char(10) || decision FROM decisions NOT INDEXED "
                f"WHERE status = 'active' AND {LIVE} AND id IN ({placeholders(len(ids))})"
            )
        else:  # (NOT INDEXED: by the primary key, not every live one of the kind: queries.py)
            sql = (
                f"SELECT id, text FROM notes NOT INDEXED WHERE kind = ? AND resolved = 0 "
                f"AND {LIVE} AND id IN ({placeholders(len(ids))})"
            )
        rows = await self._fetch(sql, ids if kind == "decision" else (kind, *ids))
        return [(int(r[0]), str(r[1])) for r in rows]

    async def _same_text(self, kind: str, text: str) -> list[int]:
        """The live memories of this kind whose text (as compared) is `text`: the ranked
        matches of its rarest words may leave them out when every word of it is common (in
        more than COMMON_SHARE of the memories, and the three rarest in more than 20). By an
        index: decisions by title, notes by their text's start (m029)."""
        if kind == "decision":
            title, _, decision = text.partition("\n")  # (a title of several lines is not found)
            sql = (
                "SELECT id FROM decisions WHERE title_key = ? AND status = 'active' "
                f"AND {LIVE} AND title = ? AND decision = ? ORDER BY id LIMIT 5"
            )
            rows = await self._fetch(sql, (title_key(title), title, decision))
        else:
            sql = (
                # INDEXED BY: without ANALYZE's statistics SQLite walks notes_by_kind. +text:
                # `text = ?` alone is put into the start's expression, which then is not the
                # index's (SQLite's constant propagation).
                "SELECT id FROM notes INDEXED BY notes_by_start "
                f"WHERE kind = ? AND {NOTE_START} = ? "
                f"AND +text = ? AND resolved = 0 AND {LIVE} ORDER BY id LIMIT 5"
            )
            rows = await self._fetch(sql, (kind, text[:64], text))
        return [int(r[0]) for r in rows]

    async def _near_duplicate(
        self,
        kind: str,
        text: str,
        citations: Sequence[Located],
        similar: Comparer,
    ) -> tuple[int, float] | None:
        """A live memory of this kind whose text is near-identical (and which cites the same
        code, or one of the two cites none): its id and how alike they are. `similar`: what
        was compared before the transaction; only a pair not compared then (a text changed
        since, or a candidate found only now) is compared here."""
        best: tuple[int, float] | None = None
        found = await self._candidates(kind, text, similar.sample(text))
        # The candidates shift as the transaction writes: up to 20 long pairs first met here
        # are compared at once in a worker thread, not on the event loop while the write
        # lock is held (a few short ones stay here: the thread's hop would cost more).
        new = [other for _, other in found if (text, other) not in similar.alike]
        size = sum(len(text) + len(other) for other in new)
        await off_loop(size, similar.each, text, new)
        for row_id, other in found:
            alike = similar(text, other)
            if alike >= NEAR_IDENTICAL and (best is None or alike > best[1]):
                if await self._same_scope(kind, row_id, citations):
                    best = (row_id, alike)
        return best

    async def _same_scope(self, kind: str, row_id: int, citations: Sequence[Located]) -> bool:
        owner = "decision_id" if kind == "decision" else "note_id"
        rows = await self._fetch(
            f"SELECT path, symbol FROM memory_citations WHERE {owner} = ? AND active = 1",
            (row_id,),
        )
        if not rows or not citations:
            return True
        theirs = {str(r[0]) for r in rows} | {str(r[1]) for r in rows if r[1]}
        return any(c.path in theirs or (c.symbol and c.symbol in theirs) for c in citations)
