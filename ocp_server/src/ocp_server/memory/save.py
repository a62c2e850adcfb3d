"""Saving session memory (`ocp_result_save`). Over 600 lines: a save's steps (citations,
merging into near-identical memories, state, notes, open items, forgetting) share one
transaction and the helpers that write in it; comparing texts lives in alike.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from ocp_server.at_rest import redacted
from ocp_server.brief import cap
from ocp_server.citations import CitationError, CodeView, Located
from ocp_server.citations.suggestions import names_in
from ocp_server.errors import InputError
from ocp_server.index.terms import fts_query
from ocp_server.memory.alike import Comparer, Item, compare_all, ratio, sampled, words_of
from ocp_server.memory.folding import title_key
from ocp_server.memory.forget import MemoryForgets, zeroing_deletes
from ocp_server.memory.kept import SaveTexts, kept
from ocp_server.memory.queries import (
    LIVE,
    MAX_SAVE_CITATIONS,
    MOSTLY_ALIKE,
    NEAR_IDENTICAL,
    placeholders,
)
from ocp_server.memory.values import (
    DecisionIn,
    Merged,
    NoteIn,
    SavedCitation,
    SaveOutcome,
    StateChange,
    SuggestedCitation,
)
from ocp_server.migrations import NOTE_START
from ocp_server.off_loop import off_loop
from ocp_server.trace_store import SHORT_TRACE_ID

_NO_STATE: Final[Mapping[str, str]] = MappingProxyType({})
_LOOKUPS: Final = 4096  # words whose counts one query reads (SQLite's limit is 32,766)


class MemorySaves(MemoryForgets):
    """`ocp_result_save`: summaries, decisions, versioned state, notes and open items, each
    save in one transaction; a near-identical memory merges; `forget` erases by id."""

    async def save(
        self,
        session_id: str,
        *,
        trace_id: str | None = None,
        outcome: str | None = None,
        summary: str | None = None,
        decisions: Sequence[DecisionIn] = (),
        state: Mapping[str, str] = _NO_STATE,
        notes: Sequence[str | NoteIn] = (),
        open_items: Sequence[str] = (),
        resolve: Sequence[int] = (),
        forget_decisions: Sequence[int] = (),
        forget_notes: Sequence[int] = (),
    ) -> SaveOutcome:
        """Persist what the next session should know, all in one transaction.

        `outcome` is set on the trace (`trace_id` required for that) and kept as a note.
        `resolve`: ids of open items that are done. Citations on decisions and notes are
        resolved first; a decision or note near-identical to a live one merges into it (and
        says so). `forget_*` retire memories by id and erase their text. An unknown id, or a
        citation that cannot be resolved, raises ValueError naming the field, and nothing is
        saved.
        """
        _check_decisions(decisions, forget_decisions)
        cites = sum(len(d.citations) for d in decisions) + sum(
            len(n.citations) for n in notes if isinstance(n, NoteIn)
        )
        if cites > MAX_SAVE_CITATIONS:  # each is read from disk and keeps its code
            raise InputError(
                f"citations: at most {MAX_SAVE_CITATIONS} in one save (this one has {cites}); "
                "cite what each memory is about, or save in parts"
            )
        for key in state:
            if not isinstance(key, str) or not key.strip():
                raise InputError("state: keys must be non-empty strings")
        # One save at a time, in the order they came: a large one is redacted in a worker
        # thread (kept.py), and a small one sent after it must not overtake it (the later
        # value of a state key wins).
        async with self._saves:
            # Kept redacted (at_rest.py): merging, the word counts and the memory index all work
            # on the text as stored.
            given = await kept(
                SaveTexts(decisions, notes, open_items, state, outcome, summary and summary.strip())
            )
            decisions, open_items, state, outcome, summary = (
                given.decisions,
                given.open_items,
                given.state,
                given.outcome,
                given.summary,
            )
            note_ins = [n if isinstance(n, NoteIn) else NoteIn(n) for n in given.notes]
            cited, suggested, signed = await self._cite(decisions, note_ins)
            # How alike each item is to what it may merge into, worked out before the write
            # lock: comparing long texts takes seconds, and another process's save (a second
            # MCP client on this workspace) waits on the lock only 5 s. In the transaction
            # the same candidates are found again and only what changed since is compared.
            warnings: list[str] = []
            absent: set[str] = set()  # words of this save's items not in the memory index
            similar = await self._similarities(decisions, note_ins, open_items, absent)
            out = _SaveOut(similar=similar, signed=signed)
            async with self._counted_from_zero(absent), self._sized_transaction():
                await self._require_session(session_id)
                now = self.clock()
                if trace_id is not None:
                    rows = await self._fetch("SELECT outcome FROM traces WHERE id = ?", (trace_id,))
                    if not rows:
                        hint = f" (give {SHORT_TRACE_ID} or more characters of its id)"
                        short = len(trace_id.strip()) < SHORT_TRACE_ID
                        raise InputError(
                            f"trace_id: no trace {trace_id!r} is recorded{hint if short else ''}"
                        )
                    if outcome and outcome.strip():
                        previous = rows[0][0]
                        if previous and previous != outcome.strip():
                            warnings.append(
                                f"trace {trace_id} already had an outcome "
                                f"({cap(previous, 80)[0]!r}); the new one is current, "
                                "the old one stays as a note"
                            )
                        await self.db.execute(
                            "UPDATE traces SET outcome = ? WHERE id = ?",
                            (outcome.strip(), trace_id),
                        )
                out.forgotten = await self._forget(now, forget_decisions, forget_notes, warnings)
                if outcome and outcome.strip():
                    out.note_ids.append(
                        await self._note(session_id, now, "outcome", outcome.strip(), trace_id)
                    )
                if summary and summary.strip():
                    await self._summarise(session_id, summary, now, trace_id, kept=True)
                await self._decide(session_id, now, trace_id, decisions, cited, warnings, out)
                changes = await self._set_state(session_id, now, state)
                for n, note in enumerate(note_ins):
                    if note.text.strip():
                        await self._remember(
                            session_id, now, "note", note.text.strip(), trace_id,
                            cited.get(f"notes[{n}]", ()), f"notes[{n}]", warnings, out,
                        )  # fmt: skip
                for n, text in enumerate(open_items):
                    if text.strip():
                        await self._remember(
                            session_id, now, "open_item", text.strip(), trace_id, (),
                            f"open_items[{n}]", warnings, out,
                        )  # fmt: skip
                resolved = await self._resolve(resolve, warnings)
                if out.forgotten or out.overwritten:
                    await self._erase_from_index()
            if out.forgotten or out.overwritten:
                await self._checkpoint_erased(warnings)
            elif self._erase_due:  # an earlier erase waited on another process: said then
                await self._checkpoint_erased([])
            return SaveOutcome(
                session_id=session_id,
                trace_id=trace_id,
                decision_ids=tuple(out.decision_ids),
                superseded=tuple(out.superseded),
                state=tuple(changes),
                note_ids=tuple(out.note_ids),
                open_item_ids=tuple(out.open_item_ids),
                resolved=tuple(resolved),
                warnings=tuple(warnings),
                merged=tuple(out.merged),
                citations=tuple(
                    SavedCitation(field, c.citation, c.symbol)
                    for field, cs in cited.items()
                    for c in cs
                ),
                suggested=tuple(suggested),
                forgotten=tuple(out.forgotten),
            )

    async def _cite(
        self, decisions: Sequence[DecisionIn], notes: Sequence[NoteIn]
    ) -> tuple[dict[str, tuple[Located, ...]], list[SuggestedCitation], dict[str, tuple[int, int]]]:
        """Resolve every citation (ValueError naming the first that fails) and suggest
        citations for identifiers the texts name; both read the index and the files. Also
        each cited file's signature as it was read (`CodeView.signature`)."""
        wanted = [
            (f"decisions[{n}]", d.citations, f"{d.title}\n{d.decision}\n{d.rationale or ''}")
            for n, d in enumerate(decisions)
        ] + [(f"notes[{n}]", note.citations, note.text) for n, note in enumerate(notes)]
        if not any(c for _, c, _ in wanted) and self.workspace is None:
            return {}, [], {}
        if self.workspace is None:
            field = next(f for f, c, _ in wanted if c)
            raise InputError(f"{field}.citations: this memory has no workspace to cite from")
        view = await CodeView.open(self.db, self.workspace, self.max_file_bytes)
        cited: dict[str, tuple[Located, ...]] = {}
        suggested: list[SuggestedCitation] = []
        # Reading every word of up to 150 long texts for identifiers is CPU only: done in a
        # worker thread, as comparing them is (_similarities), not on the event loop.
        named = await asyncio.to_thread(_names_in_all, [text for _, _, text in wanted])
        async with self._lock:
            for (field, raws, text), names in zip(wanted, named, strict=True):
                found: dict[tuple[str, int, int], Located] = {}
                for k, raw in enumerate(raws):
                    try:
                        located = await view.resolve(raw)
                    except CitationError as exc:
                        raise CitationError(f"{field}.citations[{k}]: {exc}") from None
                    found.setdefault((located.path, located.start_line, located.end_line), located)
                if found:
                    cited[field] = tuple(found.values())
                symbols = [c.symbol or "" for c in found.values()]
                spans = {c.citation for c in found.values()}
                for s in await view.suggest(text, symbols, names):
                    if s.citation not in spans:
                        suggested.append(SuggestedCitation(field, s.citation, s.symbol, s.kind))
        signed = {c.path: view.signature(c.path) for cs in cited.values() for c in cs}
        return cited, suggested, signed

    async def _note(
        self, session_id: str, now: float, kind: str, text: str, trace_id: str | None
    ) -> int:
        note_id = await self._insert(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, now, kind, text, trace_id, now),
        )
        if kind != "outcome" or trace_id is None:  # a trace's outcome is indexed with it
            await self._index("note" if kind == "outcome" else kind, note_id, text)
        else:
            await self._unindex("trace", trace_id)
            rows = await self._fetch("SELECT request FROM traces WHERE id = ?", (trace_id,))
            await self._index("trace", trace_id, f"{rows[0][0]}\n{text}")
        return note_id

    async def _remember(
        self,
        session_id: str,
        now: float,
        kind: str,
        text: str,
        trace_id: str | None,
        citations: Sequence[Located],
        field: str,
        warnings: list[str],
        out: _SaveOut,
    ) -> None:
        """A note or an open item: new, or merged into a near-identical live one."""
        same = await self._near_duplicate(kind, text, citations, out.similar)
        ids = out.note_ids if kind == "note" else out.open_item_ids
        if same is not None:
            into, alike = same
            # the code where it is now, in place of where it was (a stale or moved place)
            replaced = await self._retire_recited("note", into, citations)
            added = await self._add_citations("note", into, citations, now, out.signed)
            await self._flag_stale("notes", "note_id", [into])
            (stored,) = await self._fetch("SELECT text FROM notes WHERE id = ?", (into,))
            reworded = str(stored[0]) != text
            out.overwritten |= reworded
            async with zeroing_deletes(self.db):  # the old wording is erased, as by forget
                # dated by this save, whose wording it now has: a brief lists it as new
                await self.db.execute(
                    "UPDATE notes SET created_at = ?, renewed_at = ?, text = ? WHERE id = ?",
                    (now, now, text, into),
                )
                if reworded or added:
                    await self._reindex(kind, "note", into, text)
            out.merged.append(Merged(field, into, alike))
            warnings.append(
                _merge_warning(
                    field, kind.replace("_", " "), into, alike, added, reworded, replaced
                )
            )
            ids.append(into)
            return
        note_id = await self._insert(
            "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, now, kind, text, trace_id, now),
        )
        await self._add_citations("note", note_id, citations, now, out.signed)
        await self._index(
            kind, note_id, indexed_text(text, [(c.path, c.symbol) for c in citations])
        )
        ids.append(note_id)

    async def _decide(
        self,
        session_id: str,
        now: float,
        trace_id: str | None,
        decisions: Sequence[DecisionIn],
        cited: Mapping[str, tuple[Located, ...]],
        warnings: list[str],
        out: _SaveOut,
    ) -> None:
        for n, d in enumerate(decisions):
            title = d.title.strip()
            field = f"decisions[{n}]"
            citations = cited.get(field, ())
            if d.supersedes is not None:
                rows = await self._fetch(
                    "SELECT status, superseded_by, retired FROM decisions WHERE id = ?",
                    (d.supersedes,),
                )
                if not rows or rows[0][2] == "forgotten":
                    raise InputError(f"{field}.supersedes: decision #{d.supersedes} does not exist")
                if rows[0][0] != "active":
                    raise InputError(
                        f"{field}.supersedes: decision #{d.supersedes} is already superseded "
                        f"by #{rows[0][1]}; supersede that one instead"
                    )
            else:
                text = f"{title}\n{d.decision.strip()}"
                same = await self._near_duplicate("decision", text, citations, out.similar)
                if same is not None:
                    into, alike = same
                    replaced = await self._retire_recited("decision", into, citations)
                    added = await self._add_citations("decision", into, citations, now, out.signed)
                    await self._flag_stale("decisions", "decision_id", [into])
                    (stored,) = await self._fetch(
                        "SELECT title || char(10) || decision, rationale FROM decisions "
                        "WHERE id = ?",
                        (into,),
                    )
                    # a rationale this save gives replaces the old one; none keeps it
                    rationale = (d.rationale or "").strip() or None
                    reworded = str(stored[0]) != text
                    out.overwritten |= reworded or rationale not in (None, stored[1])
                    async with zeroing_deletes(self.db):  # the old wording is erased
                        # dated by this save, as a note is (_remember)
                        await self.db.execute(
                            "UPDATE decisions SET created_at = ?, renewed_at = ?, title = ?, "
                            "title_key = ?, decision = ?, rationale = coalesce(?, rationale) "
                            "WHERE id = ?",
                            (
                                now,
                                now,
                                title,
                                title_key(title),
                                d.decision.strip(),
                                rationale,
                                into,
                            ),
                        )
                        if reworded or added or d.rationale:
                            await self._reindex(
                                "decision",
                                "decision",
                                into,
                                f"{text}\n{rationale or stored[1] or ''}",
                            )
                    out.merged.append(Merged(field, into, alike))
                    warnings.append(
                        _merge_warning(field, "decision", into, alike, added, reworded, replaced)
                    )
                    out.decision_ids.append(into)
                    continue
            key = title_key(title)
            same_title = await self._fetch(
                "SELECT id, title || char(10) || decision, decision FROM decisions "
                f"WHERE title_key = ? AND status = 'active' AND {LIVE} AND id IS NOT ? "
                "ORDER BY id",
                (key, d.supersedes),
            )
            updated = None
            if d.supersedes is None:  # (one that names what it supersedes replaces only that)
                updated = await self._updated(
                    f"{title}\n{d.decision.strip()}", same_title, citations, out.decision_ids
                )
                same_title = [r for r in same_title if updated is None or r[0] != updated[0]]
            new_id = await self._insert(
                "INSERT INTO decisions (session_id, created_at, title, title_key, decision, "
                "rationale, trace_id, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    now,
                    title,
                    key,
                    d.decision.strip(),
                    (d.rationale or "").strip() or None,
                    trace_id,
                    now,
                ),
            )
            if same_title:
                others = ", ".join(f"#{r[0]}" for r in same_title)
                warnings.append(
                    f"decision #{new_id} {title!r} has the same title as active decision(s) "
                    f"{others}: both stay active. To replace one, save again with "
                    "supersedes=<its id>."
                )
            if updated is not None:
                old_id, said, alike = updated
                quoted, _ = cap(said, 300)
                warnings.append(
                    f"{field}: decision #{new_id} {title!r} supersedes decision #{old_id} of the "
                    f"same title ({alike:.0%} alike, about the same code), which is no longer "
                    f"served; it said: {quoted!r}. If both hold, save that one again under a "
                    "title of its own."
                )
            older = d.supersedes if updated is None else updated[0]
            if older is not None:
                await self.db.execute(
                    "UPDATE decisions SET status = 'superseded', superseded_by = ? WHERE id = ?",
                    (new_id, older),
                )
                await self._retire_citations("decision_id", [older])
                out.superseded.append(older)
            await self._add_citations("decision", new_id, citations, now, out.signed)
            text = f"{title}\n{d.decision}\n{d.rationale or ''}"
            await self._index(
                "decision", new_id, indexed_text(text, [(c.path, c.symbol) for c in citations])
            )
            out.decision_ids.append(new_id)

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
    async def _sized_transaction(self) -> AsyncIterator[None]:
        """A save's transaction: it holds the write lock, so the memory index's size is read
        once in it (`_sized`)."""
        async with self._transaction():
            with self._sized():
                yield

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

    async def _reindex(self, kind: str, owner: str, row_id: int, text: str) -> None:
        """Index a merged memory again as it now reads, with every code it cites."""
        rows = await self._fetch(
            f"SELECT path, symbol FROM memory_citations WHERE {owner}_id = ? AND active = 1",
            (row_id,),
        )
        await self._unindex(kind, row_id)
        await self._index(kind, row_id, indexed_text(text, [(str(p), s) for p, s in rows]))

    async def _add_citations(
        self,
        kind: str,
        owner: int,
        citations: Sequence[Located],
        now: float,
        signed: Mapping[str, tuple[int, int]],
    ) -> int:
        """Store citations not already on this memory; how many were new. `signed`: each
        cited file's signature as it was read when the citation was resolved."""
        column = "decision_id" if kind == "decision" else "note_id"
        have = {
            (str(r[0]), int(r[1]), int(r[2]))
            for r in await self._fetch(
                f"SELECT path, start_line, end_line FROM memory_citations WHERE {column} = ? "
                "AND active = 1",
                (owner,),
            )
        }
        new = [c for c in citations if (c.path, c.start_line, c.end_line) not in have]
        if not new:
            return 0
        assert self.workspace is not None
        seen = await self._index_seen()
        view = await CodeView.open(self.db, self.workspace, self.max_file_bytes)
        # a cited stretch may quote a value its file names outside it: kept hidden too
        known = {c.path: await view.known(c.path) for c in new}
        await self.db.executemany(
            f"INSERT INTO memory_citations ({column}, cited, path, start_line, end_line, symbol, "
            "whole, content_hash, content, index_seen, checked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    owner,
                    c.citation,
                    c.path,
                    c.start_line,
                    c.end_line,
                    c.symbol,
                    int(c.whole),
                    c.content_hash,
                    # kept redacted; the hash is what checks compare
                    redacted(c.content, known[c.path]),
                    seen,
                    now,
                )
                for c in new
            ],
        )
        # as read: a file edited since is checked again at the next restore
        await self._sign([(c.path, signed.get(c.path) or view.stat(c.path)) for c in new])
        return len(new)

    async def _set_state(
        self, session_id: str, now: float, state: Mapping[str, str]
    ) -> list[StateChange]:
        changes = []
        for raw_key, raw_value in state.items():
            key, value = raw_key.strip(), str(raw_value)
            rows = await self._fetch(
                "SELECT version, value FROM state WHERE key = ? ORDER BY version DESC LIMIT 1",
                (key,),
            )
            version, previous = (int(rows[0][0]), str(rows[0][1])) if rows else (0, None)
            if previous == value:
                continue
            await self.db.execute(
                "INSERT INTO state (key, version, value, session_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, version + 1, value, session_id, now),
            )
            await self._unindex("state", key)
            await self._index("state", key, f"{key}: {value}")
            changes.append(StateChange(key, value, version + 1, previous))
        return changes

    async def _resolve(self, ids: Sequence[int], warnings: list[str]) -> list[int]:
        done = []
        for item in dict.fromkeys(ids):  # an id listed twice: resolved once, by this save
            rows = await self._fetch(
                "SELECT resolved FROM notes WHERE id = ? AND kind = 'open_item'", (item,)
            )
            if not rows:
                kind = await self._fetch("SELECT kind FROM notes WHERE id = ?", (item,))
                if kind and kind[0][0] == "note":  # the brief shows notes' ids too
                    raise InputError(
                        f"resolve: #{item} is a note, not an open item (forget_notes retires "
                        "a note)"
                    )
                raise InputError(f"resolve: no open item #{item}")
            if rows[0][0]:
                warnings.append(f"open item #{item} was already resolved")
                continue
            await self.db.execute("UPDATE notes SET resolved = 1 WHERE id = ?", (item,))
            done.append(item)
        return done

    async def state_history(self, key: str) -> list[tuple[int, str, float, str]]:
        """Every version of a state key, newest first: (version, value, updated_at, session)."""
        rows = await self._fetch(
            "SELECT version, value, updated_at, session_id FROM state WHERE key = ? "
            "ORDER BY version DESC",
            (key,),
        )
        return [(int(r[0]), str(r[1]), float(r[2]), str(r[3])) for r in rows]


