"""The lifecycle around cited memories: stale ones counted instead of listed and never
renewed by being listed, expiry of the unused (never with a TTL of 0), forgetting by id, and
near-identical saves merged (a correction kept, the same text citing other code not)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from ocp_server.db import connect
from ocp_server.memory import DecisionIn, MemoryStore, NoteIn
from tests.server.citations import Clock, Repo


async def test_stale_memories_can_be_counted_instead_of_listed(repo: Repo) -> None:
    await repo.decide("verify_token")
    await repo.decide(title="Style", decision="keep functions short")
    repo.edit("src/auth.py", "compare_digest", "compare")
    brief = await repo.memory.restore(stale="count")
    assert brief.stale == () and brief.stale_count == 1
    assert [d.verified for d in brief.decisions] == ["uncited"]
    assert "[uncited]" in brief.text
    assert "1 stale memory (their cited code changed) not listed" in brief.text
    assert "compare_digest" not in brief.text


async def test_a_memory_served_while_valid_lives_on_and_an_unused_one_expires(
    repo: Repo,
) -> None:
    used = await repo.decide("verify_token", title="Tokens", decision="use hmac for tokens " * 3)
    unused = await repo.decide(title="Billing", decision="cents are integers " * 20)
    repo.clock.days(27)
    served = await repo.memory.restore(query="hmac tokens", max_tokens=140)
    assert [d.id for d in served.decisions] == [used]  # only it fitted
    repo.clock.days(2)  # 29 days after both were saved
    later = await repo.memory.restore(max_tokens=5000)
    assert [d.id for d in later.decisions] == [used]
    assert later.expired == 1 and "1 memory expired" in later.text
    rows = await repo.memory.db.execute_fetchall("SELECT id, retired FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [(used, None), (unused, "expired")]


async def test_a_stale_memory_is_not_renewed_by_being_listed(repo: Repo) -> None:
    await repo.decide("verify_token")
    repo.edit("src/auth.py", "compare_digest", "compare")
    for _ in range(3):
        repo.clock.days(10)
        brief = await repo.memory.restore()
    assert brief.stale == () and brief.expired == 1


async def test_ttl_zero_never_expires(db_path_memory: MemoryStore) -> None:
    sid = await db_path_memory.start_session("/ws")
    await db_path_memory.save(sid, notes=["kept forever"])
    clock = db_path_memory.clock
    assert isinstance(clock, Clock)
    clock.days(3650)
    assert [n.text for n in (await db_path_memory.restore()).notes] == ["kept forever"]


@pytest.fixture
async def db_path_memory(tmp_path: Path) -> AsyncIterator[MemoryStore]:
    conn = await connect(tmp_path / "m.db")
    yield MemoryStore(conn, clock=Clock(), ttl_days=0)
    await conn.close()


async def test_forget_by_id_erases_the_memory_and_it_is_never_served(repo: Repo) -> None:
    decision = await repo.decide("verify_token")
    sid = await repo.memory.start_session(str(repo.root), "s1")
    note = (await repo.memory.save(sid, notes=["the api key lives in vault"])).note_ids[0]
    result = await repo.memory.save(sid, forget_decisions=[decision], forget_notes=[note])
    assert result.forgotten == (f"decision #{decision}", f"note #{note}")
    brief = await repo.memory.restore()
    assert brief.decisions == () and brief.notes == ()
    assert brief.text == "Nothing saved by earlier sessions yet."
    db: aiosqlite.Connection = repo.memory.db
    texts = await db.execute_fetchall(
        "SELECT (SELECT group_concat(decision) FROM decisions), "
        "(SELECT group_concat(text) FROM notes), (SELECT count(*) FROM memory_citations), "
        "(SELECT count(*) FROM memory_fts WHERE text LIKE '%vault%')"
    )
    assert tuple(next(iter(texts))) == ("", "", 0, 0)
    again = await repo.memory.save(sid, forget_decisions=[decision])
    assert again.warnings == (f"decision #{decision} was already forgotten",)
    with pytest.raises(
        ValueError,
        match=r"^`forget_notes\[0\]`: expected the id of a note \(got 999\); no note #999",
    ):
        await repo.memory.save(sid, forget_notes=[999])
    with pytest.raises(ValueError, match=r"^`decisions\[0\]\.supersedes`: .*does not exist"):
        await repo.memory.save(sid, decisions=[DecisionIn("x", "y", supersedes=decision)])


async def test_a_near_identical_save_merges_and_says_so(repo: Repo) -> None:
    first = await repo.decide(decision="always compare tokens in constant time with hmac")
    sid = await repo.memory.start_session(str(repo.root), "s1")
    again = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "token check",
                "Always compare tokens in constant time, with hmac.",
                "timing attacks",
                citations=("verify_token",),
            )
        ],
    )
    assert again.decision_ids == (first,)
    assert [(m.field, m.into) for m in again.merged] == [("decisions[0]", first)]
    assert "merged into it" in again.warnings[0] and "1 new citation(s)" in again.warnings[0]
    brief = await repo.memory.restore()
    (d,) = brief.decisions
    assert d.rationale == "timing attacks" and d.verified == "valid"
    # Different enough: a second decision.
    other = await repo.memory.save(
        sid, decisions=[DecisionIn("Token check", "compare tokens with == for speed")]
    )
    assert other.merged == () and other.decision_ids[0] != first
    # Superseding is never a merge.
    newer = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "Token check", "always compare tokens in constant time with hmac", supersedes=first
            )
        ],
    )
    assert newer.merged == () and newer.superseded == (first,)


async def test_the_same_text_citing_different_code_is_not_a_duplicate(repo: Repo) -> None:
    sid = await repo.memory.start_session(str(repo.root), "s1")
    a = await repo.memory.save(sid, notes=[NoteIn("this function is hot", ("verify_token",))])
    b = await repo.memory.save(sid, notes=[NoteIn("this function is hot", ("totalCents",))])
    c = await repo.memory.save(sid, notes=["this function is hot"])
    assert b.merged == () and b.note_ids != a.note_ids
    assert [m.into for m in c.merged] == [a.note_ids[0]]  # uncited: merges with the first


async def test_a_near_identical_save_that_corrects_a_fact_is_what_restore_serves(
    repo: Repo,
) -> None:
    # "at most 3" then "at most 5" is 94% alike: it merges, and the correction must not be lost
    sid = await repo.memory.start_session(str(repo.root), "s1")
    old = "retry failed uploads at most 3 times, then give up and report the error"
    new = "retry failed uploads at most 5 times, then give up and report the error"
    first = await repo.memory.save(sid, decisions=[DecisionIn("Upload retries", old, "flaky")])
    again = await repo.memory.save(sid, decisions=[DecisionIn("Upload retries", new)])
    assert again.decision_ids == first.decision_ids and len(again.merged) == 1
    assert "now reads as this save" in again.warnings[0]
    note = await repo.memory.save(
        sid, notes=["the nightly build passes on linux macos and windows with python 3.11 and 3.12"]
    )
    fixed = await repo.memory.save(
        sid, notes=["the nightly build fails on linux macos and windows with python 3.11 and 3.12"]
    )
    assert fixed.note_ids == note.note_ids and len(fixed.merged) == 1
    brief = await repo.memory.restore()
    (d,) = brief.decisions
    assert d.decision == new and d.rationale == "flaky"  # the rationale saved earlier stays
    assert [n.text for n in brief.notes] == [
        "the nightly build fails on linux macos and windows with python 3.11 and 3.12"
    ]
    # a query finds it by its new words: it comes before a newer note the query does not match
    await repo.memory.save(sid, notes=["deploys go out on fridays"])
    found = await repo.memory.restore(query="fails")
    assert (
        found.notes[0].text
        == "the nightly build fails on linux macos and windows with python 3.11 and 3.12"
    )
