"""How many memories hold each word (a save picks a text's rarest words to find what it may
merge into): read from the memory index's vocabulary, which walks each word's postings, and
kept exact as this connection writes, so that what a save reads again is not read from the
index again. Which words a save compares by, and so what it merges, stays the same."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from ocp_server.db import connect
from ocp_server.errors import InputError
from ocp_server.memory import DecisionIn, MemoryStore, Merged


class _Forgetful(dict[str, int]):
    """Counts that keep nothing: every count is read from the index, as before they were kept."""

    def __setitem__(self, key: str, value: int) -> None:
        pass

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass


def _texts(rnd: random.Random, count: int, earlier: list[str]) -> list[str]:
    """Long texts of Zipf-weighted words; some near-duplicates of earlier ones (they merge,
    reworded), some new."""
    vocabulary = [f"w{n}x" for n in range(400)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    out: list[str] = []
    for _ in range(count):
        if earlier and rnd.random() < 0.4:
            words = rnd.choice(earlier).split()
            for _ in range(max(1, len(words) // 60)):
                words[rnd.randrange(len(words))] = rnd.choice(vocabulary)
            out.append(" ".join(words))
        else:
            out.append(" ".join(rnd.choices(vocabulary, weights, k=rnd.randint(40, 300))))
    return out


async def _run(store: MemoryStore, seed: int) -> list[tuple[Merged, ...]]:
    """Saves that add, merge (rewording), replace the session's summary and state, forget,
    hold a non-ASCII text and fail part-way: what each merged."""
    rnd = random.Random(seed)
    sid = await store.start_session("/ws")
    earlier: list[str] = []
    merged: list[tuple[Merged, ...]] = []
    for n in range(6):
        notes = _texts(rnd, 8, earlier)
        items = _texts(rnd, 4, earlier)
        if n == 3:
            notes.append("café naïve Straße " + notes[0])  # words the tokenizer folds
        earlier += notes + items
        saved = await store.save(
            sid,
            summary=_texts(rnd, 1, [])[0],
            decisions=[DecisionIn(f"d{n}", text) for text in _texts(rnd, 3, earlier)],
            notes=notes,
            open_items=items,
            state={"phase": f"step {n}", f"k{n % 2}": _texts(rnd, 1, [])[0]},
        )
        merged.append(saved.merged)
        if saved.note_ids and n % 2:
            await store.save(sid, forget_notes=[saved.note_ids[-1]])
        if n == 4:  # indexes its notes, then fails: rolled back
            with pytest.raises(InputError):
                await store.save(sid, notes=_texts(rnd, 3, earlier), resolve=[10**6])
    return merged


async def _exact(db: aiosqlite.Connection, store: MemoryStore) -> None:
    rows = await db.execute_fetchall("SELECT term, doc FROM memory_vocab")
    held = {str(term): int(doc) for term, doc in rows}
    assert store._counts, "counts are kept"
    assert {t: n for t, n in store._counts.items() if n != held.get(t, 0)} == {}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_kept_counts_merge_what_counts_read_from_the_index_merge(
    tmp_path: Path, seed: int
) -> None:
    """Pinned: the same saves, with every count read from the index (as before counts were
    kept), merge the same items into the same memories, equally alike."""
    outcomes = []
    for keep in (True, False):
        conn = await connect(tmp_path / f"{keep}" / "ocp.db")
        try:
            store = MemoryStore(conn)
            if not keep:
                store._counts = _Forgetful()
            outcomes.append(await _run(store, seed))
        finally:
            await conn.close()
    assert outcomes[0] == outcomes[1]
    assert sum(map(len, outcomes[0])) > 5  # merges happened


async def test_kept_counts_equal_the_index_after_saves_forgets_failures_and_other_writers(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".ocp" / "ocp.db"
    conn, other = await connect(path), await connect(path)
    try:
        store, elsewhere = MemoryStore(conn), MemoryStore(other)
        await _run(store, seed=4)
        await _exact(conn, store)
        # another connection's writes: what this one kept is dropped, and read again
        sid = await elsewhere.start_session("/ws")
        await elsewhere.save(sid, notes=_texts(random.Random(5), 6, []))
        await store.save(await store.start_session("/ws"), notes=_texts(random.Random(6), 6, []))
        await _exact(conn, store)
    finally:
        await conn.close()
        await other.close()


async def test_a_save_that_rewords_merged_memories_does_not_read_its_words_counts_again(
    db: aiosqlite.Connection,
) -> None:
    """A memory deleted from the index (a merge that rewords it, the session's summary
    replaced) left the index holding fewer memories than counted, and every count was read
    again, after each one: up to 0.75 s of CPU in a max-size save."""
    store = MemoryStore(db)
    sid = await store.start_session("/ws")
    rnd = random.Random(7)
    notes = _texts(rnd, 12, [])
    await store.save(sid, summary=notes[0], notes=notes)
    looked_up: list[str] = []
    await db.set_trace_callback(
        lambda sql: looked_up.append(sql) if "memory_vocab" in sql else None
    )
    again = [note.replace("w1x", "w2x", 1) for note in notes]  # each merges, reworded
    saved = await store.save(sid, summary=notes[1], notes=again)
    await db.set_trace_callback(lambda _sql: None)
    assert len(saved.merged) == len(notes)
    assert looked_up == []


async def _true_df(db: aiosqlite.Connection, store: MemoryStore, terms: list[str]) -> None:
    """Each of `terms` counted as the index holds it (after a save or restore read counts)."""
    rows = await db.execute_fetchall("SELECT term, doc FROM memory_vocab")
    held = {str(term): int(doc) for term, doc in rows}
    assert {t: store._df.get(t, 0) for t in terms} == {t: held.get(t, 0) for t in terms}


async def test_forgotten_and_merged_memories_leave_the_ranking_counts_true(
    tmp_path: Path,
) -> None:
    """The counts that pick a query's and a save's words gained one for each memory this
    connection indexed but lost none for one it deleted (forgotten, or merged and reworded):
    the deletion showed only as fewer memories than counted, and once other processes' saves
    made up for that (up to 5% growth is not read again), forgotten words stayed counted."""
    path = tmp_path / ".ocp" / "ocp.db"
    conn, other = await connect(path), await connect(path)
    try:
        store, elsewhere = MemoryStore(conn), MemoryStore(other)
        sid = await store.start_session("/ws")
        filler = [f"filler{n}y common{n % 3}y" for n in range(60)]
        okapi = "okapi live in the dense rain forest of the ituri in the congo basin"
        kept = await store.save(
            sid,
            notes=[*filler, "zebra crossing rules", "zebra stripes pattern", okapi],
        )
        await store.restore(query="zebra okapi forest")  # reads (and keeps) their counts
        await _true_df(conn, store, ["zebra", "okapi", "forest"])
        other_sid = await elsewhere.start_session("/ws")
        await elsewhere.save(other_sid, notes=["lion pride", "tiger stripes", "panda bamboo"])
        # forgets one zebra note; the okapi note merges, reworded
        saved = await store.save(
            sid, forget_notes=[kept.note_ids[-3]], notes=[okapi.replace("forest", "forests")]
        )
        assert [m.into for m in saved.merged] == [kept.note_ids[-1]]
        await store.restore(query="zebra okapi forest forests")
        await _true_df(conn, store, ["zebra", "okapi", "forest", "forests"])
    finally:
        await conn.close()
        await other.close()


async def test_a_failed_save_that_forgot_and_added_leaves_the_ranking_counts_true(
    db: aiosqlite.Connection,
) -> None:
    """What a rolled-back save counted and uncounted is undone, though it left the number of
    memories as counted (one forgotten, one added)."""
    store = MemoryStore(db)
    sid = await store.start_session("/ws")
    filler = [f"filler{n}y common{n % 3}y" for n in range(30)]
    kept = await store.save(sid, notes=[*filler, "zebra crossing rules", "okapi habitat"])
    await store.restore(query="zebra okapi")
    with pytest.raises(InputError):
        await store.save(
            sid, forget_notes=[kept.note_ids[-2]], notes=["okapi forest"], resolve=[10**6]
        )
    await store.restore(query="zebra okapi")
    await _true_df(db, store, ["zebra", "okapi"])
