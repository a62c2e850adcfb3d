"""What a restore says of when memories were made and what they replaced. A state value set
weeks ago read as current (`current_task = X`, no date in the brief or the structured
result); a stale memory came without its date; a decision did not say which decision it
replaced (that one is no longer served), so an agent remembering the old one could not tell
it had been replaced."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import aiosqlite
import pytest

import ocp_wire as wire
from ocp_server import brief as briefs
from ocp_server import views
from ocp_server.app import AppState
from ocp_server.memory import DecisionIn, MemoryStore
from ocp_server.memory.queries import DECISION_ROWS, DECISIONS
from tests.server.app_fixture import opened

DAY = 86_400.0
START = 1_790_000_000.0
COMPARE = "return hmac.compare_digest(token, secret)"


class Clock:
    """A clock the test sets by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.0, "just now"),
        (59.0, "just now"),
        (60.0, "1 minute ago"),
        (3 * 3600.0 + 5, "3 hours ago"),
        (DAY, "1 day ago"),
        (6 * DAY, "6 days ago"),
        (21 * DAY, "3 weeks ago"),
        (65 * DAY, "2 months ago"),
        (800 * DAY, "2 years ago"),
        (-5.0, "just now"),  # a clock set back: never "in the future"
    ],
)
def test_an_age_is_said_in_its_largest_whole_unit(seconds: float, said: str) -> None:
    assert briefs.ago(seconds) == said


async def test_a_state_value_says_when_and_by_which_session_it_was_set(
    db: aiosqlite.Connection,
) -> None:
    clock = Clock()
    store = MemoryStore(db, clock=clock)
    old = await store.start_session("/ws")
    await store.save(old, state={"current_task": "migrate billing", "branch": "main"})
    clock.now += 20 * DAY
    newer = await store.start_session("/ws")
    await store.save(newer, state={"branch": "feature/x"})
    clock.now += 1 * DAY
    now = await store.start_session("/ws")

    brief = await store.restore(exclude_session=now)

    assert brief.state == {"current_task": "migrate billing", "branch": "feature/x"}
    # with the date: the age is fixed when the brief is built, and a cached brief ages
    assert "- `current_task` = migrate billing (set 3 weeks ago, 2026-09-21)" in brief.text
    assert "- `branch` = feature/x (set 1 day ago, 2026-10-11)" in brief.text, brief.text
    out = views.restore_result(brief, now)
    sets = {k: (v.set_at, v.session_id) for k, v in out.state_set.items()}
    assert sets == {
        "current_task": ("2026-09-21T14:13:20Z", old),
        "branch": ("2026-10-11T14:13:20Z", newer),
    }
    assert datetime.fromisoformat(out.state_set["current_task"].set_at).timestamp() == START


