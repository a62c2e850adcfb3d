"""Fitting a brief into its token budget: candidates ranked (exact titles, then relevance
blended with recency), then taken section by section, each a prefix of its ranking (see the
package's docstring)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from ocp_router.tokens import estimate_tokens
from ocp_server.brief.items import SHRUNK_DECISION, Item
from ocp_server.brief.sections import (
    HEADERS,
    SECTION_NAMES,
    TITLE,
    brief_text,
    empty_brief,
    kept_to,
    left_out_line,
    max_tokens_said,
)
from ocp_server.brief.values import Brief, StaleMode

__all__ = ["Fitter", "ranked"]

FOOTER_RESERVE: Final = 60  # tokens kept for the line saying what was left out, until
# `Fitter.expect` knows what each section holds
MIN_ITEM: Final = 12  # tokens of the shortest item with its section header
RECENCY_HALF_LIFE: Final = 14 * 86400.0  # seconds: how fast recency fades against relevance


def ranked(items: Iterable[Item], now: float) -> list[Item]:
    """Exact titles first, then best match blended with recency (bm25 relative to the best
    match)."""
    pool = list(items)
    best = min((i.score for i in pool if i.score is not None), default=0.0) or -1.0

    def key(i: Item) -> tuple[bool, float, float]:
        relevance = (i.score or 0.0) / best
        recency = 0.5 ** (max(0.0, now - i.created_at) / RECENCY_HALF_LIFE)
        return (not i.exact, -(0.8 * relevance + 0.2 * recency), -i.created_at)

    return sorted(pool, key=key)


class Fitter:
    """Takes items within a token budget, section by section (see the module docstring)."""

    def __init__(
        self,
        max_tokens: int,
        *,
        value_cost: Callable[[Any], int] | None = None,
        overhead: int = 0,
        said_budget: str | None = None,
        scope: str | None = None,
    ) -> None:
        """`scope`: the sub-folder a restore keeps its decisions to, said under the title."""
        self.max_tokens = max_tokens
        self.scope = scope
        self.head = kept_to(scope)
        # The budget the brief says it left out to fit: the caller's, when a refit of the
        # result (AppState.restore) fits the brief into less, or a route's prompt takes it.
        self.said_budget = max_tokens_said(max_tokens) if said_budget is None else said_budget
        self.value_cost = value_cost
        self.overhead = overhead
        self.reserved = FOOTER_RESERVE
        self.used = estimate_tokens(TITLE) + 1 + self.reserved + overhead
        if scope is not None:  # the line, and the result's `kept_to` when values are priced
            field = json.dumps({"kept_to": scope}) if value_cost is not None else ""
            self.used += estimate_tokens(self.head) + 1 + estimate_tokens(field)
        self.chosen: dict[str, list[Item]] = {s: [] for s in SECTION_NAMES}
        self.full: set[str] = set()
        self.taken: set[tuple[str, Any]] = set()
        self.seen = 0
        # The left-out line in short (a total, not per section), and what it would reserve:
        # taken only when the full line would crowd out the brief's very first item.
        self.compact = False
        self.compact_reserve: int | None = None

    def expect(
        self,
        totals: Mapping[str, int],
        *,
        capped: frozenset[str] = frozenset(),
        stale_mode: StaleMode = "list",
        expired: int = 0,
    ) -> None:
        """Reserve what saying the most that can be left out costs (every item of every
        section that holds any), instead of a fixed guess: a budget as small as 300 tokens
        then still has room for the first section's best item."""
        most = {s: n for s, n in totals.items() if n > 0 and (s != "stale" or stale_mode == "list")}
        stale = totals.get("stale", 0)
        # `omitted` in the structured form says it again, section by section.
        counts = (
            estimate_tokens(json.dumps(most, separators=(",", ":")))
            if self.value_cost is not None
            else 0
        )
        reserves = []
        for compact in (False, True):
            footer = left_out_line(
                most, capped, self.said_budget, stale, stale_mode, expired, compact
            )
            reserves.append(counts + (estimate_tokens(footer) + 2 if footer else 0))  # + blank
        self.used += reserves[0] - self.reserved
        self.reserved = reserves[0]
        self.compact_reserve = reserves[1]

    def is_full(self, section: str) -> bool:
        return section in self.full

    def has_room(self) -> bool:
        """Whether even a short item could still fit (else loading more is pointless)."""
        return self.max_tokens - self.used >= MIN_ITEM

    def offer(self, items: Iterable[Item]) -> None:
        """Take items in the order given; in a section, the first that does not fit closes
        it (so a section shows a prefix of its ranking, never a gap)."""
        for item in items:
            section = item.section
            if section in self.full or item.key in self.taken:
                continue
            self.seen += 1
            cost = self._cost(item)
            if not self._fits(cost):
                shrunk = self._shrunk(item)
                if shrunk is None:
                    self.full.add(section)
                    continue
                cost = shrunk
            item.cost = cost
            self.chosen[section].append(item)
            self.taken.add(item.key)
            self.used += cost

    def _cost(self, item: Item) -> int:
        value, line, _ = item.made()
        # +1 per line covers the newline and the rounding of per-line estimates.
        cost = self._text_tokens(line) + 1
        if self.value_cost is not None:
            item.value_cost = self.value_cost(value)
            cost += item.value_cost
        if not self.chosen[item.section]:
            cost += estimate_tokens(HEADERS[item.section]) + 2  # and the blank line before it
        return cost

    def _text_tokens(self, text: str) -> int:
        """Tokens of brief text as it is sent: within the structured result (priced with
        `value_cost`) it is a JSON string, where a control character takes six characters
        (`\\u0001`) and a quote, backslash, newline or tab two."""
        if self.value_cost is None:
            return estimate_tokens(text)
        return estimate_tokens(json.dumps(text, ensure_ascii=False)[1:-1])

    def _fits(self, cost: int) -> bool:
        return self.used + cost <= self.max_tokens or self._shorten_left_out_line(cost)

    def _shrunk(self, item: Item) -> int | None:
        """The cost of the brief's very first item at its longest shorter rendering that
        fits, or None (rendered in full again) when none does: a small budget serves the
        most important memory cut short rather than the next one whole."""
        if self.taken:
            return None
        for shrink in range(1, item.shrinks + 1):
            item.shrink, item.made_ = shrink, None
            cost = self._cost(item)
            if self._fits(cost):
                return self._cut_to_room(item, cost)
        item.shrink, item.made_ = 0, None
        return None

    def _cut_to_room(self, item: Item, cost: int) -> int:
        """The cost of `item` at the step it fits, its part that step cuts (the rationale or
        the decision) as long as the room left allows, between this step's cap and the one
        before's: the steps are coarse, and the result's other parts (the session id's
        estimate alone varies by 20 tokens) decide where the room ends."""
        fit, before = SHRUNK_DECISION[item.shrink], SHRUNK_DECISION[item.shrink - 1]
        part = 0 if fit[0] < before[0] else 1  # each step cuts one of the two
        if fit[part] >= before[part]:
            return cost
        lo, hi = fit[part], before[part]  # lo fits, hi did not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            item.caps, item.made_ = _with(fit, part, mid), None
            if self.used + self._cost(item) <= self.max_tokens:
                lo = mid
            else:
                hi = mid
        item.caps, item.made_ = (None if lo == fit[part] else _with(fit, part, lo)), None
        return self._cost(item)  # last: it sets the item's value_cost at these caps

    def _shorten_left_out_line(self, cost: int) -> bool:
        """Say what was left out in short (a total) when that lets the very first item in:
        at the smallest budgets, with thousands left out in every section, the full line
        would take the room of the one memory the brief is for."""
        spare = self.compact_reserve
        if self.taken or self.compact or spare is None:
            return False
        if self.used - self.reserved + spare + cost > self.max_tokens:
            return False
        self.used += spare - self.reserved
        self.reserved = spare
        self.compact = True
        return True

    def page_size(self, section: str) -> int:
        """How many more candidates a section could plausibly take."""
        room = max(0, self.max_tokens - self.used)
        taken = self.chosen[section]
        average = sum(i.cost for i in taken) / len(taken) if taken else 40
        return max(8, min(200, int(room / max(average, 8)) + 4))

    def brief(
        self,
        *,
        query: str | None,
        totals: Mapping[str, int],
        capped: frozenset[str] = frozenset(),
        stale_mode: StaleMode = "list",
        expired: int = 0,
    ) -> Brief:
        """The brief of what was taken; `totals`: how many each section holds in all
        (`capped`: sections counted only up to a bound)."""
        chosen = [i for s in SECTION_NAMES for i in self.chosen[s]]
        stale_total = totals.get("stale", 0)

        def omitted_of(kept: Sequence[Item]) -> dict[str, int]:
            counts = {s: totals.get(s, 0) for s in SECTION_NAMES}
            if stale_mode == "count":
                counts["stale"] = 0
            for i in kept:
                counts[i.section] = counts[i.section] - 1
            return {s: n for s, n in counts.items() if n > 0}

        def text_of(kept: Sequence[Item], omitted: Mapping[str, int]) -> str:
            footer = left_out_line(
                omitted,
                capped,
                self.said_budget,
                stale_total,
                stale_mode,
                expired,
                self.compact,
            )
            return brief_text(kept, footer, self.head)

        def total(text: str, kept: Sequence[Item]) -> int:
            return self._text_tokens(text) + sum(i.value_cost for i in kept) + self.overhead

        omitted = omitted_of(chosen)
        text = text_of(chosen, omitted)
        while chosen and total(text, chosen) > self.max_tokens:  # a safety net; not expected
            chosen.pop()
            omitted = omitted_of(chosen)
            text = text_of(chosen, omitted)
        if not chosen and not any(totals.values()) and not expired:
            text = empty_brief(self.scope)
        if total(text, chosen) > self.max_tokens:
            text = ""
        truncated = bool(omitted) or any(i.made()[2] for i in chosen)

        def values(section: str) -> tuple[Any, ...]:
            return tuple(i.made()[0] for i in chosen if i.section == section)

        return Brief(
            decisions=values("decisions"),
            open_items=values("open_items"),
            state={s.key: s.value for s in values("state")},
            state_set=values("state"),
            sessions=values("sessions"),
            notes=values("notes"),
            traces=values("traces"),
            stale=values("stale"),
            text=text,
            tokens=estimate_tokens(text),
            truncated=truncated,
            query=query,
            matched=sum(1 for i in chosen if i.score is not None),
            omitted=omitted,
            stale_count=stale_total,
            expired=expired,
            kept_to=self.scope,
        )


def _with(caps: tuple[int, int], part: int, cap: int) -> tuple[int, int]:
    return (cap, caps[1]) if part == 0 else (caps[0], cap)
