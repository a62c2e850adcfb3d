"""Source files saved in an encoding other than plain UTF-8 are indexed as their text: UTF-8
with a byte-order mark (the mark is no character of line 1), UTF-16 or UTF-32 without a mark
(told by its NUL bytes, a binary's never taken for it), and Windows-1252 (`café` kept, not a
replacement character). Lines count as in the file, and every secret check sees that text.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import codecs
import json
import struct
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.memory import NoteIn
from tests.server.app_fixture import opened
from tests.server.citations import opened_repo

MODULE = """def warehouse_rows(table):
    # Lit la table entière, café compris.
    return query(f"SELECT * FROM {table}")


def entrée_totale(rows):
    return sum(row.prix for row in rows)
"""
AWS_KEY = "AKIA" + "Q3EGRWN5XJ7TLMPB"
VALUE = "s3cr3t" + "Value9Q"


def dumped(result: wire.SearchResult) -> str:
    return json.dumps(result.model_dump(mode="json"))


async def skip_reasons(app: AppState, workspace: Path) -> dict[str, str | None]:
    ws = await opened(app, workspace)
    rows = await ws.index.db.execute_fetchall("SELECT path, skip_reason FROM files")
    return {path: reason for path, reason in rows}


async def test_a_utf8_byte_order_mark_is_no_part_of_line_one(
    app: AppState, workspace: Path
) -> None:
    # It stayed as "\ufeff" before `def`: in the answer's text, and glued to the first word
    (workspace / "rows.py").write_bytes(codecs.BOM_UTF8 + MODULE.encode())
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="warehouse_rows"))
    top = result.results[0]
    assert (top.path, top.start_line) == ("rows.py", 1)
    assert top.text.startswith("def warehouse_rows(table):\n")
    assert "\ufeff" not in dumped(result)


async def test_a_citation_of_a_file_with_a_utf8_mark_holds_its_text(workspace: Path) -> None:
    (workspace / "rows.py").write_bytes(codecs.BOM_UTF8 + MODULE.encode())
    async with opened_repo(workspace) as repo:
        sid = await repo.memory.start_session(str(repo.root))
        await repo.memory.save(sid, notes=[NoteIn("rows by table", ("rows.py:1-3",))])
        ((content,),) = await repo.memory.db.execute_fetchall(
            "SELECT content FROM memory_citations"
        )
    assert content.startswith("def warehouse_rows(table):")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
async def test_a_utf16_file_without_a_mark_is_found_at_the_lines_of_its_text(
    app: AppState, workspace: Path, codec: str
) -> None:
    # Its NUL bytes read as a binary's: it was skipped
    (workspace / "rows.py").write_bytes(MODULE.encode(codec))
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="entrée_totale prix"))
    top = result.results[0]
    assert (top.path, top.start_line, top.end_line) == ("rows.py", 6, 7)
    assert top.text.startswith("def entrée_totale(rows):") and "\x00" not in top.text


CJK_MODULE = """# 仓库报表：读取整张表，逐行汇总金额，再按月份分组。
# 这个模块的注释和字符串大多是中文，只有名字是英文。


def ledger_total(rows):
    \"\"\"把每一行的金额加起来，返回总数；空表返回零。\"\"\"
    return sum(row.amount for row in rows)


