"""Chinese and Japanese are written without spaces: the memory index's tokenizer keeps a run
of such characters as one term, so a query for a word inside a sentence (`缓存` in
`使用缓存策略…`) found nothing. Runs of Han and kana are indexed as their character pairs too,
and a query's runs are looked up by theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from ocp_server.cjk_terms import cjk_pairs
from ocp_server.db import connect
from ocp_server.memory import MemoryStore
from ocp_server.migrations import MIGRATIONS, m031_memory_cjk_pairs, migrate

CHINESE = "使用缓存策略可以减少数据库查询"
JAPANESE = "キャッシュの有効期限は五分に設定する"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[MemoryStore]:
    conn = await connect(tmp_path / ".ocp" / "ocp.db")
    yield MemoryStore(conn)
    await conn.close()


def test_pairs_are_of_han_and_kana_runs_only() -> None:
    assert cjk_pairs("缓存策略") == ["缓存", "存策", "策略"]
    assert cjk_pairs("use 缓存 and キャッシュ") == ["缓存", "キャ", "ャッ", "ッシ", "シュ"]
    assert cjk_pairs("ascii words, café, 한국어 단어, 缓") == []


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("缓存", [CHINESE]),
        ("数据库查询", [CHINESE]),
        ("有効期限", [JAPANESE]),
        ("キャッシュ", [JAPANESE]),
        ("what is the 缓存", [CHINESE]),
    ],
)
async def test_a_query_finds_a_word_inside_a_sentence(
    store: MemoryStore, query: str, found: list[str]
) -> None:
    sid = await store.start_session("/ws")
    await store.save(sid, notes=[CHINESE, JAPANESE, "数据同步很慢", "policy of retries"])
    brief = await store.restore(query=query)
    assert [n.text for n in brief.notes][: len(found)] == found
    assert brief.matched >= 1


async def test_a_query_of_pairs_in_no_memory_finds_none(store: MemoryStore) -> None:
    sid = await store.start_session("/ws")
    await store.save(sid, notes=[CHINESE, JAPANESE])
    assert (await store.restore(query="网络协议")).matched == 0


async def test_memories_indexed_before_are_indexed_with_their_pairs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await aiosqlite.connect(path, isolation_level=None)
    await migrate(old, tuple(m for m in MIGRATIONS if m is not m031_memory_cjk_pairs))
    await old.execute("INSERT INTO sessions (id, workspace, started_at) VALUES ('s', '/ws', 1.0)")
    await old.execute(
        "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
        "VALUES ('s', 2.0, 'note', ?, 2.0)",
        (CHINESE,),
    )
    await old.execute(
        "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('note', '1', ?)", (CHINESE,)
    )
    await old.execute("INSERT INTO memory_refs (id, kind, ref_id) VALUES (1, 'note', '1')")
    await old.close()

    db = await connect(path)  # migrates the rest
    try:
        brief = await MemoryStore(db, clock=lambda: 3.0).restore(query="缓存")
        assert [n.text for n in brief.notes] == [CHINESE]
        assert brief.matched == 1
    finally:
        await db.close()
