"""The chunks table stores its small columns before its blobs (m047): a search's read of a
hit's row stops at its text instead of walking every overflow page of the blobs the later
migrations appended. An index from before keeps every row, index, foreign reference and
answer, and goes on updating."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.migrations import MIGRATIONS, m047_chunks_small_columns_first
from tests.index.built import built_index, write_files

# The chunks table's columns in the order the migrations before m047 left them.
_BEFORE = (
    "id INTEGER PRIMARY KEY, "
    "file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE, "
    "start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, symbol TEXT, kind TEXT NOT NULL, "
    "scope TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL, terms BLOB, pairs BLOB, "
    "names BLOB, length INTEGER, tokens INTEGER, clean INTEGER, tiles BLOB, literals BLOB, "
    "named TEXT, line_from INTEGER"
)
_SMALL = {"id", "file_id", "start_line", "end_line", "line_from", "kind", "symbol", "scope"}
_SMALL |= {"tokens", "clean", "named", "length", "content_hash"}
_PACKED = {"terms", "pairs", "names", "tiles", "literals"}

# A long function (its row spills into overflow pages), a class with methods, a short file.
_BODY = "\n".join(
    f"    total += weight_{i * 7919 % 1000} * factor_{i * 104729 % 997}  # zanzibar {i}"
    for i in range(120)
)
FILES = {
    "calc.py": f"def weighted_total(weights):\n    total = 0\n{_BODY}\n    return total\n",
    "shapes.py": (
        "class Polygon:\n    sides = 0\n\n"
        "    def perimeter(self):\n        return self.sides * self.length\n\n"
        "    def describe(self):\n        return f'polygon of {self.sides} sides'\n"
    ),
    "notes.txt": "zanzibar polygon notes\n",
}


async def _rows(conn: aiosqlite.Connection) -> list[dict[str, object]]:
    conn.row_factory = aiosqlite.Row
    rows = await conn.execute_fetchall("SELECT * FROM chunks ORDER BY id")
    conn.row_factory = None
    return [dict(r) for r in rows]


async def _indexes(conn: aiosqlite.Connection) -> set[tuple[str, str]]:
    rows = await conn.execute_fetchall(
        "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'chunks' AND type != 'table'"
    )
    return {(str(n), str(s)) for n, s in rows}


async def _columns(conn: aiosqlite.Connection) -> list[str]:
    return [str(r[1]) for r in await conn.execute_fetchall("PRAGMA table_info(chunks)")]


async def _as_before(db: Path) -> None:
    """The index at `db` as a server from before m047 left it: the same rows and indexes in
    the old column order, and m047 not run (the next open runs it)."""
    async with aiosqlite.connect(db) as conn:
        indexes = await _indexes(conn)
        await conn.execute(f"CREATE TABLE chunks_old ({_BEFORE})")
        names = ", ".join(c.split()[0] for c in _BEFORE.split(", ") if c[0].islower())
        await conn.execute(f"INSERT INTO chunks_old ({names}) SELECT {names} FROM chunks")
        await conn.execute("DROP TABLE chunks")
        await conn.execute("ALTER TABLE chunks_old RENAME TO chunks")
        for _, sql in sorted(indexes):
            await conn.execute(sql)
        await conn.execute("DELETE FROM _migrations WHERE name = ?", (MIGRATIONS[-1].__name__,))
        await conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        await conn.commit()
        assert (await _columns(conn)).index("line_from") > (await _columns(conn)).index("text")


async def test_an_index_from_before_keeps_its_rows_indexes_and_answers_with_small_columns_first(
    tmp_path: Path,
) -> None:
    assert MIGRATIONS[-1] is m047_chunks_small_columns_first
    db = tmp_path / "ocp.db"
    queries = ("zanzibar weight", "polygon perimeter", "describe sides")
    async with built_index(tmp_path / "ws", FILES, db) as index:
        fresh = [(await index.search(q, k=5, refresh=False)).results for q in queries]
    await _as_before(db)
    async with aiosqlite.connect(db) as conn:
        rows, indexes = await _rows(conn), await _indexes(conn)
    # a row longer than a 1 KB page: it spills into overflow pages
    assert max(sum(len(v) for v in r.values() if isinstance(v, bytes)) for r in rows) > 2048

    index = await WorkspaceIndex.open(tmp_path / "ws", db)
    try:
        again = [(await index.search(q, k=5, refresh=False)).results for q in queries]
    finally:
        await index.close()
    assert again == fresh
    assert all(hit.members for hit in again[1] if hit.kind == "class")  # the outline reads
    async with aiosqlite.connect(db) as conn:
        assert await _rows(conn) == rows
        assert await _indexes(conn) == indexes
        columns = await _columns(conn)
        text = columns.index("text")
        assert set(columns[:text]) == _SMALL and set(columns[text + 1 :]) == _PACKED
        migrated = await conn.execute_fetchall("SELECT name FROM _migrations")
        assert (m047_chunks_small_columns_first.__name__,) in [tuple(r) for r in migrated]
        fks = await conn.execute_fetchall("PRAGMA foreign_key_list(chunks)")
        assert [(r[2], r[3], r[4], r[6]) for r in fks] == [("files", "file_id", "id", "CASCADE")]
        # the foreign reference still deletes a file's chunks with it
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("DELETE FROM files WHERE path = 'notes.txt'")
        await conn.commit()
        left = await conn.execute_fetchall(
            "SELECT count(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)"
        )
        assert list(left) == [(0,)]


async def test_an_index_migrated_from_before_goes_on_updating(tmp_path: Path) -> None:
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db):
        pass
    await _as_before(db)
    write_files(tmp_path / "ws", {"notes.txt": "quokka hexagon notes\n"})
    index = await WorkspaceIndex.open(tmp_path / "ws", db)
    try:
        summary = await index.update()
        hits = (await index.search("quokka hexagon", k=3, refresh=False)).results
    finally:
        await index.close()
    assert summary is not None and summary.changed == 1
    assert [(h.path, h.text) for h in hits][:1] == [("notes.txt", "quokka hexagon notes")]
