"""Session memory: what one session saves, the next one restores, within a token budget."""

from __future__ import annotations

import difflib
import json
import random
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiosqlite
import pytest

from ocp_router.tokens import estimate_tokens
from ocp_server.errors import InputError
from ocp_server.memory import DecisionIn, MemoryStore, NoteIn
from tests.server.traces import TraceChanges, trace


class Clock:
    """A clock the test moves by hand: each reading is one second after the last."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def store(db: aiosqlite.Connection) -> MemoryStore:
    return MemoryStore(db, clock=Clock())


async def test_a_second_session_restores_what_the_first_saved(store: MemoryStore) -> None:
    first = await store.start_session("/ws")
    await store.record_trace(
        first, trace("t1", "refactor the billing module", route_to="paid", decision="paid")
    )
    await store.save(
        first,
        trace_id="t1",
        outcome="refactor merged, tests green",
        decisions=[DecisionIn("Database", "use SQLite with WAL", "one file, no server")],
        state={"branch": "feature/billing"},
        notes=["the CI cache is flaky on macOS"],
        open_items=["add a migration test for billing"],
    )
    await store.end_session(first, summary="Refactored billing; SQLite chosen.")

    second = await store.start_session("/ws")
    brief = await store.restore(exclude_session=second)

    assert [d.title for d in brief.decisions] == ["Database"]
    assert brief.decisions[0].rationale == "one file, no server"
    assert brief.state == {"branch": "feature/billing"}
    assert [s.summary for s in brief.sessions] == ["Refactored billing; SQLite chosen."]
    assert [i.text for i in brief.open_items] == ["add a migration test for billing"]
    assert [n.text for n in brief.notes] == ["the CI cache is flaky on macOS"]
    assert [(t.id, t.outcome) for t in brief.traces] == [("t1", "refactor merged, tests green")]
    assert "paid" in brief.traces[0].why
    for text in ("use SQLite with WAL", "feature/billing", "Refactored billing", "flaky"):
        assert text in brief.text
    assert not brief.truncated
    assert brief.tokens == estimate_tokens(brief.text)
    # The current session's own summary is left out; the full trace is kept.
    await store.end_session(second, summary="second session")
    again = await store.restore(exclude_session=second)
    assert [s.id for s in again.sessions] == [first]
    assert json.loads(await store.trace_json("t1") or "")["trace_id"] == "t1"


async def test_a_decision_superseded_by_id_is_retired_and_its_successor_is_active(
    store: MemoryStore, db: aiosqlite.Connection
) -> None:
    sid = await store.start_session("/ws")
    old = (await store.save(sid, decisions=[DecisionIn("Queue", "use Redis")])).decision_ids[0]
    result = await store.save(
        sid, decisions=[DecisionIn("Queue", "use SQLite", "one less service", supersedes=old)]
    )
    new = result.decision_ids[0]
    assert result.superseded == (old,)
    assert result.warnings == ()
    rows = await db.execute_fetchall("SELECT id, status, superseded_by FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [(old, "superseded", new), (new, "active", None)]
    brief = await store.restore()
    assert [d.decision for d in brief.decisions] == ["use SQLite"]
    assert "use Redis" not in brief.text
    with pytest.raises(ValueError, match=r"^`decisions\[0\]\.supersedes`: .*already superseded"):
        await store.save(sid, decisions=[DecisionIn("Queue", "use Kafka", supersedes=old)])


async def test_two_decisions_of_one_save_superseding_one_id_are_refused_naming_both(
    store: MemoryStore, db: aiosqlite.Connection
) -> None:
    sid = await store.start_session("/ws")
    old = (await store.save(sid, decisions=[DecisionIn("Queue", "use Redis")])).decision_ids[0]
    # The second was told the id is "already superseded by" the first's new id, which the
    # failed save does not keep: superseding that one failed again (no such decision).
    with pytest.raises(
        ValueError,
        match=rf"^`decisions\[2\]\.supersedes`: .*; decisions\[0\] supersedes #{old} too",
    ):
        await store.save(
            sid,
            decisions=[
                DecisionIn("Queue", "use SQLite", supersedes=old),
                DecisionIn("Cache", "none"),
                DecisionIn("Queue", "use Kafka", supersedes=old),
            ],
        )
    rows = await db.execute_fetchall("SELECT id, status FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [(old, "active")]


async def test_a_same_title_decision_without_supersedes_keeps_both_and_warns(
    store: MemoryStore,
) -> None:
    sid = await store.start_session("/ws")
    first = (await store.save(sid, decisions=[DecisionIn("Logging", "use structlog")])).decision_ids
    result = await store.save(sid, decisions=[DecisionIn("logging", "use the stdlib logger")])
    assert len(result.warnings) == 1
    assert f"#{first[0]}" in result.warnings[0] and "both stay active" in result.warnings[0]
    assert result.superseded == ()
    brief = await store.restore()
    assert {d.decision for d in brief.decisions} == {"use structlog", "use the stdlib logger"}


async def test_state_keeps_every_version_and_the_latest_wins(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    first = await store.save(sid, state={"branch": "main", "python": "3.11"})
    assert first.replaced == {}
    second = await store.save(sid, state={"branch": "feature/x", "python": "3.11"})
    assert second.replaced == {"branch": "main"}  # an unchanged value is not a new version
    assert [(c.key, c.version) for c in second.state] == [("branch", 2)]
    await store.save(sid, state={"branch": "feature/y"})
    history = await store.state_history("branch")
    assert [(v, value) for v, value, _, _ in history] == [
        (3, "feature/y"),
        (2, "feature/x"),
        (1, "main"),
    ]
    assert (await store.restore()).state == {"branch": "feature/y", "python": "3.11"}


async def test_unknown_trace_id_or_supersedes_raises_naming_the_field_and_saves_nothing(
    store: MemoryStore, db: aiosqlite.Connection
) -> None:
    sid = await store.start_session("/ws")
    with pytest.raises(ValueError, match="^`trace_id`: .*'nope'"):
        await store.save(sid, trace_id="nope", outcome="worked", notes=["kept?"])
    with pytest.raises(ValueError, match=r"^`decisions\[1\]\.supersedes`: .*#999"):
        await store.save(
            sid,
            state={"k": "v"},
            decisions=[DecisionIn("A", "first"), DecisionIn("B", "second", supersedes=999)],
        )
    with pytest.raises(ValueError, match=r"^`resolve\[0\]`: "):
        await store.save(sid, resolve=[42])
    with pytest.raises(ValueError, match="^`session_id`: "):
        await store.save("no-such-session", notes=["x"])
    counts = await db.execute_fetchall(
        "SELECT (SELECT count(*) FROM decisions), (SELECT count(*) FROM notes),"
        " (SELECT count(*) FROM state), (SELECT count(*) FROM memory_fts)"
    )
    assert tuple(next(iter(counts))) == (0, 0, 0, 0)  # each failed save rolled back whole


async def test_items_matching_the_query_come_before_more_recent_ones(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    await store.save(
        sid,
        decisions=[DecisionIn("Auth tokens", "rotate session tokens hourly", "leaked tokens")],
        open_items=["rotate_session must invalidate the old token"],
        notes=["payments use Stripe"],
        state={"auth_mode": "session token"},
    )
    await store.save(
        sid,
        decisions=[DecisionIn("Payments", "Stripe for cards")],
        open_items=["document the webhook"],
        state={"deploy": "fly.io"},
        notes=["deploys happen on Fridays"],
    )
    recent = await store.restore()
    assert recent.decisions[0].title == "Payments"  # no query: newest first
    assert recent.matched == 0

    brief = await store.restore(query="session token rotation")
    assert brief.decisions[0].title == "Auth tokens"
    assert brief.open_items[0].text.startswith("rotate_session")  # identifier parts match
    assert next(iter(brief.state)) == "auth_mode"
    assert brief.matched >= 3
    assert brief.text.index("rotate session tokens") < brief.text.index("Stripe for cards")
    # FTS5 syntax in a query is never interpreted.
    for hostile in ('"', "NEAR(", "a:b*", "()", "-"):
        await store.restore(query=hostile)


@pytest.mark.parametrize("budget", [0, 5, 40, 120, 300, 700])
async def test_the_token_budget_is_never_exceeded_and_truncation_is_flagged(
    store: MemoryStore, budget: int
) -> None:
    sid = await store.start_session("/ws")
    for n in range(30):
        await store.save(
            sid,
            decisions=[DecisionIn(f"Decision {n}", f"we chose option {n} " * 5, "because " * 8)],
            state={f"key{n}": f"value {n}"},
            open_items=[f"follow up on item {n}"],
        )
    brief = await store.restore(max_tokens=budget)
    assert brief.tokens == estimate_tokens(brief.text) <= budget
    assert brief.truncated
    assert sum(brief.omitted.values()) > 0
    # What is listed is exactly what the text shows, most recent first.
    for d in brief.decisions:
        assert f"#{d.id} **{d.title}**" in brief.text
    assert [d.id for d in brief.decisions] == sorted((d.id for d in brief.decisions), reverse=True)
    full = await store.restore(max_tokens=100_000)
    assert not full.truncated and len(full.decisions) == 30
    assert len(full.state) == 30 and len(full.open_items) == 30


async def test_a_long_item_is_cut_short_and_flagged(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    await store.save(sid, notes=["word " * 2000])
    brief = await store.restore(max_tokens=100_000)
    assert brief.truncated and brief.notes[0].text.endswith("…")
    assert brief.tokens < 400


async def test_a_route_handed_to_the_agent_or_that_failed_is_not_labelled_a_fallback(
    store: MemoryStore,
) -> None:
    # As the savings report counts them: a fallback is another tier answering.
    sid = await store.start_session("/ws")
    handed: TraceChanges = {"route_to": "agent", "answered_by": "agent", "cost_usd": 0.0}
    await store.record_trace(sid, trace("t1", "design the queue", **handed | {"decision": "paid"}))
    await store.record_trace(sid, trace("t2", "explain the queue", **handed))
    failed = trace("t3", "explain the lock", route_to="none", answered_by=None)
    await store.record_trace(sid, failed)
    brief = await store.restore(max_tokens=100_000)
    assert {t.id: t.why for t in brief.traces} == {
        "t1": ("agent",),
        "t2": ("agent",),
        "t3": ("error",),
    }
    assert "`t1` [agent] paid->agent" in brief.text


async def test_an_outcome_for_a_trace_id_shorter_than_a_printed_one_says_how_long(
    store: MemoryStore,
) -> None:
    sid = await store.start_session("/ws")
    await store.record_trace(sid, trace("9fd0082f" + "0" * 24))
    with pytest.raises(InputError) as refused:
        await store.save(sid, trace_id="9fd0082", outcome="good")
    assert "8 or more characters" in str(refused.value)


async def test_a_routes_outcome_is_not_counted_among_the_saves_notes(store: MemoryStore) -> None:
    # One note and a route's outcome were answered "Saved 2 notes", note ids 1 and 2, the
    # first being the outcome's row, which no restore lists among the notes.
    sid = await store.start_session("/ws")
    await store.record_trace(sid, trace("t1", "explain the retry loop"))
    saved = await store.save(
        sid, trace_id="t1", outcome="good", notes=["the retry loop backs off twice"]
    )
    brief = await store.restore(max_tokens=20_000)
    assert [(n.id, n.text) for n in brief.notes] == [
        (saved.note_ids[0], "the retry loop backs off twice")
    ]
    assert len(saved.note_ids) == 1
    assert saved.outcome_id not in (None, *saved.note_ids)
    assert [t.outcome for t in brief.traces] == ["good"]


async def test_restore_with_a_thousand_traces_stays_correct(
    store: MemoryStore, db: aiosqlite.Connection
) -> None:
    sid = await store.start_session("/ws")
    for n in range(1000):
        kw: TraceChanges = {}
        if n % 100 == 0:
            kw = {"route_to": "paid", "decision": "paid", "cost_usd": 0.01, "model": "claude"}
        elif n % 100 == 50:
            kw = {"route_to": "paid", "decision": "local", "cost_usd": None}  # fallback
        elif n == 777:
            kw = {"answered_by": None}  # no tier answered
        await store.record_trace(sid, trace(f"t{n:04d}", f"request number {n}", **kw))
    await store.save(sid, trace_id="t0123", outcome="the answer was wrong")
    brief = await store.restore(max_tokens=100_000)
    ids = [t.id for t in brief.traces]
    expected = {f"t{n:04d}" for n in range(1000) if n % 50 == 0} | {"t0777", "t0123"}
    assert set(ids) == expected
    assert ids[:2] == ["t0950", "t0900"]  # most recent first
    why = {t.id: t.why for t in brief.traces}
    assert why["t0777"] == ("error",)
    assert why["t0050"] == ("fallback", "paid")
    assert why["t0123"] == ("outcome",)
    matched = await store.restore(query="request number 123", max_tokens=100_000)
    assert matched.traces[0].id == "t0123"

    stats = await store.stats()
    assert stats["routes"] == 1000 and stats["sessions"] == 1
    # Traces from before routing v2 count their paid routes as the mid tier.
    assert stats["by_tier"]["mid"]["routes"] == 20
    assert stats["by_tier"]["local"]["routes"] == 979 and stats["by_tier"]["none"]["routes"] == 1
    assert stats["fallbacks"] == 10 and stats["errors"] == 1 and stats["unpriced"] == 10
    assert stats["prompt_tokens"] == 100_000 and stats["completion_tokens"] == 50_000
    assert stats["cost_usd"] == pytest.approx(0.1)
    assert stats["counterfactual_usd"] == pytest.approx(2.0)
    assert stats["savings_usd"] == pytest.approx(990 * 0.002 - 0.1)
    later = await store.stats(since=10**10)
    assert later["routes"] == 0 and later["by_tier"] == {} and later["daily"] == []


async def test_the_injected_clock_orders_items(db: aiosqlite.Connection) -> None:
    times = iter([100.0, 300.0, 200.0, 50.0, 400.0, 500.0])  # session, each save, restore
    clock: Callable[[], float] = lambda: next(times)  # noqa: E731
    store = MemoryStore(db, clock=clock)
    sid = await store.start_session("/ws")
    await store.save(sid, notes=["written second-latest"])  # 300
    await store.save(sid, notes=["written third"])  # 200
    await store.save(sid, notes=["written oldest"])  # 50
    await store.save(sid, notes=["written latest"])  # 400
    brief = await store.restore()
    assert [n.text for n in brief.notes] == [
        "written latest",
        "written second-latest",
        "written third",
        "written oldest",
    ]
    assert [n.created_at for n in brief.notes] == [400.0, 300.0, 200.0, 50.0]


async def test_a_route_stored_without_its_text_says_so_in_the_brief(store: MemoryStore) -> None:
    # A row kept without its text (the proxy's, which briefs leave out, are the usual ones).
    sid = await store.start_session("/ws")
    kw: TraceChanges = {"route_to": "paid", "decision": "paid", "model": "claude-sonnet-4-6"}
    await store.record_trace(sid, trace("p1", "", **kw))
    brief = await store.restore()
    line = next(x for x in brief.text.splitlines() if "`p1`" in x)
    assert line.endswith("(explain, $0.0000): request text not stored"), line


async def test_sessions_start_idempotently_and_open_items_can_be_resolved(
    store: MemoryStore,
) -> None:
    assert await store.start_session("/ws", "client-7") == "client-7"
    assert await store.start_session("/ws", "client-7") == "client-7"
    assert len(await store.start_session("/ws")) == 32
    saved = await store.save("client-7", open_items=["ship it", "write docs"])
    done = await store.save("client-7", resolve=[saved.open_item_ids[0]])
    assert done.resolved == (saved.open_item_ids[0],)
    assert [i.text for i in (await store.restore()).open_items] == ["write docs"]
    again = await store.save("client-7", resolve=[saved.open_item_ids[0]])
    assert again.resolved == () and "already resolved" in again.warnings[0]
    with pytest.raises(ValueError, match="^`trace_id`: expected the id of no trace recorded"):
        await store.record_trace("client-7", trace("dup"))
        await store.record_trace("client-7", trace("dup"))


async def test_an_empty_memory_restores_a_short_note(store: MemoryStore) -> None:
    brief = await store.restore()
    assert brief.text == "Nothing saved by earlier sessions yet."
    assert not brief.truncated and brief.decisions == () and brief.state == {}


async def test_restore_says_exactly_what_it_left_out(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    for n in range(40):
        await store.save(
            sid,
            decisions=[DecisionIn(f"Decision {n}", f"we chose option {n} for the queue")],
            notes=[f"note number {n} about the cache"],
            open_items=[f"follow up {n}"],
        )
    brief = await store.restore(max_tokens=600)
    assert brief.omitted == {
        "decisions": 40 - len(brief.decisions),
        "open_items": 40 - len(brief.open_items),
        "notes": 40 - len(brief.notes),
    }
    assert brief.tokens <= 600
    footer = brief.text.splitlines()[-1]
    assert footer.startswith("_Left out to fit max_tokens=600: ")
    assert f"{brief.omitted['notes']} notes" in footer


async def test_what_restore_left_out_is_counted_in_the_singular_for_one(
    store: MemoryStore,
) -> None:
    sid = await store.start_session("/ws")
    for n in range(2):
        await store.save(sid, decisions=[DecisionIn(f"Queue {n}", f"we chose option {n} " * 80)])
    brief = await store.restore(max_tokens=300)
    assert brief.omitted == {"decisions": 1}
    footer = brief.text.splitlines()[-1]
    assert footer.endswith(": 1 decision._")


async def test_a_query_brings_matching_items_of_every_section_before_unmatched_ones(
    store: MemoryStore,
) -> None:
    sid = await store.start_session("/ws")
    note = "the websocket reconnect needs jitter, " + "or every client retries at once " * 4
    await store.save(sid, notes=[note])
    for n in range(60):
        await store.save(sid, decisions=[DecisionIn(f"Decision {n}", f"option {n} " * 6)])
    plain = await store.restore(max_tokens=400)
    assert plain.notes == ()  # newer decisions fill the budget
    asked = await store.restore(query="websocket jitter", max_tokens=400)
    assert [n.text for n in asked.notes] == [note.strip()]
    assert asked.matched == 1 and len(asked.decisions) < len(plain.decisions)


def long_notes(count: int, seed: int) -> list[str]:
    """Notes of 300 words drawn from one vocabulary of 120: each shares words with all."""
    rnd = random.Random(seed)
    vocabulary = [f"w{n}x" for n in range(120)]
    return [" ".join(rnd.choice(vocabulary) for _ in range(300)) for _ in range(count)]


async def test_long_notes_sharing_words_are_told_apart_without_the_quadratic_comparison(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """difflib's ratio is quadratic in the words: a save of 100 long notes spent seconds in
    it, holding the database's write lock, while a cheap upper bound already rules them out."""
    full_ratios = 0
    ratio = difflib.SequenceMatcher.ratio

    def counted(self: difflib.SequenceMatcher[str]) -> float:
        nonlocal full_ratios
        full_ratios += 1
        return ratio(self)

    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", counted)
    sid = await store.start_session("/ws")
    notes = long_notes(20, seed=1)
    saved = await store.save(sid, notes=notes)
    assert saved.merged == () and len(set(saved.note_ids)) == 20
    assert full_ratios == 0
    again = await store.save(sid, notes=[notes[3] + " and one more word"])
    assert [m.into for m in again.merged] == [saved.note_ids[3]] and full_ratios == 1


