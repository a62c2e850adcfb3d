"""Two processes saving near-identical memories at once (two IDE windows on one workspace):
the one that takes the write lock second merges into what the first committed meanwhile,
however new its words were when it compared its texts before taking the lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ocp_server.db import connect
from ocp_server.memory import DecisionIn, MemoryStore

NOTE = "the cache layer must be invalidated whenever the user profile changes, avatars included"
TITLE, DECISION = "Primary store", "we keep the primary store on Postgres 16, not MySQL or SQLite"


def one(kind: str, reworded: bool) -> dict[str, Any]:
    """A save of one memory of `kind`; `reworded`: a word added (over 90% alike still)."""
    text = NOTE + (" now" if reworded else "")
    if kind == "decisions":
        return {kind: [DecisionIn(TITLE, DECISION + (" now" if reworded else ""))]}
    return {kind: [text]}


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[MemoryStore, MemoryStore]]:
    first = await connect(tmp_path / ".ocp" / "ocp.db")
    second = await connect(tmp_path / ".ocp" / "ocp.db")
    yield MemoryStore(first), MemoryStore(second)
    await second.close()
    await first.close()


@pytest.mark.parametrize("older", [0, 40], ids=["empty", "40-memories"])
@pytest.mark.parametrize("kind", ["notes", "open_items", "decisions"])
async def test_a_near_identical_memory_another_process_saved_meanwhile_is_merged_into(
    two: tuple[MemoryStore, MemoryStore],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    older: int,
) -> None:
    # Each store is a connection of its own: to SQLite, another process. The other commits
    # after this one compared its texts (their words then in no memory) and before it takes
    # the write lock, as when two servers' saves meet. One memory among 0 or 40 is under the
    # 5% of growth after which the words' counts are read again anyway.
    mine, theirs = two
    sid, their_sid = await mine.start_session("/ws"), await theirs.start_session("/ws")
    for n in range(older):
        await mine.save(sid, notes=[f"older note {n} about subject{n} and topic{n}"])
    compared = mine._similarities
    first: list[Any] = []

    async def then_the_other_saves(*args: Any, **kwargs: Any) -> Any:
        result = await compared(*args, **kwargs)
        first.append(await theirs.save(their_sid, **one(kind, reworded=False)))
        return result

    monkeypatch.setattr(mine, "_similarities", then_the_other_saves)
    out = await mine.save(sid, **one(kind, reworded=True))
    (into,) = getattr(first[0], f"{kind[:-1]}_ids")
    assert [(m.field, m.into) for m in out.merged] == [(f"{kind}[0]", into)]
    assert getattr(out, f"{kind[:-1]}_ids") == (into,)
    brief = await mine.restore(max_tokens=20_000)
    live: dict[str, list[Any]] = {
        "notes": list(brief.notes),
        "open_items": list(brief.open_items),
        "decisions": list(brief.decisions),
    }
    assert [item.id for item in live[kind] if "older note" not in str(item)] == [into]
