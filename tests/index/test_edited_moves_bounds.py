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
        moves = await EditedMoves.before_drop(db, ids, Recent())
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
