"""Memories in languages with accents, found as they are written. The memory index keeps a
word without its Latin diacritics (`côté` is `cote`): a restore's query and a save looking for
near-duplicates looked words up as written, so an accented word found nothing (a query of
French or Vietnamese matched no memory, and a save of accented words merged into none)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ocp_client import OCPClient
from ocp_server.db import connect
from ocp_server.memory.folding import TOKENIZER, folded, folded_text
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env

FRENCH = "Décision : le cache côté serveur garde les requêtes répétées une heure"
VIETNAMESE = "Bộ nhớ đệm phía máy chủ giữ những truy vấn lặp lại trong một giờ để giảm độ trễ"


async def test_an_accented_query_finds_the_memories_that_hold_its_words(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    others = [f"note {n} about the build cache and the release train" for n in range(12)]
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        saved = await client.save(notes=[FRENCH, VIETNAMESE, *others])
        french, vietnamese = saved.note_ids[:2]
        asked = (("côté serveur", french), ("répétées", french), ("độ trễ", vietnamese))
        for query, wanted in asked:
            brief = await client.restore(query, max_tokens=300)
            assert brief.notes and brief.notes[0].id == wanted, query
            assert brief.brief.index(f"#{wanted}") < brief.brief.index("note 11"), query


async def test_a_near_identical_save_of_accented_words_merges(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # Every word accented: looked up as written, none of them was in the memory index.
    text = "Bộ nhớ đệm phía máy chủ giữ những câu hỏi lặp lại một giờ để giảm độ trễ"
    assert not any(word.isascii() for word in text.split())
    others = [f"Ghi chú {n}: thư mục bản dựng số {n} đã xoá" for n in range(12)]
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        saved = await client.save(notes=[text, *others])
        again = await client.save(notes=[text.replace("một giờ", "hai giờ")])
    assert [(m.item, m.into) for m in again.merged] == [("notes[0]", saved.note_ids[0])]


def test_words_fold_as_the_memory_index_keeps_them() -> None:
    """`folded` is the memory index's own tokenizer: every accented letter of Latin, Greek and
    Cyrillic comes out as the table the migration made keeps it."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    letters = [chr(c) for c in (*range(0xC0, 0x250), *range(0x370, 0x530), *range(0x1E00, 0x1F00))]
    for n, letter in enumerate(letters):
        db.execute("INSERT INTO t (rowid, x) VALUES (?, ?)", (n, f"x{letter}y"))
    kept: dict[int, list[str]] = {}
    for doc, term in db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
        kept.setdefault(doc, []).append(term)
    assert [folded(f"x{letter}y") for letter in letters] == [
        tuple(kept.get(n, ())) for n in range(len(letters))
    ]
    assert folded_text("verifyToken côté") == "verifyToken cote"


async def test_the_tokenizer_is_the_memory_index_s(tmp_path: Path) -> None:
    db = await connect(tmp_path / "ocp.db")
    try:
        rows = await db.execute_fetchall("SELECT sql FROM sqlite_master WHERE name = 'memory_fts'")
    finally:
        await db.close()
    assert f"tokenize='{TOKENIZER}'" in str(next(iter(rows))[0])
