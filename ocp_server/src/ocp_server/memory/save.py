"""Saving session memory (`ocp_result_save`): a save's steps (decisions, notes, open items,
state, forgetting) in one transaction. Its citations are resolved and stored by citing.py,
what an item merges into is found by duplicates.py, and texts are compared in alike.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ocp_server.argument_errors import field_problem
from ocp_server.brief import cap
from ocp_server.citations import Located
from ocp_server.errors import InputError
from ocp_server.memory.alike import Comparer
from ocp_server.memory.citing import MemoryCites, indexed_text
from ocp_server.memory.duplicates import MemoryDuplicates
from ocp_server.memory.folding import title_key
from ocp_server.memory.forget import zeroing_deletes
from ocp_server.memory.kept import SaveTexts, kept
from ocp_server.memory.queries import LIVE, MAX_SAVE_CITATIONS
from ocp_server.memory.values import (
    DecisionIn,
    Merged,
    NoteIn,
    SavedCitation,
    SaveOutcome,
    StateChange,
)
from ocp_server.trace_store import SHORT_TRACE_ID

_NO_STATE: Final[Mapping[str, str]] = MappingProxyType({})


class MemorySaves(MemoryCites, MemoryDuplicates):
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
        scope: str | None = None,
    ) -> SaveOutcome:
        """Persist what the next session should know, all in one transaction.

        `outcome` is set on the trace (`trace_id` required for that) and kept as a note.
        `resolve`: ids of open items that are done. Citations on decisions and notes are
        resolved first; a decision or note near-identical to a live one merges into it (and
        says so). `forget_*` retire memories by id and erase their text. An unknown id, or a
        citation that cannot be resolved, raises ValueError naming the field, and nothing is
        saved. `scope`: the sub-folder a scoped save names, under which a citation's path is
        looked for when the workspace root holds none.
        """
        _check_decisions(decisions, forget_decisions)
        cites = sum(len(d.citations) for d in decisions) + sum(
            len(n.citations) for n in notes if isinstance(n, NoteIn)
        )
        if cites > MAX_SAVE_CITATIONS:  # each is read from disk and keeps its code
            raise InputError(
                field_problem(
                    "citations",
                    f"expected at most {MAX_SAVE_CITATIONS} in one save",
                    cites,
                    hint="cite what each memory is about, or save in parts",
                )
            )
        for key in state:
            if not isinstance(key, str) or not key.strip():
                raise InputError(
                    field_problem("state", "a key: expected text that is not blank", key)
                )
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
            cited, suggested, signed = await self._cite(decisions, note_ins, scope)
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
                        short = len(trace_id.strip()) < SHORT_TRACE_ID
                        raise InputError(
                            field_problem(
                                "trace_id",
                                "expected the id of a recorded trace",
                                trace_id,
                                hint=f"give {SHORT_TRACE_ID} or more characters of its id"
                                if short
                                else "",
                            )
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
                if outcome and outcome.strip():  # counted as the outcome, not among the notes
                    out.outcome_id = await self._note(
                        session_id, now, "outcome", outcome.strip(), trace_id
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
                outcome_id=out.outcome_id,
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
                    raise InputError(
                        field_problem(
                            f"{field}.supersedes",
                            "expected the id of an active decision",
                            d.supersedes,
                            hint=f"decision #{d.supersedes} does not exist",
                        )
                    )
                if rows[0][0] != "active":
                    raise InputError(
                        field_problem(
                            f"{field}.supersedes",
                            "expected the id of an active decision",
                            d.supersedes,
                            hint=f"decision #{d.supersedes} is already superseded by "
                            f"#{rows[0][1]}; supersede that one instead",
                        )
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

    @asynccontextmanager
    async def _sized_transaction(self) -> AsyncIterator[None]:
        """A save's transaction: it holds the write lock, so the memory index's size is read
        once in it (`_sized`)."""
        async with self._transaction():
            with self._sized():
                yield

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
            field = f"resolve[{list(ids).index(item)}]"
            rows = await self._fetch(
                "SELECT resolved FROM notes WHERE id = ? AND kind = 'open_item'", (item,)
            )
            if not rows:
                kind = await self._fetch("SELECT kind FROM notes WHERE id = ?", (item,))
                if kind and kind[0][0] == "note":  # the brief shows notes' ids too
                    raise InputError(
                        field_problem(
                            field,
                            "expected the id of an open item",
                            item,
                            hint=f"#{item} is a note (forget_notes retires a note)",
                        )
                    )
                raise InputError(
                    field_problem(
                        field, "expected the id of an open item", item, hint=f"no open item #{item}"
                    )
                )
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
    outcome_id: int | None = None
    open_item_ids: list[int] = field(default_factory=list)
    merged: list[Merged] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    overwritten: bool = False  # a merge replaced stored text: erased like forgotten text
    similar: Comparer = field(default_factory=Comparer)  # _similarities
    signed: dict[str, tuple[int, int]] = field(default_factory=dict)  # _cite: files as read


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
            raise InputError(
                field_problem(f"decisions[{n}].title", "expected text that is not blank", d.title)
            )
        if not d.decision.strip():
            raise InputError(
                field_problem(
                    f"decisions[{n}].decision", "expected text that is not blank", d.decision
                )
            )
        if d.supersedes is not None and (
            isinstance(d.supersedes, bool) or not isinstance(d.supersedes, int)
        ):
            raise InputError(
                field_problem(f"decisions[{n}].supersedes", "expected an integer", d.supersedes)
            )
        if d.supersedes in forgotten:
            # (forgotten first in the transaction, it was then said not to exist)
            raise InputError(
                field_problem(
                    f"decisions[{n}].supersedes",
                    "expected a decision not in `forget_decisions`",
                    d.supersedes,
                    hint="supersede it (its successor is served) or forget it, not both",
                )
            )
        if d.supersedes is not None:
            # (the second would find it superseded by the first's new id, which the failed
            # save never keeps, and say to supersede that one)
            first = superseding.setdefault(d.supersedes, n)
            if first != n:
                raise InputError(
                    field_problem(
                        f"decisions[{n}].supersedes",
                        "expected a decision no other of this save supersedes",
                        d.supersedes,
                        hint=f"decisions[{first}] supersedes #{d.supersedes} too; one decision "
                        "replaces it",
                    )
                )
