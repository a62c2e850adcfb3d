"""Chinese and Japanese are written without spaces: the memory index's tokenizer keeps a run
of such characters as one term, so a query for a word inside a sentence (`缓存` in
`使用缓存策略…`) found nothing. Runs of Han and kana are indexed as their character pairs too,
and a query's runs are looked up by theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.cjk_terms import by_prefix, cjk_pairs, cjk_terms, korean_stem
from ocp_server.db import connect
from ocp_server.memory import MemoryStore
from ocp_server.migrations import (
    m031_memory_cjk_pairs,
    m032_memory_cjk_run_ends,
)
from tests.server.memory_fixtures import database_before

CHINESE = "使用缓存策略可以减少数据库查询"
JAPANESE = "キャッシュの有効期限は五分に設定する"


def test_pairs_are_of_han_and_kana_runs_only() -> None:
    assert cjk_pairs("缓存策略") == ["缓存", "存策", "策略"]
    assert cjk_pairs("use 缓存 and キャッシュ") == ["缓存", "キャ", "ャッ", "ッシ", "シュ"]
    assert cjk_pairs("ascii words, café, 한국어 단어, 缓") == []


def test_each_run_is_indexed_with_its_last_character_and_which_words_are_starts() -> None:
    assert cjk_terms("缓存策略 and 加锁") == ["缓存", "存策", "策略", "加锁", "略", "锁"]
    assert cjk_terms("锁 alone, 한국어") == []  # a run of one is a term of its own
    assert [by_prefix(w) for w in ("锁", "鍵", "の", "캐시", "缓存", "cache", "é", "1")] == [
        True, True, True, True, False, False, False, False,
    ]  # fmt: skip
    stems = [korean_stem(w) for w in ("캐시가", "요청에서", "캐시", "사이", "고양이")]
    assert stems == ["캐시", "요청", "캐시", "사이", "고양"]  # (two syllables left at least)


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
    old = await database_before(path, m031_memory_cjk_pairs)
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


LOCK_START = "锁的粒度太粗会拖慢写入"
LOCK_INSIDE = "使用锁来保护共享状态"
LOCK_END = "这里的计数器需要加锁"
KEY_INSIDE = "暗号鍵は毎月更新する"
KEY_END = "署名には秘密の鍵"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("锁", {LOCK_START, LOCK_INSIDE, LOCK_END}),
        ("鍵", {KEY_INSIDE, KEY_END}),
        ("询", {CHINESE}),  # the last character of a sentence
        ("the 锁", {LOCK_START, LOCK_INSIDE, LOCK_END}),
    ],
)
async def test_a_one_character_query_finds_the_memories_holding_it(
    store: MemoryStore, query: str, found: set[str]
) -> None:
    # A Chinese or Japanese word of one character (锁 lock, 鍵 key) is found wherever a
    # sentence has it: at its start, inside it, at its end.
    sid = await store.start_session("/ws")
    others = [CHINESE, JAPANESE, "数据同步很慢", "policy of retries"]
    await store.save(sid, notes=[LOCK_START, LOCK_INSIDE, LOCK_END, KEY_INSIDE, KEY_END, *others])
    brief = await store.restore(query=query)
    assert {n.text for n in brief.notes[: len(found)]} == found
    assert brief.matched == len(found)


KOREAN_CACHE = "캐시를 비우면 첫 요청이 느려진다"
KOREAN_CONFIG = "설정 파일은 저장소 한 곳에 둔다"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("캐시", [KOREAN_CACHE]),  # written 캐시를, the object particle attached
        ("요청", [KOREAN_CACHE]),  # 요청이
        ("설정", [KOREAN_CONFIG]),  # as written
        ("캐시가", [KOREAN_CACHE]),  # the subject particle for the object one
        ("요청에서", [KOREAN_CACHE]),
        ("저장소", [KOREAN_CONFIG]),
    ],
)
async def test_a_korean_word_finds_it_with_a_particle_attached(
    store: MemoryStore, query: str, found: list[str]
) -> None:
    sid = await store.start_session("/ws")
    await store.save(sid, notes=[KOREAN_CACHE, KOREAN_CONFIG, CHINESE, "cache policy"])
    brief = await store.restore(query=query)
    assert [n.text for n in brief.notes][: len(found)] == found
    assert brief.matched == len(found)


async def test_memories_indexed_before_find_their_last_characters(tmp_path: Path) -> None:
    # Indexed with their pairs only (m031): the last character of a run (询 of 查询) was in
    # no term but the pair ending with it.
    path = tmp_path / "old.db"
    old = await database_before(path, m032_memory_cjk_run_ends)
    for n, text in enumerate((CHINESE, LOCK_END), 1):
        await old.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
            "VALUES ('s', 2.0, 'note', ?, 2.0)",
            (text,),
        )
        await old.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('note', ?, ?)",
            (str(n), f"{text}\n{' '.join(cjk_pairs(text))}"),
        )
        await old.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (?, 'note', ?)", (n, str(n))
        )
    await old.close()

    db = await connect(path)  # migrates the rest
    try:
        store = MemoryStore(db, clock=lambda: 3.0)
        for query, found in (("询", CHINESE), ("锁", LOCK_END)):
            brief = await store.restore(query=query)
            assert (brief.notes[0].text, brief.matched) == (found, 1)
        # the pairs are still there, once
        rows = await db.execute_fetchall("SELECT text FROM memory_fts ORDER BY rowid")
        assert [r[0] for r in rows] == [
            f"{CHINESE}\n{' '.join(cjk_pairs(CHINESE))} 询",
            f"{LOCK_END}\n{' '.join(cjk_pairs(LOCK_END))} 锁",
        ]
    finally:
        await db.close()
