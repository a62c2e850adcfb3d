"""Two IDE windows on one workspace: two ocp-server processes over stdio save and restore the
same memory at once, 200 calls each. No call fails ("database is locked" never reaches the
agent), no save is lost, no id is handed out twice, and a restore never shows half a save."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from pathlib import Path
from typing import Any

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.fuzzing import text_of
from tests.server.stdio_env import server_env

CALLS = 200
# Distinct words, so that no two saves are near-identical (they would merge).
_SYLLABLES = ("ka", "lo", "mi", "nu", "pe", "ri", "so", "tu", "va", "ze", "qu", "xo")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(5))


def _save_args(window: int, n: int, rng: random.Random) -> dict[str, Any]:
    """One save of three parts that belong together: a decision, a note and two state keys,
    all marked `w<window>s<n>`. A restore must show all of a save's parts or none."""
    mark = f"w{window}s{n}"
    words = " ".join(_word(rng) for _ in range(8))
    return {
        "decisions": [{"title": f"{mark} {_word(rng)}", "decision": f"{mark} {words} ünï 🧪"}],
        "notes": [f"{mark} note {' '.join(_word(rng) for _ in range(8))}"],
        "state": {f"pair{window}.a": mark, f"pair{window}.b": mark},
        "open_items": [f"{mark} open {_word(rng)} {_word(rng)}"] if n % 5 == 0 else [],
    }


def _half_saves(brief: dict[str, Any]) -> list[str]:
    """Saves whose parts the restore shows only some of."""
    half = []
    for window in (0, 1) if not brief["omitted"].get("state") else ():
        a, b = brief["state"].get(f"pair{window}.a"), brief["state"].get(f"pair{window}.b")
        if a != b:
            half.append(f"state pair{window}: {a} != {b}")
    # A save's decision and note are both shown unless the budget left one out.
    decisions = {re.match(r"w\ds\d+", d["title"])[0] for d in brief["decisions"]}  # type: ignore[index]
    notes = {m[0] for n in brief["notes"] if (m := re.match(r"w\ds\d+", n["text"]))}
    if not brief["omitted"].get("decisions") and not brief["omitted"].get("notes"):
        half += [f"decision without note: {m}" for m in decisions - notes]
        half += [f"note without decision: {m}" for m in notes - decisions]
    return half


async def test_two_windows_saving_and_restoring_one_memory_lose_nothing_and_never_show_half_a_save(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    db_path = workspace.parent / "shared.db"
    env = server_env(workspace, fake_ollama, db_path=db_path)
    both_open = asyncio.Barrier(2)

    async def window(n: int) -> tuple[list[str], list[str], list[int], list[int], int]:
        rng = random.Random(n)
        errors: list[str] = []
        half: list[str] = []
        note_ids: list[int] = []
        decision_ids: list[int] = []
        saves = 0
        # Each window opens and closes its client in its own task, as the SDK requires.
        async with OCPClient(env=env) as client:
            await both_open.wait()
            for i in range(CALLS):
                if rng.random() < 0.5:
                    result = await client.call("ocp_result_save", _save_args(n, i, rng))
                    if not result.is_error:
                        saves += 1
                        note_ids += result.structured_content["note_ids"]
                        decision_ids += result.structured_content["decision_ids"]
                else:
                    result = await client.call("ocp_session_restore", {"max_tokens": 20_000})
                    if not result.is_error:
                        assert result.structured_content, text_of(result)[:300]
                        half += _half_saves(result.structured_content)
                if result.is_error:
                    errors.append(text_of(result))
        return errors, half, note_ids, decision_ids, saves

    async with asyncio.timeout(300):
        results = await asyncio.gather(window(0), window(1))
    errors = [e for r in results for e in r[0]]
    half = [h for r in results for h in r[1]]
    note_ids = [i for r in results for i in r[2]]
    decision_ids = [i for r in results for i in r[3]]
    saves = sum(r[4] for r in results)
    assert errors == [], errors[:3]
    assert half == [], half[:5]
    assert len(set(note_ids)) == len(note_ids) == saves  # no id handed out twice, none merged
    assert len(set(decision_ids)) == len(decision_ids) == saves
    with sqlite3.connect(db_path) as db:
        stored = {r[0] for r in db.execute("SELECT id FROM notes WHERE kind = 'note'")}
        decided = {r[0] for r in db.execute("SELECT id FROM decisions")}
    assert stored == set(note_ids) and decided == set(decision_ids)  # no save lost
