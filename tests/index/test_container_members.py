"""A hit on a container whose members are chunks of their own (a class's header line, a Rust
`impl`, a Go or Rust struct) lists those members with their lines, in the structured answer,
its text and the CLI's: a one-line `class ProgressBar(...)` hit said nothing of what the class
holds, and the agent had to open the file to learn where its methods are."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ocp_wire as wire
from ocp_server.index.members import FileOutlines, OutlineRow, members_tokens
from ocp_server.views import search_answer
from tests.index.built import built_index

# A class without a docstring: its header chunk is its one line, each method its own chunk.
PY = "\n".join(
    ["import os", "", "", "class Zephyrbar:"]
    + [
        line
        for i in range(30)
        for line in (
            f"    def step_{i:02d}(self, value):",
            f"        total = value * {i} + os.getpid()",
            "        return total",
            "",
        )
    ]
    + ["", "def helper_after():", "    return Zephyrbar()", ""]
)

# Two impl blocks of one struct: each block holds its own methods; the struct has them all.
RS = """pub struct Quokkasearch {
    config: u32,
}

impl Quokkasearch {
    pub fn new() -> Quokkasearch {
        Quokkasearch { config: 0 }
    }

    pub fn search_path(&self) -> u32 {
        self.config + 1
    }
}

fn unrelated_between() -> u32 {
    7
}

impl Quokkasearch {
    pub fn line_number(&self) -> u32 {
        self.config + 2
    }
}
"""


def _by_symbol(results: list[dict[str, Any]]) -> dict[object, dict[str, Any]]:
    return {(h["kind"], h["symbol"]): h for h in results}


async def test_a_class_header_hit_lists_its_methods_with_their_lines(tmp_path: Path) -> None:
    async with built_index(tmp_path / "ws", {"bar.py": PY}, tmp_path / "o.db") as index:
        response = await index.search("Zephyrbar class", k=8)
    (header,) = [r for r in response.results if r.kind == "class"]
    assert (header.start_line, header.end_line) == (4, 4)
    assert header.members_total == 30  # helper_after, outside the class, is not one
    assert len(header.members) == wire.MAX_MEMBERS_LISTED
    first = header.members[0]
    assert (first.symbol, first.kind, first.start_line, first.end_line) == (
        "step_00",
        "method",
        5,
        7,
    )
    assert [m.symbol for m in header.members] == [f"step_{i:02d}" for i in range(24)]
    answer = search_answer(response)
    hit = _by_symbol(answer.structured["results"])[("class", "Zephyrbar")]
    wire.SearchHit.model_validate(hit)
    assert hit["members"][:2] == ["step_00 5-7", "step_01 9-11"]
    assert hit["members_total"] == 30
    assert "[members: step_00 5-7, step_01 9-11," in answer.text
    assert "and 6 more]" in answer.text
    # a method hit is no container: it lists nothing
    assert all(not r.members for r in response.results if r.kind == "method")


async def test_an_impl_hit_lists_its_own_block_and_the_struct_every_method(
    tmp_path: Path,
) -> None:
    async with built_index(tmp_path / "ws", {"src/lib.rs": RS}, tmp_path / "o.db") as index:
        results = (await index.search("Quokkasearch", k=8)).results
    struct = next(r for r in results if r.kind == "struct")
    impls = sorted((r for r in results if r.kind == "impl"), key=lambda r: r.start_line)
    assert [m.symbol for m in struct.members] == ["new", "search_path", "line_number"]
    assert [[m.symbol for m in r.members] for r in impls] == [
        ["new", "search_path"],
        ["line_number"],
    ]


async def test_a_budget_pays_for_the_members_listed(tmp_path: Path) -> None:
    async with built_index(tmp_path / "ws", {"bar.py": PY}, tmp_path / "o.db") as index:
        whole = (await index.search("Zephyrbar", k=8)).results
        header = next(r for r in whole if r.kind == "class")
        listed = members_tokens(header.members)
        assert listed > 100
        (best,) = (await index.search("Zephyrbar", k=1, max_tokens=listed + 80)).results
        # room for the header's line but not for its members: the hit is not given
        tight = (await index.search("Zephyrbar", k=1, max_tokens=listed // 2 + 60)).results
    assert best.kind == "class" and best.members == header.members
    assert all(not r.members for r in tight)


async def test_a_member_name_holding_a_secret_is_hidden(tmp_path: Path) -> None:
    key = "AKIAQ3EGRXMPLKEY7NZB"
    source = (
        f"class Vault:\n    def {key}(self):\n        return 1\n\n"
        "    def other(self):\n        return 2\n"
    )
    async with built_index(tmp_path / "ws", {"vault.py": source}, tmp_path / "o.db") as index:
        response = await index.search("Vault", k=8)
    answer = search_answer(response)
    assert key not in answer.text
    assert key not in str(answer.structured)
    hit = _by_symbol(answer.structured["results"])[("class", "Vault")]
    assert hit["members"][1] == "other 5-6"


def test_a_snapshot_keeps_the_newest_outlines_within_its_bounds() -> None:
    outlines = FileOutlines(max_files=2, max_rows=5)
    row = OutlineRow(1, "f", "function", None, 1, 2)
    outlines.put(1, (row,) * 2)
    outlines.put(2, (row,) * 2)
    outlines.put(3, (row,) * 2)  # a third file: the first goes
    assert [outlines.get(f) is not None for f in (1, 2, 3)] == [False, True, True]
    outlines.put(4, (row,) * 4)  # six rows: the oldest go until five or fewer are kept
    assert [outlines.get(f) is not None for f in (2, 3, 4)] == [False, False, True]
    outlines.put(5, (row,) * 6)  # more rows than all the room: not kept
    assert outlines.get(5) is None and outlines.get(4) is not None


async def test_a_container_hits_members_come_from_the_kept_outline_the_second_time(
    tmp_path: Path,
) -> None:
    async with built_index(tmp_path / "ws", {"bar.py": PY}, tmp_path / "o.db") as index:
        first = (await index.search("Zephyrbar class", k=8)).results
        # the outline is the snapshot's: a change made behind the index's back is not read
        await index.db.execute("UPDATE chunks SET symbol = 'renamed' WHERE kind = 'method'")
        await index.db.commit()
        again = (await index.search("Zephyrbar class", k=8)).results
    header = next(r for r in first if r.kind == "class")
    assert next(r for r in again if r.kind == "class").members == header.members


def _outline_db() -> sqlite3.Connection:
    """A chunks table of two files: file 1 a class with two methods, file 2 a function (no
    redaction flags known)."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE chunks (id INTEGER PRIMARY KEY, file_id INTEGER, symbol TEXT, kind TEXT,"
        " scope TEXT, start_line INTEGER, end_line INTEGER, clean INTEGER)"
    )
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.executemany(
        "INSERT INTO chunks (id, file_id, symbol, kind, scope, start_line, end_line)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (10, 1, "Walrus", "class", None, 1, 1),
            (11, 1, "swim", "method", "Walrus", 2, 4),
            (12, 1, "dive", "method", "Walrus", 5, 9),
            (20, 2, "alone", "function", None, 1, 3),
        ],
    )
    return db