@dataclass(slots=True)
class _SaveOut:
    decision_ids: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    note_ids: list[int] = field(default_factory=list)
    open_item_ids: list[int] = field(default_factory=list)
    merged: list[Merged] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    overwritten: bool = False  # a merge replaced stored text: erased like forgotten text
    similar: Comparer = field(default_factory=Comparer)  # _similarities
    signed: dict[str, tuple[int, int]] = field(default_factory=dict)  # _cite: files as read


def _names_in_all(texts: Sequence[str]) -> list[list[str]]:
    """`names_in` of each text: the seam that runs in a worker thread (`_cite`)."""
    return [names_in(text) for text in texts]


def indexed_text(text: str, cited_code: Iterable[tuple[str, str | None]]) -> str:
    """A memory is found by what it says and by the code it cites (path, symbol). (m036 too.)"""
    cited = " ".join(f"{path} {symbol or ''}" for path, symbol in cited_code)
    return f"{text}\n{cited}" if cited else text


def _merge_warning(
    field: str, what: str, into: int, alike: float, added: int, reworded: bool, replaced: int
) -> str:
    extra = f"; {added - replaced} new citation(s) added to it" if added > replaced else ""
    if replaced:
        extra += f"; {replaced} older citation(s) of the same code replaced by where it is now"
    if reworded:  # a near-identical save often corrects a number or a yes/no: the newest wins
        extra += "; it now reads as this save"
    return (
        f"{field} is near-identical to live {what} #{into} ({alike:.0%} alike): merged into it "
        f"instead of saving a duplicate{extra}"
    )