async def test_a_state_values_date_is_priced_within_the_budget(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    state = {f"key{n}": f"value number {n}" for n in range(60)}
    await app.save(ws, wire.SaveArgs.model_validate({"state": state}))

    for budget in (300, 500, 900):
        out = await app.restore(ws, wire.RestoreArgs(max_tokens=budget))
        assert out.state and out.omitted["state"], budget
        assert set(out.state_set) == set(out.state)
        assert out.tokens <= budget
        assert all(s.session_id == app.session_id for s in out.state_set.values())


async def test_a_decision_says_which_decision_it_replaced(db: aiosqlite.Connection) -> None:
    store = MemoryStore(db, clock=Clock())
    sid = await store.start_session("/ws")
    first = await store.save(sid, decisions=[DecisionIn("Retries", "retry at most 3 times")])
    (old,) = first.decision_ids
    second = await store.save(
        sid,
        decisions=[
            DecisionIn("Retries", "retry 5 times with backoff", supersedes=old),
            DecisionIn("Database", "use SQLite"),
        ],
    )
    new, other = second.decision_ids

    brief = await store.restore()

    by_id = {d.id: d for d in brief.decisions}
    assert set(by_id) == {new, other}  # the replaced one is not served
    assert by_id[new].supersedes == old and by_id[other].supersedes is None
    line = next(ln for ln in brief.text.splitlines() if ln.startswith(f"- #{new} "))
    assert f"; replaces #{old})" in line, brief.text
    out = json.loads(views.restore_result(brief, sid).model_dump_json())
    dumped = {d["id"]: d for d in out["decisions"]}
    assert dumped[new]["supersedes"] == old
    assert "supersedes" not in dumped[other]  # left out, not sent as null


async def test_which_decision_was_replaced_is_found_by_an_index(
    db: aiosqlite.Connection,
) -> None:
    select = DECISION_ROWS.format(where=f"{DECISIONS} LIMIT 10")
    plan = await db.execute_fetchall(
        f"EXPLAIN QUERY PLAN {select}", {"cut": 0.0, "ex": "", "now": 0.0, "scope": None}
    )
    details = " | ".join(str(row[-1]) for row in plan)
    assert "decisions_superseded_by" in details, details


async def test_a_stale_memory_says_when_it_was_saved(app: AppState, workspace: Path) -> None:
    ws = await opened(app, workspace)
    decision = {"title": "token check", "decision": "constant time compare"}
    args = {
        "decisions": [{**decision, "citations": ["verify_token"]}],
        "notes": [{"text": "verify_token is hot", "citations": ["verify_token"]}],
    }
    await app.save(ws, wire.SaveArgs.model_validate(args))
    auth = workspace / "src" / "auth.py"
    auth.write_text(auth.read_text().replace(COMPARE, "return token == secret"))
    await ws.index.update()

    out = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))

    by_kind = {s.kind: s for s in out.stale}
    decided, noted = by_kind["decision"].decided_at, by_kind["note"].noted_at
    assert decided is not None and noted is not None
    assert by_kind["decision"].noted_at is None and by_kind["note"].decided_at is None
    for stale in json.loads(out.model_dump_json())["stale"]:  # only its own kind's date
        assert set(stale) & {"decided_at", "noted_at"} == (
            {"decided_at"} if stale["kind"] == "decision" else {"noted_at"}
        )
    day = datetime.fromisoformat(decided).strftime("%Y-%m-%d")
    lines = [ln for ln in out.brief.splitlines() if ln.startswith(("- decision #", "- note #"))]
    assert len(lines) == 2 and all(f" ({day} " in ln for ln in lines), out.brief


def test_a_result_without_the_new_fields_still_reads() -> None:
    """An older server's result: the new fields are optional."""
    old = {
        "brief": "",
        "decisions": [
            {
                "id": 1,
                "title": "t",
                "decision": "d",
                "rationale": None,
                "decided_at": "2026-01-01T00:00:00Z",
                "verified": "uncited",
                "citations": [],
            }
        ],
        "stale": [{"kind": "note", "id": 2, "title": None, "text": "x", "citations": []}],
        "stale_count": 1,
        "state": {"k": "v"},
        "open_items": [],
        "notes": [],
        "sessions": [],
        "traces": [],
        "omitted": {},
        "expired": 0,
        "tokens": 10,
        "truncated": False,
        "session_id": "s",
    }
    out = wire.RestoreResult.model_validate(old)
    assert out.state_set == {} and out.decisions[0].supersedes is None
    assert out.stale[0].noted_at is None
    # and what has nothing to say is left out again, not sent empty or null
    dumped = json.loads(out.model_dump_json())
    assert "state_set" not in dumped and "supersedes" not in dumped["decisions"][0]
    assert not {"decided_at", "noted_at"} & set(dumped["stale"][0])


async def test_a_state_value_set_within_the_day_says_the_time_it_was_set(
    db: aiosqlite.Connection,
) -> None:
    # "set 2 hours ago" in a brief cached for a day would be a day wrong: the time says it.
    clock = Clock()
    store = MemoryStore(db, clock=clock)
    old = await store.start_session("/ws")
    await store.save(old, state={"current_task": "migrate billing"})
    clock.now += 2 * 3600 + 5
    now = await store.start_session("/ws")

    brief = await store.restore(exclude_session=now)

    assert "- `current_task` = migrate billing (set 2 hours ago, 2026-09-21 14:13)" in brief.text


async def test_an_open_item_says_when_it_was_opened(db: aiosqlite.Connection) -> None:
    # Decisions and notes had their date on the wire; an open item weeks old had none.
    clock = Clock()
    store = MemoryStore(db, clock=clock)
    sid = await store.start_session("/ws")
    await store.save(sid, open_items=["add a migration test for billing"])
    clock.now += 21 * DAY
    now = await store.start_session("/ws")

    out = views.restore_result(await store.restore(exclude_session=now), now)

    (item,) = out.open_items
    assert item.opened_at == "2026-09-21T14:13:20Z"
    assert json.loads(item.model_dump_json())["opened_at"] == "2026-09-21T14:13:20Z"
    # optional on the wire: a result of an older server, without it, still reads
    older = wire.OpenItemOut.model_validate({"id": 1, "text": "x"})
    assert older.opened_at is None and "opened_at" not in older.model_dump()
