"""A decision's title is matched blind to case and accents in every script, as the memory index
matches its words (memory/folding.py): SQLite's NOCASE folds ASCII letters only, so
`Überblick` and `überblick` were two titles (no same-title warning, and a query naming the
title did not put it first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.memory import DecisionIn, MemoryStore
from ocp_server.memory.folding import title_key
from ocp_server.migrations import m030_decision_title_key
from tests.server.memory_fixtures import database_before


def test_a_title_key_folds_case_and_accents_in_every_script() -> None:
    assert title_key("Überblick der Caches") == title_key("ÜBERBLICK  der caches")
    assert title_key("Überblick") == title_key("Uberblick") == title_key("U\u0308berblick")
    assert title_key("Straße") == title_key("STRASSE")
    assert title_key("Ключ кэша") == title_key("ключ КЭША")
    assert title_key("Cache: policy") != title_key("Cache policy")  # only case and accents


@pytest.mark.parametrize(
    ("first", "second"),
    [("Überblick der Caches", "überblick der caches"), ("Ключ кэша", "КЛЮЧ КЭША")],
)
async def test_a_title_differing_in_case_only_is_the_same_title(
    store: MemoryStore, first: str, second: str
) -> None:
    sid = await store.start_session("/ws")
    saved = await store.save(sid, decisions=[DecisionIn(first, "keep the cache small")])
    again = await store.save(sid, decisions=[DecisionIn(second, "never expire the sessions")])
    (warning,) = again.warnings
    assert f"same title as active decision(s) #{saved.decision_ids[0]}" in warning


async def test_a_query_of_a_title_in_another_case_puts_it_first(store: MemoryStore) -> None:
    # test_memory.py's test of an exact title, its first word not ASCII
    sid = await store.start_session("/ws")
    await store.save(
        sid, decisions=[DecisionIn("Überblick invalidation policy", "expire entries on write")]
    )
    for n in range(30):  # every decision holds the query's words
        await store.save(
            sid,
            decisions=[
                DecisionIn(
                    f"Policy {n} on überblick invalidation",
                    f"the überblick invalidation policy of service {n}: keep the policy simple",
                )
            ],
        )
    brief = await store.restore(query="überblick INVALIDATION policy")
    assert brief.decisions[0].title == "Überblick invalidation policy"


async def test_titles_saved_before_the_key_are_keyed_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await database_before(path, m030_decision_title_key)
    await old.executemany(
        "INSERT INTO decisions (session_id, created_at, title, decision, renewed_at, retired) "
        "VALUES ('s', 2.0, ?, 'd', 2.0, ?)",
        [("Überblick", None), ("(forgotten)", "forgotten")],
    )
    await old.close()

    db = await connect(path)  # migrates the rest
    try:
        rows = await db.execute_fetchall("SELECT title_key FROM decisions ORDER BY id")
        assert [r[0] for r in rows] == [title_key("Überblick"), title_key("(forgotten)")]
        store = MemoryStore(db, clock=lambda: 3.0)
        again = await store.save("s", decisions=[DecisionIn("ÜBERBLICK", "other")])
        assert "same title as active decision(s) #1" in again.warnings[0]
    finally:
        await db.close()


async def test_a_forgotten_title_leaves_no_key(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    saved = await store.save(sid, decisions=[DecisionIn("Geheimes Überblick", "d")])
    await store.save(sid, forget_decisions=list(saved.decision_ids))
    rows = await store.db.execute_fetchall("SELECT title, title_key FROM decisions")
    assert [tuple(r) for r in rows] == [("(forgotten)", title_key("(forgotten)"))]
