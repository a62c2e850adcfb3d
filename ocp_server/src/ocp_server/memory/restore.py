"""Restoring session memory (`ocp_session_restore`): sections read page by page."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ocp_server.argument_errors import field_problem
from ocp_server.brief import (
    SECTION_NAMES,
    SHRUNK_DECISION,
    Brief,
    CitationState,
    Fitter,
    Item,
    Rendered,
    StaleMode,
    one_line,
    ranked,
    render_decision,
    render_note,
)
from ocp_server.cjk_terms import by_prefix, cjk_pairs, korean_stem
from ocp_server.errors import InputError
from ocp_server.index.terms import MAX_QUERY_TERMS, fts_query, query_terms
from ocp_server.memory.base import Snapshot
from ocp_server.memory.checks import CitationChecks
from ocp_server.memory.folding import folded_text, title_key
from ocp_server.memory.queries import (
    COMMON_SHARE,
    COUNT_CAP,
    DECISION_ROWS,
    DECISIONS,
    EXPIRED_DECISIONS,
    EXPIRED_NOTES,
    MATCHES,
    NEWEST,
    NOTE_ROWS,
    NOTES,
    RENEW_AFTER,
    SECTION_OF_KIND,
    SOURCES,
    TIME_COLUMN,
    by_id,
    placeholders,
)


class MemoryRestores(CitationChecks):
    """`ocp_session_restore`: a brief within a token budget, its citations checked first;
    serving a memory renews it, and memories not renewed for the TTL expire."""

    async def restore(
        self,
        *,
        query: str | None = None,
        max_tokens: int = 2000,
        exclude_session: str | None = None,
        stale: StaleMode = "list",
        value_cost: Callable[[Any], int] | None = None,
        overhead: int = 0,
        said_budget: str | None = None,
        decision: int | None = None,
        scope: str | None = None,
    ) -> Brief:
        """A brief of what earlier sessions left, never over `max_tokens` (estimated).

        Every cited memory is checked first (`verify`): valid and moved ones are served as
        facts with their citations, stale ones are listed apart with what changed
        (`stale="list"`) or only counted (`stale="count"`), uncited ones are marked. Items
        matching `query` come first in every section (best match blended with recency),
        then the rest, newest first; sections fill in order (active decisions, stale, open
        items, state, session summaries, notes, notable routes), each loaded page by page
        only while it has room. What did not fit is counted in `omitted` and said in the
        text. `value_cost` prices each item's structured form too, `overhead` the fixed rest
        of the caller's result, so that the whole result fits. Serving a memory that is not
        stale renews it; memories not renewed for the TTL expire here. `exclude_session`
        (usually the current one) leaves out that session's summary, notes and routes.
        `said_budget`: the budget the text says it left out to fit, in the caller's terms (its
        max_tokens when a refit asks for less, a route's context budget); `max_tokens=N` of
        `max_tokens` by default. `decision`: that decision alone, by its id, a replaced one too
        (saying which replaced it), for a brief's `replaces #12`. `scope`: the sub-folder
        the restore keeps to ('pkg/api'): decisions that cite code elsewhere only are left
        out (queries.IN_SCOPE); the other sections are the workspace's, as the text says.
        """
        if max_tokens < 0:
            raise InputError(field_problem("max_tokens", "expected at least 0", max_tokens))
        if stale not in ("list", "count"):
            raise InputError(field_problem("stale", "expected 'list' or 'count'", stale))
        query = query.strip() if query and query.strip() else None
        now = self.clock()
        cut = now - self.ttl_seconds if self.ttl_seconds else float("-inf")
        params = {"cut": cut, "ex": exclude_session or "", "now": now, "scope": scope}
        fitter = Fitter(
            max_tokens,
            value_cost=value_cost,
            overhead=overhead,
            said_budget=said_budget,
            scope=scope if decision is None else None,  # one asked for by id: no other
        )
        sections = [s for s in SECTION_NAMES if stale == "list" or s != "stale"]
        # One read transaction: another window's save lands wholly before or after it,
        # never between two sections (its decision shown without its note). Citations to
        # check end it first, as their results are written.
        due = None
        for checked in (False, True):
            if due is not None:
                await self._check(due)
            async with self._transaction("BEGIN"):
                snapshot = await self._snapshot(params)
                due = None if checked else await self._checks_due(snapshot)
                if due is None and decision is not None:
                    stale = "list"  # the one asked for is shown, stale or not: none is counted
                    item = await self._decision(decision)
                    totals = {s: int(s == item.section) for s in snapshot.totals}
                    snapshot = replace(snapshot, totals=totals)  # it alone: nothing left out
                    fitter.expect(totals)
                    fitter.offer([item])
                    break
                if due is None:
                    fitter.expect(
                        snapshot.totals,
                        capped=_capped(snapshot.totals),
                        stale_mode=stale,
                        expired=snapshot.expired,
                    )
                    await self._fill(fitter, snapshot, params, query, max_tokens, sections, now)
                    break
        totals, expired = snapshot.totals, snapshot.expired
        brief = fitter.brief(
            query=query,
            totals=totals,
            capped=_capped(totals),
            stale_mode=stale,
            expired=expired,
        )
        await self._renew(brief, now, cut if expired else None)
        if self._erase_due:  # an earlier erase waited on another process
            await self._checkpoint_erased([])
        return brief

    async def _fill(
        self,
        fitter: Fitter,
        snapshot: Snapshot,
        params: Mapping[str, Any],
        query: str | None,
        max_tokens: int,
        sections: Sequence[str],
        now: float,
    ) -> None:
        """Offer the fitter the query's matches first, then each section page by page."""
        totals = snapshot.totals
        if query:
            matched = await self._matched(query, params, max_tokens, snapshot.documents)
            matched = await self._with_exact_titles(query, params, matched)
            for section in sections:
                fitter.offer(ranked((i for i in matched if i.section == section), now))
        for section in sections:
            offset, size = 0, fitter.page_size(section)
            while totals[section] and not fitter.is_full(section) and fitter.has_room():
                page = await self._page(section, params, size, offset)
                fitter.offer(page)
                if len(page) < size:
                    break
                offset, size = offset + size, fitter.page_size(section)

    async def _decision(self, decision: int) -> Item:
        """One decision not forgotten nor expired, active or replaced (which one replaced it
        ends its row, as `render_decision` says it)."""
        where = "id = :id AND retired IS NULL"
        rows = await self._fetch(DECISION_ROWS.format(where=where), {"id": decision})
        if not rows:
            raise InputError(
                field_problem(
                    "decision",
                    "expected the id of a decision a restore or a save names",
                    decision,
                    hint=f"no decision #{decision} to show (forgotten and expired ones are gone)",
                )
            )
        by = await self._fetch("SELECT superseded_by FROM decisions WHERE id = ?", (decision,))
        item = _memory_item("decision", rows[0])
        row, states = item.row
        item.row = ((*row, by[0][0]), states)
        return item

    async def _page(
        self, section: str, params: Mapping[str, Any], limit: int, offset: int
    ) -> list[Item]:
        """The next `limit` items of a section, newest first."""
        page = {"limit": limit, "offset": offset, **params}
        tail = f"{NEWEST} LIMIT :limit OFFSET :offset"
        if section == "decisions":
            where = f"{DECISIONS} AND stale = 0 {tail}"
            rows = await self._fetch(f"{DECISION_ROWS.format(where=where)} {NEWEST}", page)
            return self._memory_items("decision", rows)
        if section == "notes":
            where = f"{NOTES} AND stale = 0 {tail}"
            rows = await self._fetch(f"{NOTE_ROWS.format(where=where)} {NEWEST}", page)
            return self._memory_items("note", rows)
        if section == "stale":  # a page from each table, merged
            where = f"{DECISIONS} AND stale = 1 {tail}"
            decisions = await self._fetch(DECISION_ROWS.format(where=where), page)
            where = f"{NOTES} AND stale = 1 {tail}"
            notes = await self._fetch(NOTE_ROWS.format(where=where), page)
            items = self._memory_items("decision", decisions)
            items += self._memory_items("note", notes)
            return sorted(items, key=lambda i: -i.created_at)
        select, where, order, _, kind, render = SOURCES[section]
        limited = f"{where} ORDER BY {order} LIMIT :limit OFFSET :offset"
        rows = await self._fetch(select.format(where=limited), page)
        items = [_item(section, kind, r, render) for r in rows]
        if section == "open_items":  # picked in a subquery: put back in order
            items.sort(key=lambda i: (-i.created_at, -i.key[1]))
        return items

    async def _matched(
        self, query: str, params: Mapping[str, Any], max_tokens: int, documents: int
    ) -> list[Item]:
        """Every item matching the query (its best MATCHES), with its bm25 score."""
        # An item costs 20 tokens or more: more matches than could fit are not looked at.
        scores = await self._match(query, min(MATCHES, max_tokens // 20 + 20), documents)
        items: list[Item] = []
        for kind, found in scores.items():
            ids = list(found)
            marks = ", ".join(f":i{n}" for n in range(len(ids)))
            args = {**params, **{f"i{n}": v for n, v in enumerate(ids)}}
            if kind in ("decision", "note"):
                rows_of, where = (
                    (DECISION_ROWS, DECISIONS) if kind == "decision" else (NOTE_ROWS, NOTES)
                )
                select = by_id(rows_of, f"{kind}s")
                rows = await self._fetch(select.format(where=f"{where} AND id IN ({marks})"), args)
                found_items = self._memory_items(kind, rows)
            else:
                section = SECTION_OF_KIND.get(kind)
                if section is None:
                    continue
                select, where, _, key, _, render = SOURCES[section]
                rows = await self._fetch(
                    select.format(where=f"{where} AND {key} IN ({marks})"), args
                )
                found_items = [_item(section, kind, r, render) for r in rows]
            for item in found_items:
                item.score = found.get(str(item.key[1]))
            items += found_items
        return items

    async def _with_exact_titles(
        self, query: str, params: Mapping[str, Any], matched: list[Item]
    ) -> list[Item]:
        """The matches with each decision titled exactly as the query marked to come first
        (added when the match limit left it out): when every decision shares the query's
        words, bm25 cannot tell the one asked for by name from the newer ones."""
        rows = await self._fetch(
            DECISION_ROWS.format(where=f"{DECISIONS} AND title_key = :title"),
            {**params, "title": title_key(one_line(query))},
        )
        exact = {item.key: item for item in self._memory_items("decision", rows)}
        best = min((i.score for i in matched if i.score is not None), default=-1.0)
        for item in matched:
            if item.key in exact:
                item.exact = True
                del exact[item.key]
        for item in exact.values():
            item.score, item.exact = best, True
        return [*exact.values(), *matched]

    def _memory_items(self, kind: str, rows: Sequence[Any]) -> list[Item]:
        """Items of decision or note rows (DECISION_ROWS, NOTE_ROWS): stale ones go to the
        stale section, open items to theirs."""
        return [_memory_item(kind, r) for r in rows]

    async def _match(
        self, query: str, limit: int = MATCHES, documents: int | None = None
    ) -> dict[str, dict[str, float]]:
        # accented words as the memory index keeps them (`côté` is `cote`), or none is found
        folded = folded_text(query)
        words = query_terms(folded)
        # Chinese and Japanese runs by their character pairs too (cjk_terms.py)
        words += [p for p in cjk_pairs(folded[:4000])[:MAX_QUERY_TERMS] if p not in words]
        # a one-character Chinese or Japanese word, a Korean one: as the start of a term
        starts = list(dict.fromkeys(korean_stem(w) for w in words if by_prefix(w)))
        terms = await self._selective([w for w in words if not by_prefix(w)], documents=documents)
        starts = await self._selective_starts(starts, documents, alone=not terms)
        if not terms and not starts:
            return {}
        match = " OR ".join([fts_query(terms)] * bool(terms) + [f'"{w}" *' for w in starts])
        rows = await self._fetch(
            "SELECT r.kind, r.ref_id, rank FROM memory_fts JOIN memory_refs r "
            "ON r.id = memory_fts.rowid WHERE memory_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        )
        out: dict[str, dict[str, float]] = {}
        for kind, ref_id, score in rows:
            out.setdefault(str(kind), {})[str(ref_id)] = float(score)
        return out

    async def _selective_starts(
        self, starts: list[str], documents: int | None, *, alone: bool
    ) -> list[str]:
        """The query words looked up as the start of a term (`by_prefix`) worth matching, as
        `_selective` keeps words: those in at most COMMON_SHARE of the memories; when no other
        term is kept, the three in fewest if every one is in more. Counted by matching each
        (up to that share: the vocabulary counts a term, not what starts with it)."""
        if not starts:
            return []
        if documents is None:
            ((documents,),) = await self._fetch("SELECT count(*) FROM memory_fts_docsize")
        share = documents * COMMON_SHARE
        rows = await self._fetch(
            "SELECT j.value, (SELECT count(*) FROM (SELECT 1 FROM memory_fts WHERE memory_fts "
            "MATCH '\"' || j.value || '\" *' LIMIT ?)) FROM json_each(?) AS j",
            (int(share) + 1, json.dumps(starts)),
        )
        held = {str(word): int(n) for word, n in rows if n}
        present = sorted(held, key=held.__getitem__)
        rare = [w for w in present if held[w] <= share]
        return rare if rare or not alone else present[:3]

    async def _renew(self, brief: Brief, now: float, expire_before: float | None) -> None:
        """Renew what was served as a fact (not stale) and not renewed lately; retire what
        expired. Skipped entirely when there is nothing to write."""
        due = now - RENEW_AFTER
        decisions = [d.id for d in brief.decisions if d.renewed_at < due]
        notes = [n.id for n in (*brief.notes, *brief.open_items) if n.renewed_at < due]
        if not (decisions or notes or expire_before is not None):
            return
        async with self._transaction():
            for table, ids in (("decisions", decisions), ("notes", notes)):
                for start in range(0, len(ids), 400):
                    chunk = ids[start : start + 400]
                    await self.db.execute(
                        f"UPDATE {table} SET renewed_at = ? "
                        f"WHERE id IN ({placeholders(len(chunk))})",
                        (now, *chunk),
                    )
            if expire_before is None:
                return
            cut = {"cut": expire_before, "now": now}
            await self.db.execute(
                "UPDATE memory_citations SET active = 0 WHERE decision_id IN "
                f"(SELECT id FROM decisions WHERE {EXPIRED_DECISIONS}) OR note_id IN "
                f"(SELECT id FROM notes WHERE {EXPIRED_NOTES})",
                cut,
            )
            for table, where in (("decisions", EXPIRED_DECISIONS), ("notes", EXPIRED_NOTES)):
                await self.db.execute(
                    f"UPDATE {table} SET retired = 'expired', retired_at = :now WHERE {where}", cut
                )
            await self._unsign_uncited()


def _item(section: str, kind: str, row: Any, render: Callable[[Item], Rendered]) -> Item:
    if section == "open_items":
        return _memory_item("note", row)
    return Item(section, (kind, row[0]), row, row[TIME_COLUMN[section]], render)


def _memory_item(kind: str, row: Any) -> Item:
    """(row without its citations and stale flag, its citations' states)."""
    states = tuple(
        CitationState(f"{c[0]}:{c[1]}-{c[2]}", c[3], c[4], c[5], c[6], c[7])
        for c in json.loads(row[-2] or "[]")
    )
    if row[-1]:
        section = "stale"
    elif kind == "decision":
        section = "decisions"
    else:
        section = "open_items" if row[1] == "open_item" else "notes"
    created = row[4] if kind == "decision" else row[3]
    render = render_decision if kind == "decision" else render_note
    key = ("open_item" if section == "open_items" else kind, row[0])
    item = Item(section, key, (tuple(row[:-2]), states), created, render)
    if section == "decisions":
        item.shrinks = len(SHRUNK_DECISION) - 1
    return item


def _capped(totals: Mapping[str, int]) -> frozenset[str]:
    """The sections counted only up to a bound (notable routes, at COUNT_CAP)."""
    return frozenset({"traces"}) if totals["traces"] >= COUNT_CAP else frozenset()
