"""A save identical to a live memory merges into it even when every word of it is common.
Near-duplicates are found by the rarest words of a text, matched in the memory index and
ranked, 20 at most: when each word is in more than a fifth of the memories (and more than 20
memories hold the three rarest), the identical memory may rank past those 20, and the save
was kept as an exact duplicate."""

from __future__ import annotations

import random
from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened

_COMMON = "build test deploy cache retry queue worker lint merge release".split()


def _texts(rnd: random.Random, count: int) -> list[str]:
    """Notes of common words only, each in most of them: some short and dense (they rank
    first), the rest longer."""
    dense = [" ".join(rnd.choices(_COMMON, k=rnd.randint(6, 9))) for _ in range(count // 2)]
    longer = [
        " ".join(rnd.choices(_COMMON, k=rnd.randint(16, 24))) + f" in step {n}"
        for n in range(count - count // 2)
    ]
    return dense + longer


async def test_an_identical_resave_of_common_words_merges_into_the_memory(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    texts = list(dict.fromkeys(_texts(random.Random(7), 80)))
    saved = await app.save(ws, wire.SaveArgs(notes=texts))
    ids = dict(zip(texts, saved.note_ids, strict=True))
    # (a few may merge into one another when first saved: those are left out)
    again = [t for t in texts[-30:] if ids[t] not in {m.into for m in saved.merged}]
    assert len(again) > 20
    missed = []
    for text in again:
        result = await app.save(ws, wire.SaveArgs(notes=[text]))
        if [(m.into, m.alike) for m in result.merged] != [(ids[text], 1.0)]:
            missed.append(text)
    assert missed == []
    # a decision saved again, word for word, merges the same way
    decisions = [wire.DecisionArg(title="workflow", decision=t) for t in texts[:30]]
    first = await app.save(ws, wire.SaveArgs(decisions=decisions))
    assert not first.merged
    repeat = await app.save(ws, wire.SaveArgs(decisions=decisions))
    assert [(m.into, m.alike) for m in repeat.merged] == [(i, 1.0) for i in first.decision_ids]