连接失败 = "数据库连接失败，请检查网络设置以后再试一次。"
"""


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (CJK_MODULE, "utf-16-le"),
        (CJK_MODULE, "utf-16-be"),
        (MODULE, "utf-32-le"),
        (CJK_MODULE, "utf-32-be"),
    ],
    ids=["cjk-utf-16-le", "cjk-utf-16-be", "utf-32-le", "cjk-utf-32-be"],
)
async def test_a_file_without_a_mark_whose_nul_bytes_are_not_mostly_ascii_is_read_as_text(
    app: AppState, workspace: Path, text: str, codec: str
) -> None:
    # UTF-16 of mostly CJK has NUL high bytes only where it is ASCII; UTF-32 has NULs in
    # every unit: both read as binaries, skipped
    (workspace / "rows.py").write_bytes(text.encode(codec))
    name, lines = ("ledger_total", (5, 7)) if text is CJK_MODULE else ("entrée_totale", (6, 7))
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query=name))
    top = result.results[0]
    assert (top.path, top.start_line, top.end_line) == ("rows.py", *lines)
    assert top.text.startswith(f"def {name}(rows):") and "\x00" not in top.text


async def test_a_binary_of_numbers_read_as_utf32_or_cjk_utf16_stays_skipped(
    app: AppState, workspace: Path
) -> None:
    # 32-bit numbers below U+110000 have UTF-32's NUL top bytes, and 16-bit ones decode as
    # UTF-16 (a few with NUL high bytes): neither reads as lines of a few scripts
    ids = [0x10000 + n * 7919 % 0xF0000 for n in range(512)]
    (workspace / "ids.bin").write_bytes(struct.pack("<512I", *ids))
    (workspace / "ids_be.bin").write_bytes(struct.pack(">512I", *ids))
    glyphs = [0x100 + n * 241 % 0xD700 for n in range(511)] + [10]  # a line break: no text yet
    (workspace / "glyphs.bin").write_bytes(struct.pack("<512H", *glyphs) + b"\x20\x00" * 9)
    (workspace / "runs.bin").write_bytes(
        struct.pack("<512I", *(0x20 + n % 0xFFE0 for n in range(512)))
    )
    reasons = await skip_reasons(app, workspace)
    for name in ("ids.bin", "ids_be.bin", "glyphs.bin", "runs.bin"):
        assert reasons.get(name, "binary") == "binary", name


async def test_a_binary_with_a_utf16_like_pattern_of_nul_bytes_stays_skipped(
    app: AppState, workspace: Path
) -> None:
    # 16-bit samples below 256 have UTF-16's NUL high bytes: NUL and control characters
    # among them say it is no text. So does a lone surrogate.
    (workspace / "samples.raw").write_bytes(struct.pack("<512H", *(n % 256 for n in range(512))))
    (workspace / "levels.raw").write_bytes(struct.pack("<512H", *(1 + n % 31 for n in range(512))))
    (workspace / "names.dat").write_bytes("table_name ".encode("utf-16-le") * 20 + b"\x00\xdc")
    reasons = await skip_reasons(app, workspace)
    for name in ("samples.raw", "levels.raw", "names.dat"):
        assert reasons.get(name, "binary") == "binary", name


async def test_a_utf8_text_with_nul_bytes_on_one_side_stays_skipped(
    app: AppState, workspace: Path
) -> None:
    # NUL-separated records of UTF-8 (odd lengths with their NUL: every NUL on one side of
    # the 16-bit units) read as UTF-16 pair their letters into CJK-looking characters; that is
    # 8-bit text with NUL bytes, no UTF-16 (`xargs -0` input, a record file)
    for name, words in (
        ("ascii.dat", "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega"),
        ("utf8.dat", "entrée plat café crème brûlée thé soupe pain vin fromage fruit"),
    ):
        listed = words.split()
        records = [" ".join(listed[i % 11 : i % 11 + 1 + i % 3]).encode() for i in range(400)]
        data = b"".join(r + b"\0" if len(r) % 2 else r + b"!\0" for r in records)
        assert len(data) % 2 == 0 and data[0::2].count(0) == 0  # every NUL a high byte
        (workspace / name).write_bytes(data[:200] + b"\n\0" + data[200:])
    reasons = await skip_reasons(app, workspace)
    for name in ("ascii.dat", "utf8.dat"):
        assert reasons.get(name, "binary") == "binary", name


async def test_a_secret_in_a_utf16_file_without_a_mark_is_hidden(
    app: AppState, workspace: Path
) -> None:
    planted = MODULE + f'\nAWS_KEY = "{AWS_KEY}"\n'
    (workspace / "deploy.py").write_bytes(planted.encode("utf-16-le"))
    ws = await opened(app, workspace)
    for query in (AWS_KEY, "AWS_KEY", "warehouse_rows"):
        result = await app.search(ws, wire.SearchArgs(query=query))
        assert AWS_KEY not in dumped(result)
    assert any(r.path == "deploy.py" for r in result.results)


async def test_a_cp1252_file_keeps_its_accented_words(app: AppState, workspace: Path) -> None:
    # `é` (0xE9) is no UTF-8: it was stored as a replacement character, and `entrée_totale`
    # was found by no query naming it
    (workspace / "rows.py").write_bytes(MODULE.encode("cp1252"))
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="entrée_totale"))
    top = result.results[0]
    assert (top.path, top.start_line, top.end_line) == ("rows.py", 6, 7)
    assert top.text.startswith("def entrée_totale(rows):")
    assert "\ufffd" not in dumped(result)


async def test_a_citation_of_a_cp1252_file_counts_its_lines(workspace: Path) -> None:
    # 0x85 is `…` in Windows-1252, not a line break (Latin-1's NEL): the lines stay the file's
    text = "# Résumé… des lignes\n" * 3 + MODULE
    (workspace / "rows.py").write_bytes(text.encode("cp1252"))
    async with opened_repo(workspace) as repo:
        sid = await repo.memory.start_session(str(repo.root))
        await repo.memory.save(sid, notes=[NoteIn("totals", ("rows.py:9-10",))])
        ((start, end, content),) = await repo.memory.db.execute_fetchall(
            "SELECT start_line, end_line, content FROM memory_citations"
        )
    assert (start, end) == (9, 10) and content.startswith("def entrée_totale(rows):")


async def test_a_value_a_cp1252_file_names_as_secret_is_hidden_where_it_repeats(
    app: AppState, workspace: Path
) -> None:
    steps = "".join(f"    journal('étape {n}')\n" for n in range(40))
    text = (
        f'DB_PASSWORD = "{VALUE}"\n\n'
        + MODULE
        + f'\n\ndef ouvrir_entrepôt():\n    connect(user="sa", password="{VALUE}")\n{steps}'
    )
    (workspace / "db.py").write_bytes(text.encode("cp1252"))
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="ouvrir_entrepôt connect", k=1))
    assert result.results and result.results[0].path == "db.py"
    assert "connect(" in result.results[0].text and VALUE not in dumped(result)


async def test_a_latin1_line_in_a_utf8_file_keeps_both(app: AppState, workspace: Path) -> None:
    # One line pasted from a Latin-1 file: the UTF-8 lines stay UTF-8, that one reads as cp1252
    data = "def naïve_sum(xs):\n".encode() + "    # somme entière\n".encode("cp1252")
    (workspace / "mixed.py").write_bytes(data + b"    return sum(xs)\n")
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="naïve_sum"))
    assert result.results[0].text.startswith("def naïve_sum(xs):\n    # somme entière\n")