async def test_a_save_of_many_notes_does_not_look_up_every_word_again_for_each_note(
    db: aiosqlite.Connection, store: MemoryStore
) -> None:
    """Picking a note's rare words reads their counts from the memory index's vocabulary,
    which walks their postings (about 25 ms a long note). The counts are cached and kept
    up to date as notes are added, so words already counted are not read again."""
    looked_up: list[str] = []
    await db.set_trace_callback(
        lambda sql: looked_up.append(sql) if "memory_vocab" in sql else None
    )
    sid = await store.start_session("/ws")
    await store.save(sid, notes=long_notes(30, seed=2))
    await db.set_trace_callback(lambda _sql: None)
    # The first notes bring the vocabulary's 120 words; after them every word is counted.
    assert len(looked_up) <= 5


async def test_a_long_note_looks_up_a_bounded_number_of_words_to_find_its_near_duplicate(
    store: MemoryStore,
) -> None:
    # Each word of a note new to the memory index was looked up (and not cached), inside the
    # save's write transaction: a save of 100 long notes held the write lock for seconds.
    rng = random.Random(5)
    words = ["".join(rng.choices("abcdefghijklmnop", k=8)) for _ in range(700)]
    await store.start_session("/ws", "s1")
    looked_up: list[int] = []
    fetch = store._fetch

    async def counting(sql: str, args: Any = ()) -> list[Any]:
        if "memory_vocab" in sql:
            looked_up.append(len(args))
        return await fetch(sql, args)

    store._fetch = counting  # type: ignore[method-assign]
    await store.save("s1", notes=[" ".join(words[:350]), " ".join(words[350:])])
    # 64 words a note, read before the write lock (save.py's _similarities); under it, a
    # note's again only when the index grew by 5% since (here: by the first note)
    assert 0 < sum(looked_up) <= 3 * 64
    again = await store.save("s1", notes=[" ".join(words[:349] + ["changed"])])
    assert again.merged  # still found


