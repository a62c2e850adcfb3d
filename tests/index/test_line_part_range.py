"""A hit on a piece of a line longer than a chunk says which characters of the line it holds
(`part_of_line`: the line, the first and the last character, counted from 1), so an agent can
open the file there: in the search's results, the tool's answer, its text and the CLI's JSON,
for an index built now and for one built before the pieces' starts were stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aiosqlite

import ocp_wire as wire
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.views import search_answer
from tests.index.built import built_index

# one 20,000-character line of distinct words (a rare one near its middle), after a short one
WORDS = [f"w{i:05d}" for i in range(2858)]
WORDS[1430] = "zanzibar"
LINE = " ".join(WORDS)[:20_000]
FILES = {"data.txt": f"intro\n{LINE}\n", "short.txt": "zanzibar on a short line\n"}


def _shown(text: str, part: wire.LinePart | dict[str, int] | None) -> str:
    """The characters of the long line a hit's `part_of_line` names."""
    assert part is not None
    p = part if isinstance(part, wire.LinePart) else wire.LinePart.model_validate(part)
    assert p.line == 2
    return LINE[p.start - 1 : p.end]


async def test_a_hit_on_a_piece_says_which_characters_of_its_line_it_holds(
    tmp_path: Path,
) -> None:
    async with built_index(tmp_path / "ws", FILES, tmp_path / "ocp.db") as index:
        # a word of the first piece, of the middle one and of the last
        for word in ("w00003", "zanzibar", "w02800"):
            results = (await index.search(word, k=5)).results
            (part,) = [r for r in results if r.path == "data.txt"]
            assert part.truncated and word in part.text
            assert _shown(part.text, part.part_of_line) == part.text
        middle = [r for r in (await index.search("zanzibar", k=5)).results]
    starts = {r.path: r.part_of_line for r in middle}
    assert starts["short.txt"] is None
    assert starts["data.txt"] is not None and starts["data.txt"].start > 1


async def test_a_piece_after_a_blank_run_of_its_line_is_a_part_from_where_it_starts(
    tmp_path: Path,
) -> None:
    # the line's first 8,192 characters are blank: no chunk holds them, one piece holds the rest
    line = " " * 9000 + "zanzibar tail"
    async with built_index(tmp_path / "ws", {"pad.txt": f"x\n{line}\n"}, tmp_path / "o.db") as ix:
        (hit,) = (await ix.search("zanzibar", k=5)).results
    assert hit.truncated
    assert hit.part_of_line == wire.LinePart(line=2, start=8193, end=len(line))
    assert line[8192:] == hit.text


async def test_the_answer_and_its_text_give_the_characters(tmp_path: Path) -> None:
    async with built_index(tmp_path / "ws", FILES, tmp_path / "ocp.db") as index:
        response = await index.search("zanzibar", k=5)
    answer = search_answer(response)
    by_path = {h["path"]: h for h in answer.structured["results"]}
    part = by_path["data.txt"]["part_of_line"]
    assert set(part) == {"line", "start", "end"}
    assert _shown(by_path["data.txt"]["text"], part) == by_path["data.txt"]["text"]
    assert by_path["short.txt"]["part_of_line"] is None
    start, end = part["start"], part["end"]
    said = f"data.txt:2-2 (characters {start}-{end} of line 2, which is longer than a chunk)"
    assert said in answer.text
    wire.SearchResult.model_validate(answer.structured)  # the wire model, field for field


async def test_a_database_from_before_the_starts_were_stored_gets_them_at_its_next_update(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db) as index:
        fresh = (await index.search("zanzibar", k=5)).results
    async with aiosqlite.connect(db) as conn:  # as a server from before the column left it
        await conn.execute("ALTER TABLE chunks DROP COLUMN line_from")
        await conn.execute("DELETE FROM _migrations WHERE name = 'm035_chunk_line_from'")
        await conn.commit()
    index = await WorkspaceIndex.open(tmp_path / "ws", db)
    try:
        summary = await index.update()
        again = (await index.search("zanzibar", k=5, refresh=False)).results
    finally:
        await index.close()
    assert summary is not None and summary.changed == 1  # data.txt read again, not short.txt
    assert [r.part_of_line for r in again] == [r.part_of_line for r in fresh]
    assert any(r.part_of_line is not None for r in again)


async def test_a_kept_piece_whose_start_moved_gets_its_new_start(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    async with built_index(root, FILES, tmp_path / "ocp.db") as index:
        fresh = (await index.search("zanzibar", k=5)).results
        await index.db.execute("UPDATE chunks SET line_from = 7 WHERE line_from IS NOT NULL")
        await index.db.commit()
        (root / "data.txt").write_text(f"intro\n{LINE}\nmore\n")  # the pieces kept as they are
        await index.update()
        again = (await index.search("zanzibar", k=5)).results
    assert [r.part_of_line for r in again] == [r.part_of_line for r in fresh]


def test_the_search_command_json_carries_every_field_of_the_tool_s_hit(tmp_path: Path) -> None:
    for rel, text in FILES.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(tmp_path)]
        + ["search", "zanzibar", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OCP_DB_PATH": str(tmp_path.parent / "cli.db")},
    )
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits and all(list(hit) == list(wire.SearchHit.model_fields) for hit in hits)
    for hit in hits:
        wire.SearchHit.model_validate(hit)
    by_path = {h["path"]: h for h in hits}
    assert by_path["data.txt"]["truncated"] is True
    assert (
        _shown(by_path["data.txt"]["text"], by_path["data.txt"]["part_of_line"])
        == (by_path["data.txt"]["text"])
    )