async def test_a_containers_members_are_kept_while_its_files_outline_is_and_found_again_after() -> (
    None
):
    db = _outline_db()
    reads: list[list[object]] = []

    async def read(sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        reads.append(list(params))
        return db.execute(sql, params).fetchall()

    outlines = FileOutlines(max_files=1)
    first = await outlines.members(read, [(10, 1), (20, 2)])
    assert list(first) == [10]  # the function has no members: not listed
    assert [m.symbol for m in first[10].members] == ["swim", "dive"]
    assert first[10].total == 2 and first[10].tokens == members_tokens(first[10].members)
    # file 1's outline was put out by file 2's (one file kept): read and found again
    db.execute("UPDATE chunks SET symbol = 'float' WHERE id = 11")
    again = await outlines.members(read, [(10, 1)])
    assert [m.symbol for m in again[10].members] == ["float", "dive"]
    # kept now: a change behind the snapshot's back is not read, nor is the outline
    db.execute("UPDATE chunks SET symbol = 'sink' WHERE id = 12")
    reads.clear()
    kept = await outlines.members(read, [(10, 1)])
    assert kept == again and reads == []


async def test_a_member_name_holding_a_secret_a_chunk_told_is_hidden_after_a_clean_listing(
    tmp_path: Path,
) -> None:
    value = "Zq8vN3xLp0Rw7Ty"
    source = (
        f"class Vault:\n    def mirror_{value}_handler(self):\n        return 1\n\n"
        f'    def unlock(self):\n        password = "{value}"\n        return password\n'
    )
    async with built_index(tmp_path / "ws", {"vault.py": source}, tmp_path / "o.db") as index:
        alone = search_answer(await index.search("Vault", k=1))
        told = search_answer(await index.search("Vault unlock password", k=8))
    # listed first with no secret in sight: the name as it is
    (header,) = alone.structured["results"]
    assert header["members"][0] == f"mirror_{value}_handler 2-3"
    # the same members beside the chunk that tells the value: hidden in the name too
    hits = told.structured["results"]
    assert any(h["redactions"] for h in hits)
    listed = _by_symbol(hits)[("class", "Vault")]["members"]
    assert value not in " ".join(listed) and listed[1] == "unlock 5-7"
    assert value not in told.text
