"""What the update reads of the files it drops, to pair one moved and edited: no more than
edited_moves' bounds say, however many it drops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocp_server.db import connect
from ocp_server.index import edited_moves
from ocp_server.index.edited_moves import EditedMoves, Recent
from ocp_server.index.workspace import WorkspaceIndex


async def test_a_folder_of_many_files_dropped_is_read_no_further_than_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: every chunk of every dropped file of the new files' extensions was fetched (a
    # `rm -rf vendor/` of thousands beside one new file), only the first SKETCHED unpacked.
    # (They are read whether new files come in the update or not: a later one may bring one.)
    ws = tmp_path / "ws"
    (ws / "old").mkdir(parents=True)
    for i in range(30):
        body = "".join(f"def f_{i}_{j}(x):\n    return x * {j}\n\n\n" for j in range(40))
        (ws / "old" / f"m{i}.py").write_text(body)
    db_path = tmp_path / "ocp.db"
    index = await WorkspaceIndex.open(ws, db_path)
    await index.update()
    await index.close()
    monkeypatch.setattr(edited_moves, "SKETCHED", 3)
    db = await connect(db_path)
    try:
        ids = [int(r[0]) for r in await db.execute_fetchall("SELECT id FROM files")]
        assert len(ids) == 30
        fetched: list[Any] = []
        read = db.execute_fetchall

        async def counted(sql: str, params: Any = None) -> Any:
            rows = list(await read(sql, params))
            if "chunks" in sql:
                fetched.extend(rows)
            return rows

        monkeypatch.setattr(db, "execute_fetchall", counted)
        moves = await EditedMoves.before_drop(db, ids, ["new/m.py"], Recent())
        assert len(moves.gone) == 3
        paths = list(moves.gone)
        marks = ",".join("?" * len(paths))
        theirs = await read(
            "SELECT COUNT(*) FROM chunks c JOIN files f ON c.file_id = f.id "
            f"WHERE f.path IN ({marks})",
            paths,
        )
        assert len(fetched) == list(theirs)[0][0]  # those 3 files' chunks, not the 30's
    finally:
        await db.close()


def _module(i: int, header: str = "") -> str:
    body = "".join(f"def f_{i}_{j}(x):\n    return x * {j} + {i}\n\n\n" for j in range(6))
    return f"{header}import os\n\n\n{body}"


async def _rows(db_path: Path, sql: str) -> list[Any]:
    """The rows `sql` reads from the index's database, once the index is closed."""
    db = await connect(db_path)
    try:
        return list(await db.execute_fetchall(sql))
    finally:
        await db.close()


def _old_folder(tmp_path: Path, modules: int) -> Path:
    """A workspace of keep.py and `modules` modules in old/ (m0.py, m1.py, ...)."""
    ws = tmp_path / "ws"
    (ws / "old").mkdir(parents=True)
    (ws / "keep.py").write_text("KEPT = 1\n")
    for i in range(modules):
        (ws / "old" / f"m{i}.py").write_text(_module(i))
    return ws


async def test_a_folder_moved_and_edited_past_the_bound_has_its_files_of_a_new_name_read_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: the first SKETCHED dropped files by id were read, whichever files came new: of a
    # big folder moved and edited (a package renamed, its imports fixed), those past the
    # bound were never paired (200 of 500).
    ws = _old_folder(tmp_path, 8)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        monkeypatch.setattr(edited_moves, "SKETCHED", 3)
        for i in range(8):
            (ws / "old" / f"m{i}.py").unlink()
        (ws / "new").mkdir()
        for i in (5, 6, 7):  # the last three moved and edited, the rest deleted
            (ws / "new" / f"m{i}.py").write_text(_module(i, "# moved\n"))
        await index.update()
    finally:
        await index.close()
    rows = await _rows(
        tmp_path / "ocp.db",
        "SELECT path, moved_to FROM gone_files WHERE moved_to IS NOT NULL ORDER BY path",
    )
    assert [tuple(r) for r in rows] == [(f"old/m{i}.py", f"new/m{i}.py") for i in (5, 6, 7)]


async def test_files_moved_and_edited_are_compared_only_with_those_sharing_a_rare_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: every dropped file was compared with every new one (a line all of them hold, an
    # import, made each a candidate): quadratic in a folder of thousands moved.
    ws = _old_folder(tmp_path, 30)
    compared: list[int] = []
    real = edited_moves.similarity

    def counted(old: Any, new: Any) -> float:
        compared.append(1)
        return real(old, new)

    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        monkeypatch.setattr(edited_moves, "similarity", counted)
        (ws / "old").rename(ws / "new")
        for i in range(30):
            path = ws / "new" / f"m{i}.py"
            path.write_text("# moved\n" + path.read_text())
        await index.update()
    finally:
        await index.close()
    rows = await _rows(
        tmp_path / "ocp.db",
        "SELECT count(*) FROM gone_files WHERE moved_to = replace(path, 'old/', 'new/')",
    )
    assert rows[0][0] == 30  # each paired with itself
    assert len(compared) <= 30 * 2  # not 30 * 30
