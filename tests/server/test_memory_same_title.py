"""A decision saved again under its title, reworded more than a near-identical save is
("retry at most 3 times" then "retry 5 times with backoff", 72% alike: a merge needs 90%),
stayed beside the one it replaced: both served as active, the brief contradicting itself
more with every session that updated it. Now a later save's decision with the same title,
about the same code, and mostly alike (MOSTLY_ALIKE) supersedes it, as `supersedes` would,
and says so quoting what it replaced (kept in the database, not erased); a decision of the
same title that says something else, or one of the same save, stays beside it."""

from __future__ import annotations

from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.memory import DecisionIn, MemoryStore
from ocp_server.memory.alike import ratio
from ocp_server.memory.queries import MOSTLY_ALIKE, NEAR_IDENTICAL
from tests.server.app_fixture import opened

OLD = "retry failed uploads at most 3 times, then give up"
NEW = "retry failed uploads 5 times with exponential backoff, then give up"


def test_the_example_is_mostly_alike_but_not_near_identical() -> None:
    alike = ratio(f"Retry policy\n{NEW}", f"Retry policy\n{OLD}")
    assert MOSTLY_ALIKE <= alike < NEAR_IDENTICAL


async def test_a_later_decision_of_the_same_title_mostly_alike_supersedes_it(
    store: MemoryStore,
) -> None:
    first = await store.start_session("/ws")
    old = (await store.save(first, decisions=[DecisionIn("Retry policy", OLD)])).decision_ids[0]
    second = await store.start_session("/ws")
    saved = await store.save(second, decisions=[DecisionIn("retry POLICY", NEW, "uploads fail")])
    (new,) = saved.decision_ids
    assert new != old and list(saved.superseded) == [old]
    (warning,) = saved.warnings
    assert f"supersedes decision #{old}" in warning and OLD in warning
    brief = await store.restore(max_tokens=2_000)
    assert [(d.id, d.decision) for d in brief.decisions] == [(new, NEW)]
    # not lost: kept as superseded, its text whole
    rows = await store.db.execute_fetchall(
        "SELECT status, superseded_by, decision FROM decisions WHERE id = ?", (old,)
    )
    assert [tuple(r) for r in rows] == [("superseded", new, OLD)]


async def test_a_decision_of_the_same_title_saying_something_else_stays_beside_it(
    store: MemoryStore,
) -> None:
    sid = await store.start_session("/ws")
    old = await store.save(sid, decisions=[DecisionIn("Database", "use Postgres 15 in production")])
    saved = await store.save(sid, decisions=[DecisionIn("Database", "use SQLite for the tests")])
    assert not saved.superseded
    assert f"same title as active decision(s) #{old.decision_ids[0]}" in saved.warnings[0]
    brief = await store.restore(max_tokens=2_000)
    assert len(brief.decisions) == 2


async def test_two_decisions_of_one_title_in_one_save_both_stay(store: MemoryStore) -> None:
    # 82% alike, and two decisions: the save says both on purpose
    sid = await store.start_session("/ws")
    saved = await store.save(
        sid,
        decisions=[
            DecisionIn("Retry policy", "HTTP calls retry at most 3 times with backoff"),
            DecisionIn("Retry policy", "database writes retry at most 3 times with backoff"),
        ],
    )
    assert not saved.superseded and len(set(saved.decision_ids)) == 2
    brief = await store.restore(max_tokens=2_000)
    assert len(brief.decisions) == 2


async def test_an_explicit_supersedes_is_not_doubled_by_the_same_title(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    a = (await store.save(sid, decisions=[DecisionIn("Retry policy", OLD)])).decision_ids[0]
    saved = await store.save(sid, decisions=[DecisionIn("Retry policy", NEW, supersedes=a)])
    assert list(saved.superseded) == [a] and not saved.warnings


async def test_a_decision_of_the_same_title_about_other_code_stays_beside_it(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    first = wire.DecisionArg(title="Retry policy", decision=OLD, citations=["verify_token"])
    old = (await app.save(ws, wire.SaveArgs(decisions=[first]))).decision_ids[0]
    other = wire.DecisionArg(title="Retry policy", decision=NEW, citations=["totalCents"])
    saved = await app.save(ws, wire.SaveArgs(decisions=[other]))
    (warning,) = saved.warnings
    assert f"same title as active decision(s) #{old}: both stay active" in warning
    brief = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    assert len(brief.decisions) == 2
