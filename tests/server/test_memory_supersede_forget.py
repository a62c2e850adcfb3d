"""One save that supersedes a decision and forgets it too: a contradiction, refused naming
both fields. It was refused saying the decision "does not exist" (the forget ran first), of a
decision that does, and stays, as nothing is saved."""

from __future__ import annotations

import pytest

from ocp_server.errors import InputError
from ocp_server.memory import DecisionIn, MemoryStore


async def test_superseding_and_forgetting_one_decision_in_one_save_names_both(
    store: MemoryStore,
) -> None:
    sid = await store.start_session("/ws")
    old = (await store.save(sid, decisions=[DecisionIn("Queue", "use Redis")])).decision_ids[0]
    with pytest.raises(InputError) as refused:
        await store.save(
            sid,
            decisions=[
                DecisionIn("Cache", "none"),
                DecisionIn("Queue", "use SQLite", supersedes=old),
            ],
            forget_decisions=[old],
        )
    said = str(refused.value)
    assert said.startswith(
        f"`decisions[1].supersedes`: expected a decision not in `forget_decisions` (got {old})"
    )
    assert "does not exist" not in said
    brief = await store.restore(max_tokens=2_000)
    assert [(d.id, d.title) for d in brief.decisions] == [(old, "Queue")]


async def test_an_id_given_twice_in_one_save_is_resolved_or_forgotten_once_without_a_warning(
    store: MemoryStore,
) -> None:
    # Was: "Saved 1 resolved" and "open item #5 was already resolved", of the item this very
    # save resolved; the same for forget_decisions=[1, 1] ("was already forgotten").
    sid = await store.start_session("/ws")
    saved = await store.save(
        sid, decisions=[DecisionIn("Queue", "use Redis")], open_items=["ship it"]
    )
    (decision,), (item,) = saved.decision_ids, saved.open_item_ids
    done = await store.save(sid, resolve=[item, item], forget_decisions=[decision, decision])
    assert done.resolved == (item,)
    assert done.forgotten == (f"decision #{decision}",)
    assert done.warnings == ()


async def test_resolving_a_note_says_it_is_a_note_and_how_to_retire_it(
    store: MemoryStore,
) -> None:
    # Was: "resolve: no open item #3", of a note #3 the brief shows: the id exists.
    sid = await store.start_session("/ws")
    (note,) = (await store.save(sid, notes=["the deploy runs at 2am"])).note_ids
    with pytest.raises(InputError) as refused:
        await store.save(sid, resolve=[note])
    assert str(refused.value) == (
        f"`resolve[0]`: expected the id of an open item (got {note}); #{note} is a note "
        "(forget_notes retires a note)"
    )


async def test_forgetting_an_open_item_through_forget_notes_names_it_an_open_item(
    store: MemoryStore,
) -> None:
    # Was: "Forgotten: note #5", of an open item the brief lists as open item #5.
    sid = await store.start_session("/ws")
    (item,) = (await store.save(sid, open_items=["ship it"])).open_item_ids
    done = await store.save(sid, forget_notes=[item])
    assert done.forgotten == (f"open item #{item}",)
    again = await store.save(sid, forget_notes=[item], summary="later")
    assert again.warnings == (f"open item #{item} was already forgotten",)