async def test_a_save_citing_more_code_than_one_save_may_is_refused_before_any_is_read(
    store: MemoryStore,
) -> None:
    # 150 items of 20 citations each passed the wire's limits: 2,761 resolved citations took
    # 17 s (under the store's lock) and stored 44 MB of cited code in one save.
    await store.start_session("/ws", "s1")
    notes = [
        NoteIn(f"note {n}", tuple(f"src/a.py:{k + 1}-{k + 1}" for k in range(20)))
        for n in range(11)
    ]
    with pytest.raises(
        InputError, match=r"^`citations`: expected at most 200 in one save \(got 220\)"
    ):
        await store.save("s1", notes=notes)


async def test_saves_sent_together_are_kept_in_the_order_they_came(store: MemoryStore) -> None:
    # A large save is redacted in a worker thread (memory/kept.py); a small one sent just
    # after it must not overtake it: the later value of a state key wins, as it did when
    # every save was redacted on the event loop.
    import asyncio

    sid = await store.start_session("/ws")
    large = ["words in a long note " * 200 + str(n) for n in range(20)]  # over OFF_LOOP_CHARS
    await asyncio.gather(
        store.save(sid, state={"branch": "first"}, notes=large),
        store.save(sid, state={"branch": "second"}),
    )
    assert (await store.restore()).state["branch"] == "second"
    history = await store.state_history("branch")
    assert [value for _, value, _, _ in history] == ["second", "first"]