def _check_decisions(decisions: Sequence[DecisionIn], forget: Sequence[int] = ()) -> None:
    superseding: dict[int, int] = {}  # decision id -> the item of this save that supersedes it
    forgotten = set(forget)
    for n, d in enumerate(decisions):
        if not d.title.strip():
            raise InputError(f"decisions[{n}].title: must not be empty")
        if not d.decision.strip():
            raise InputError(f"decisions[{n}].decision: must not be empty")
        if d.supersedes is not None and (
            isinstance(d.supersedes, bool) or not isinstance(d.supersedes, int)
        ):
            raise InputError(f"decisions[{n}].supersedes: must be a decision id")
        if d.supersedes in forgotten:
            # (forgotten first in the transaction, it was then said not to exist)
            raise InputError(
                f"decisions[{n}].supersedes: decision #{d.supersedes} is in forget_decisions "
                "too: supersede it (its successor is served) or forget it, not both"
            )
        if d.supersedes is not None:
            # (the second would find it superseded by the first's new id, which the failed
            # save never keeps, and say to supersede that one)
            first = superseding.setdefault(d.supersedes, n)
            if first != n:
                raise InputError(
                    f"decisions[{n}].supersedes: decisions[{first}] of this save supersedes "
                    f"#{d.supersedes} too; one decision replaces it"
                )
