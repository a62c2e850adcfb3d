"""A save compares its texts with the memories they may merge into before it takes the
database's write lock: another process (a second MCP client on the workspace) can write
meanwhile, and what changed since is compared again under the lock."""

from __future__ import annotations

import difflib
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiosqlite
import pytest

from ocp_server.memory import DecisionIn, MemoryStore

WORDS = [f"word{n}" for n in range(40)]
UNLIKE = " ".join(f"unlike{n}" for n in range(40))


def near(changed: int) -> str:
    """A note of 40 words, one of them replaced: 97.5% alike to the others."""
    return " ".join("other" if n == changed else w for n, w in enumerate(WORDS))


def watching(
    path: Path, seen: list[bool], first: Callable[[sqlite3.Connection], None] | None = None
) -> Callable[[difflib.SequenceMatcher[str]], float]:
    """difflib's ratio (what compares two texts word by word) that first tries to take the
    write lock from another connection, without waiting: whether it could is recorded for
    each comparison. `first` runs (on that connection) before the first comparison."""
    ratio = difflib.SequenceMatcher.ratio

    def check(matcher: difflib.SequenceMatcher[str]) -> float:
        other_process = sqlite3.connect(path, timeout=0)
        try:
            if first is not None and not seen:
                first(other_process)
            try:
                other_process.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # database is locked
                seen.append(False)
            else:
                other_process.execute("ROLLBACK")
                seen.append(True)
        finally:
            other_process.close()
        return ratio(matcher)

    return check


async def test_another_process_can_write_while_a_save_compares_its_texts(
    db: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Comparing long texts (difflib) ran inside the save's write transaction: max-size saves
    # held the lock 1-8 s, and a second server's save gave up with "database is busy".
    store = MemoryStore(db)
    sid = await store.start_session("/ws")
    first = await store.save(
        sid, notes=[near(0)], open_items=[near(1)], decisions=[DecisionIn("t", near(2))]
    )
    seen: list[bool] = []
    monkeypatch.setattr(
        difflib.SequenceMatcher, "ratio", watching(tmp_path / ".ocp" / "ocp.db", seen)
    )
    out = await store.save(
        sid,
        notes=[near(3), near(4), UNLIKE],
        open_items=[near(5)],
        decisions=[DecisionIn("t", near(6)), DecisionIn("u", UNLIKE)],
    )
    assert seen and all(seen), f"{seen.count(False)} of {len(seen)} comparisons held the lock"
    # What merges is unchanged: into the live memories, and into each other within a save.
    assert [(m.field, m.into) for m in out.merged] == [
        ("decisions[0]", first.decision_ids[0]),
        ("notes[0]", first.note_ids[0]),
        ("notes[1]", first.note_ids[0]),
        ("open_items[0]", first.open_item_ids[0]),
    ]
    assert out.note_ids[:2] == (first.note_ids[0],) * 2 and len(set(out.note_ids)) == 2
    assert out.decision_ids[0] == first.decision_ids[0] != out.decision_ids[1]


async def test_a_memory_reworded_by_another_process_meanwhile_is_compared_as_it_now_reads(
    db: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore(db)
    sid = await store.start_session("/ws")
    first = await store.save(sid, notes=[near(0)])
    (note,) = first.note_ids

    def reword(other_process: sqlite3.Connection) -> None:
        with other_process:
            other_process.execute(
                "UPDATE notes SET text = ? WHERE id = ?",
                (UNLIKE, note),
            )

    seen: list[bool] = []
    monkeypatch.setattr(
        difflib.SequenceMatcher, "ratio", watching(tmp_path / ".ocp" / "ocp.db", seen, reword)
    )
    out = await store.save(sid, notes=[near(1)])
    assert not out.merged and out.note_ids != (note,)


def test_comparing_a_save_s_texts_all_at_once_gives_what_comparing_each_pair_gave() -> None:
    # texts under 300 words, near-identical and not: the bounds only skip what is not alike
    from ocp_server.memory import alike as alike_module

    rng = random.Random(42)
    vocabulary = [f"w{n}" for n in range(30)]
    base = [rng.choice(vocabulary) for _ in range(300)]
    texts = ["", "!!", "w1", "w1 w2"]
    for _ in range(60):
        sample = base[: rng.randint(1, 300)] if rng.random() < 0.7 else list(base)
        for _ in range(rng.choice([0, 1, 2, 5, 30])):
            sample[rng.randrange(len(sample))] = rng.choice(vocabulary)
        if rng.random() < 0.3:
            sample.insert(rng.randrange(len(sample) + 1), rng.choice(vocabulary))
        texts.append(" ".join(sample))
    pairs = list({(rng.choice(texts), rng.choice(texts)): None for _ in range(3000)})
    compare = alike_module.Comparer()
    alike = {(a, b): compare(a, b) for a, b in pairs}
    words = alike_module.words_of
    assert alike == {(a, b): alike_module.similarity(words(a), words(b)) for a, b in pairs}
    assert sum(v >= 0.9 for v in alike.values()) > 50  # the near-identical were compared
