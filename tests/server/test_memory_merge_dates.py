"""A memory a later save merged into reads as that save ("it now reads as this save"), so it
is dated by it: the brief lists it among the newest and shows that save's date, not the date
the first wording was saved."""

from __future__ import annotations

import aiosqlite

from ocp_server.brief import when
from ocp_server.memory import DecisionIn, MemoryStore

DAY = 86_400.0
FIRST, OTHER, MERGED = 1_800_000_000.0, 1_800_000_000.0 + DAY, 1_800_000_000.0 + 3 * DAY
CACHE = "the build cache lives in .cache/build and is cleared by make clean before every release"
CACHE_AGAIN = CACHE.replace("every release", "each release")  # near-identical: it merges


async def test_a_merged_note_is_dated_and_ordered_by_the_save_that_merged_it(
    db: aiosqlite.Connection,
) -> None:
    now = [FIRST]
    store = MemoryStore(db, clock=lambda: now[0])
    sid = await store.start_session("/ws")
    (first,) = (await store.save(sid, notes=[CACHE])).note_ids
    now[0] = OTHER
    (other,) = (await store.save(sid, notes=["the queue retries a job three times"])).note_ids
    now[0] = MERGED
    saved = await store.save(sid, notes=[CACHE_AGAIN])
    assert [m.into for m in saved.merged] == [first]

    brief = await store.restore(max_tokens=20_000)
    assert [(n.id, n.created_at) for n in brief.notes] == [(first, MERGED), (other, OTHER)]
    assert f"#{first} {CACHE_AGAIN} ({when(MERGED)})" in brief.text


async def test_a_merged_decision_is_dated_and_ordered_by_the_save_that_merged_it(
    db: aiosqlite.Connection,
) -> None:
    now = [FIRST]
    store = MemoryStore(db, clock=lambda: now[0])
    sid = await store.start_session("/ws")
    (first,) = (
        await store.save(sid, decisions=[DecisionIn(title="Cache", decision=CACHE)])
    ).decision_ids
    now[0] = OTHER
    queue = DecisionIn(title="Queue", decision="retry a job three times")
    (other,) = (await store.save(sid, decisions=[queue])).decision_ids
    now[0] = MERGED
    again = DecisionIn(title="Cache", decision=CACHE_AGAIN)
    saved = await store.save(sid, decisions=[again])
    assert [m.into for m in saved.merged] == [first]

    brief = await store.restore(max_tokens=20_000)
    assert [(d.id, d.created_at) for d in brief.decisions] == [(first, MERGED), (other, OTHER)]
    assert when(MERGED) in next(ln for ln in brief.text.splitlines() if CACHE_AGAIN in ln)
