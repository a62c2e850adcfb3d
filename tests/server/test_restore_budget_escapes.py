"""A restore's budget holds memories whose text JSON writes longer than it reads: control
characters (`\\u0001`, six characters for one), quotes and backslashes, newlines and tabs. The
brief is a string of the structured result, sent escaped; it was priced as plain text, the
refits stepped down by the last overshoot only: past four tries the restore was an internal
error ("the brief could not be fitted into max_tokens=1000"), or served nothing at 1,000
tokens, refitted down to 324 (and said so: "Left out to fit max_tokens=324")."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_server.app import AppState
from ocp_server.render import restore_answer
from tests.server.app_fixture import opened
from tests.server.inproc import compact_json

# Runs of what an agent may paste, mixed (emoji, CJK, combining marks, long words).
PASTED = [
    "\x01\x02\x1f",
    "😀🎉🔥",
    "缓存策略使用",
    "\\\"'",
    "a" * 50,
    "\u200b\u200d",
    "e\u0301",
    " ",
    "\t\n",
]
MIXED = "".join(PASTED[(n * 7) % len(PASTED)] for n in range(60))
ESCAPED = ["\x01\x02\x1f", '\\"', "\t\n", "\x7f\x00", MIXED[:300]]


@pytest.mark.parametrize(
    "escaped", ESCAPED, ids=["control", "quote", "tab-newline", "del-nul", "mixed"]
)
async def test_memories_that_json_escapes_are_restored_within_every_budget(
    app: AppState, workspace: Path, escaped: str
) -> None:
    ws = await opened(app, workspace)
    for n in range(6):
        await app.save(
            ws,
            wire.SaveArgs(
                notes=[(f"note {n}.{i} " + escaped * (40 + 30 * i))[:4_900] for i in range(10)],
                open_items=[(f"item {n}.{i} " + escaped * 60)[:4_900] for i in range(10)],
                state={f"key {n}.{i}": (escaped * 100)[:9_900] for i in range(10)},
                decisions=[
                    wire.DecisionArg(title=f"t {n}.{i}", decision=("x " + escaped * 200)[:4_900])
                    for i in range(5)
                ],
            ),
        )
    for budget in range(300, 8_001, 350):
        answer = restore_answer(await app.restore(ws, wire.RestoreArgs(max_tokens=budget)))
        brief = wire.RestoreResult.model_validate(answer.structured)
        sent = estimate_tokens(answer.text) + estimate_tokens(compact_json(answer.structured))
        assert brief.tokens == sent <= budget
        # The first decision, cut if need be (at 300 tokens 100 characters of it, escaped
        # 6 to 1 and said twice, do not fit).
        assert brief.decisions or budget < 1_000, budget
