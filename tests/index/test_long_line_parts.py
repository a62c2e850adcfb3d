"""A line longer than a chunk's characters is cut into pieces: a hit on one says it is a part."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.views import search_answer

# one 20,000-character line of distinct words, a rare one near its middle
WORDS = [f"w{i:05d}" for i in range(2858)]
WORDS[1430] = "zanzibar"
LINE = " ".join(WORDS)[:20_000]


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[WorkspaceIndex]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "data.txt").write_text(f"{LINE}\n", encoding="utf-8")
    (root / "short.txt").write_text("zanzibar on a short line\n", encoding="utf-8")
    idx = await WorkspaceIndex.open(root, tmp_path / "db" / "ocp.db")
    await idx.update()
    yield idx
    await idx.close()


async def test_a_hit_on_part_of_a_long_line_says_so(index: WorkspaceIndex) -> None:
    assert len(LINE) == 20_000
    results = (await index.search("zanzibar", k=5)).results
    (part,) = [r for r in results if r.path == "data.txt"]
    assert part.citation == "data.txt:1-1" and "zanzibar" in part.text
    assert part.truncated  # only part of line 1
    assert part.part_of_line is not None and part.part_of_line.line == 1
    assert len(part.text) < len(LINE) and part.text in LINE
    (whole,) = [r for r in results if r.path == "short.txt"]
    assert not whole.truncated and whole.part_of_line is None


@pytest.mark.parametrize("group_by_file", [False, True])
async def test_the_answer_and_its_text_say_it_is_a_part(
    index: WorkspaceIndex, group_by_file: bool
) -> None:
    response = await index.search("zanzibar", k=5, group_by_file=group_by_file)
    answer = search_answer(response, group_by_file=group_by_file)
    out = answer.structured
    hits = out["results"] or [h for f in out["files"] for h in f["hits"]]
    by_path = {h["path"]: h for h in hits}
    assert by_path["data.txt"]["truncated"] is True
    assert by_path["data.txt"]["part_of_line"]["line"] == 1
    assert by_path["short.txt"]["part_of_line"] is None
    assert re.search(r"data\.txt:1-1 \(characters \d+-\d+ of line 1, which is longer", answer.text)


def test_the_search_command_says_it_is_a_part(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text(f"{LINE}\n", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocp_server.cli",
            "--workspace",
            str(tmp_path),
            "search",
            "zanzibar",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    printed = " ".join(done.stdout.split())  # the console wraps long lines at spaces
    assert re.search(r"data\.txt:1-1 \(characters \d+-\d+ of line 1, which is longer", printed)
