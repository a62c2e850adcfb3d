"""A near-identical save merges into the memory it repeats whatever the server counted before:
after a restart (a new window, the IDE reopened) as in the process that saved it. Which words
a save looks near-duplicates up by came from what this process had counted (its first 64
uncounted words): after a restart only a text's first words, so notes written to one pattern
(a report's fixed opening, then the details) found none of the others by their details, and
each near-identical save after a restart was kept as a duplicate."""

from __future__ import annotations

import random
from pathlib import Path

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env

# A report's fixed opening (a checklist every session fills in): 210 distinct words, more than a
# save looked up in a text whose words it had not counted (64 at a time, three times a save).
_SYLLABLES = ("ka", "lo", "mi", "nu", "pe", "ri", "so", "tu", "va", "ze", "qu", "xo")


def _word(rnd: random.Random) -> str:
    return "".join(rnd.choice(_SYLLABLES) for _ in range(4))


def _reports(count: int) -> list[str]:
    rnd = random.Random(5)
    opening = " ".join(dict.fromkeys(_word(rnd) for _ in range(240)))
    assert len(opening.split()) > 200
    return [
        f"{opening} details " + " ".join(f"d{rnd.randrange(10**6)}z" for _ in range(30))
        for _ in range(count)
    ]


async def test_a_near_identical_note_saved_after_a_restart_merges(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    reports = _reports(40)
    env = server_env(workspace, fake_ollama)
    async with OCPClient(env=env) as client:
        saved = await client.save(notes=reports)
    assert len(set(saved.note_ids)) == 40 and not saved.merged
    merged = []
    for k in (3, 17, 29, 38):
        again = reports[k].rsplit(" ", 1)[0] + " d7z"  # its last detail corrected
        async with OCPClient(env=env) as client:  # a new server each time: nothing counted
            result = await client.save(notes=[again])
        merged += [(m.item, m.into) for m in result.merged]
    assert merged == [("notes[0]", saved.note_ids[k]) for k in (3, 17, 29, 38)]
