"""Rows a save or a restore picks by id (a save's near-duplicate candidates, a query's
matches) are read by their primary key. Without ANALYZE's statistics SQLite took the live
conditions (`status = 'active' AND retired IS NULL`, a note's kind) for the more selective
and walked an index over every live memory of the kind instead: each of a save's up to 300
candidate reads, and a restore's query, cost time in proportion to the whole memory (10,000
decisions: 2.5-3 ms a read instead of 0.2-0.3 ms)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import aiosqlite
import pytest

from ocp_server.memory import DecisionIn, MemoryStore

_BY_ID = re.compile(r"\b(id|key) IN \((\?|:i0)")
_TABLES = ("decisions", "notes", "traces", "sessions")


async def test_memories_picked_by_id_are_read_by_their_primary_key(
    db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore(db)
    sid = await store.start_session("/ws")
    words = [f"w{n}q" for n in range(40)]
    for n in range(30):
        text = " ".join(words[(n + k) % 40] for k in range(12))
        await store.save(
            sid,
            decisions=[DecisionIn(f"choice {n}", text, "because")],
            notes=[f"note {text}"],
            open_items=[f"open {text}"],
            state={f"key{n}": text},
        )
    picked: list[tuple[str, Iterable[Any] | Mapping[str, Any]]] = []
    fetch = store._fetch

    async def recorded(sql: str, args: Iterable[Any] | Mapping[str, Any] = ()) -> list[Any]:
        if _BY_ID.search(sql):
            picked.append((sql, args))
        return await fetch(sql, args)

    monkeypatch.setattr(store, "_fetch", recorded)
    text = " ".join(words[(3 + k) % 40] for k in range(12))
    again = await store.save(
        sid,
        decisions=[DecisionIn("choice 3", text.replace("w5q", "w99q"))],
        notes=[f"note {text}"],
        open_items=[f"open {text}"],
    )
    assert again.merged  # candidates were read
    brief = await store.restore(query="w7q w8q choice", max_tokens=20_000)
    assert brief.matched
    kinds = {table for sql, _ in picked for table in _TABLES if f"FROM {table}" in sql}
    assert kinds >= {"decisions", "notes"}
    scans = []
    for sql, args in picked:
        plan = await db.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", args)
        for row in plan:
            detail = str(row[3])
            table = next((t for t in _TABLES if re.search(rf"\b{t}\b", detail)), None)
            if table and "PRIMARY KEY" not in detail and "sqlite_autoindex" not in detail:
                scans.append((sql.split("WHERE")[0][-60:], detail))
    assert scans == []