async def test_a_query_of_one_decisions_exact_title_puts_it_first_when_all_share_its_words(
    store: MemoryStore,
) -> None:
    # Every decision holds the query's words, so bm25 could not tell them apart and the
    # newer ones came first.
    sid = await store.start_session("/ws")
    await store.save(
        sid, decisions=[DecisionIn("Cache invalidation policy", "expire cache entries on write")]
    )
    for n in range(30):
        await store.save(
            sid,
            decisions=[
                DecisionIn(
                    f"Policy {n} on cache invalidation",
                    f"the cache invalidation policy of service {n}: keep the policy simple",
                )
            ],
        )
    brief = await store.restore(query="cache invalidation policy")
    assert brief.decisions[0].title == "Cache invalidation policy"
    brief = await store.restore(query="  Cache   INVALIDATION policy ")
    assert brief.decisions[0].title == "Cache invalidation policy"


async def test_pairs_first_met_under_the_write_lock_are_compared_off_the_event_loop(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the transaction writes, the top 20 candidates of an item shift: in a second max-size
    # save some pairs are met only under the write lock, and comparing them on the event
    # loop held up every other call while the lock was held (other processes wait 5 s).
    from contextlib import asynccontextmanager

    from ocp_server.memory import alike

    under_lock: list[int] = []  # the thread of each comparison made in the transaction
    in_transaction = False
    real_alike, real_transaction = alike._alike, store._transaction

    def where(a: Any, b: Any) -> float:
        if in_transaction:
            under_lock.append(threading.get_ident())
        return real_alike(a, b)

    @asynccontextmanager
    async def flagged(*args: Any) -> AsyncIterator[None]:
        nonlocal in_transaction
        async with real_transaction(*args):
            in_transaction = True
            try:
                yield
            finally:
                in_transaction = False

    monkeypatch.setattr(alike, "_alike", where)
    monkeypatch.setattr(store, "_transaction", flagged)
    sid = await store.start_session("/repo")
    merged = []
    for tag in ("R0", "R1"):  # two max-size saves of bench/memory_saves.py's `repeated` shape
        result = await store.save(
            sid,
            summary=f"{tag} " + "S" * 19_000,
            decisions=[
                DecisionIn(f"{tag} huge {i}", f"{tag} {i} " + "x " * 2_400, "r " * 2_400)
                for i in range(50)
            ],
            notes=[NoteIn(f"{tag} note {i} " + "n " * 2_400) for i in range(100)],
            open_items=[f"{tag} open {i} " + "o" * 4_900 for i in range(100)],
            state={f"{tag}-k{i}": "v" * 2_000 for i in range(100)},
        )
        merged.append(len(result.merged))
    assert under_lock and threading.get_ident() not in under_lock
    assert merged == [0, 149]  # the decisions are difflib's, wherever they are worked out
