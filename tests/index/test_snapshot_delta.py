"""An index write of a few files, applied to the snapshot in memory (`snapshot_delta`), gives
the snapshot a full load gives, array for array, and the same answers, in the process that
wrote it and in any other sharing the database (the changes are recorded in it: `change_log`);
a generation not recorded (a raw change, pruned, another database) or many files is read
whole."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from ocp_server.index import change_log, lexical
from ocp_server.index.postings import Postings
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.snapshots import (
    edit,
    forty_module_repo,
    generated_module,
    snapshot_answers,
    snapshot_fields,
)
from tests.workspace_fixture import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return forty_module_repo(tmp_path)


async def _check_like_a_full_load(index: WorkspaceIndex, reader: WorkspaceIndex) -> None:
    whole = snapshot_fields(lexical.load_snapshot(index.db_path))
    assert snapshot_fields(await index.snapshot()) == whole
    assert snapshot_fields(await reader.snapshot()) == whole
    assert await snapshot_answers(index) == await snapshot_answers(reader)


async def _recorded(index: WorkspaceIndex) -> list[int]:
    """The generations whose changes the database holds."""
    rows = await index.db.execute_fetchall("SELECT generation FROM index_changes ORDER BY 1")
    return [int(r[0]) for r in rows]


async def _generation(index: WorkspaceIndex) -> int:
    rows = await index.db.execute_fetchall("SELECT value FROM meta WHERE key = 'generation'")
    return int(next(iter(rows))[0])


async def test_updates_applied_in_memory_give_what_a_full_load_gives(
    repo: Path, tmp_path: Path
) -> None:
    db = tmp_path / "ocp.db"
    rng = random.Random(11)
    async with (
        await WorkspaceIndex.open(repo, db) as index,
        await WorkspaceIndex.open(repo, db) as reader,
    ):
        await index.update()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == {"full": 1}
        steps: list[Callable[[], object]] = [
            # an edit: a definition added
            lambda: (repo / "pkg1" / "mod_5.py").write_text(
                (repo / "pkg1" / "mod_5.py").read_text() + "\n\ndef rotate_refund(x):\n"
                "    return x  # session token ledger\n"
            ),
            # an edit that drops definitions
            lambda: (repo / "pkg2" / "mod_6.py").write_text(generated_module(rng, 6)[:200]),
            lambda: (repo / "pkg3" / "new_module.py").write_text(
                generated_module(rng, 99)
            ),  # a new file
            lambda: (repo / "pkg0" / "mod_8.py").unlink(),  # a deleted file
            lambda: os.rename(repo / "pkg1" / "mod_9.py", repo / "pkg2" / "moved_9.py"),
            # emptied: no chunks with terms, the file is still indexed
            lambda: (repo / "pkg3" / "mod_3.py").write_text(""),
            lambda: (repo / "pkg0" / "mod_4.py").write_text("\x00binary now\x00" * 50),
        ]
        for n, step in enumerate(steps, start=1):
            step()
            await index.update()
            await _check_like_a_full_load(index, reader)
            assert index.snapshots.loads == {"full": 1, "delta": n}, n
            # the reader (another window, a standby server) applies them too
            assert reader.snapshots.loads == {"full": 1, "delta": n}, n
        # a commit: the history changes, and with it the files it links
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "rotate refund session tokens")
        await index.update()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == {"full": 1, "delta": len(steps) + 1}
        assert reader.snapshots.loads == {"full": 1, "delta": len(steps) + 1}
        # every generation is recorded, the build's batches too
        assert await _recorded(index) == list(range(1, await _generation(index) + 1))


async def test_an_edit_is_applied_without_reading_the_index_again(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await WorkspaceIndex.open(repo, tmp_path / "ocp.db") as index:
        await index.update()
        await index.search("session")
        reads: list[int] = []
        whole = lexical.read_snapshot

        def counted(conn: sqlite3.Connection, generation: str) -> lexical.Snapshot:
            reads.append(1)
            return whole(conn, generation)

        monkeypatch.setattr(lexical, "read_snapshot", counted)
        (repo / "pkg1" / "mod_1.py").write_text("def zqmarker(): pass\n")
        await index.update()
        found = await index.search("zqmarker")
        assert [r.path for r in found.results] == ["pkg1/mod_1.py"]
        assert reads == [] and index.snapshots.loads == {"full": 1, "delta": 1}


@asynccontextmanager
async def _built_and_read(
    repo: Path, db: Path
) -> AsyncIterator[tuple[WorkspaceIndex, WorkspaceIndex]]:
    """Two processes' indexes on one database: `index` has built it, `reader` read its
    snapshot of that build."""
    async with (
        await WorkspaceIndex.open(repo, db) as index,
        await WorkspaceIndex.open(repo, db) as reader,
    ):
        await index.update()
        await reader.snapshot()
        yield index, reader


async def test_a_reader_behind_by_a_few_writes_applies_them_all(repo: Path, tmp_path: Path) -> None:
    async with _built_and_read(repo, tmp_path / "ocp.db") as (index, reader):
        for n in range(3):  # three updates while the reader did not search
            edit(repo / f"pkg{n}" / f"mod_{n}.py", f"zqbehind{chr(97 + n)}")
            await index.update()
        await _check_like_a_full_load(index, reader)
        assert reader.snapshots.loads == {"full": 1, "delta": 1}
        found = await reader.search("zqbehindc", refresh=False)
        assert [r.path for r in found.results] == ["pkg2/mod_2.py"]


def _index_in_another_process(repo: Path, db: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "index", str(repo)],
        check=True,
        capture_output=True,
        env={**os.environ, "OCP_DB_PATH": str(db)},
        timeout=120,
    )


async def test_an_edit_another_process_indexed_is_applied(repo: Path, tmp_path: Path) -> None:
    """A second IDE window's server, or a standby one: `ocp-server index` writes, it reads."""
    db = tmp_path / "ocp.db"
    _index_in_another_process(repo, db)
    async with await WorkspaceIndex.open(repo, db) as reader:
        await reader.snapshot()
        edit(repo / "pkg1" / "mod_5.py", "zqelsewhere")
        _index_in_another_process(repo, db)
        assert snapshot_fields(await reader.snapshot()) == snapshot_fields(
            lexical.load_snapshot(db)
        )
        assert reader.snapshots.loads == {"full": 1, "delta": 1}
        found = await reader.search("zqelsewhere", refresh=False)
        assert [r.path for r in found.results] == ["pkg1/mod_5.py"]


async def test_generations_not_recorded_or_many_files_are_read_whole(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "ocp.db"
    async with (
        await WorkspaceIndex.open(repo, db) as index,
        await WorkspaceIndex.open(repo, db) as reader,
    ):
        await index.update()
        await _check_like_a_full_load(index, reader)
        edit(repo / "pkg1" / "mod_1.py", "zqmarker")
        await index.update()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == reader.snapshots.loads == {"full": 1, "delta": 1}

        # a generation moved on without a record (an older server's write, a raw change)
        await index.db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )
        await index.db.commit()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == reader.snapshots.loads == {"full": 2, "delta": 1}

        # generations pruned while the reader did not search: only the last KEEP are kept
        monkeypatch.setattr(change_log, "KEEP", 2)
        for n in range(3):
            edit(repo / f"pkg{(n + 10) % 4}" / f"mod_{n + 10}.py", f"zqpruned{chr(97 + n)}")
            await index.update()
            await index.snapshot()
        assert await _recorded(index) == [await _generation(index) - 1, await _generation(index)]
        await _check_like_a_full_load(index, reader)
        # (the first of them read whole too: the generation it started from has no stamp)
        assert index.snapshots.loads == {"full": 3, "delta": 3}
        assert reader.snapshots.loads == {"full": 3, "delta": 1}
        monkeypatch.undo()

        # a write of more than MAX_FILES files is not recorded
        monkeypatch.setattr(change_log, "MAX_FILES", 1)
        edit(repo / "pkg3" / "mod_3.py", "zqtwo")
        edit(repo / "pkg3" / "mod_7.py", "zqtwo")
        await index.update()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == {"full": 4, "delta": 3}
        assert reader.snapshots.loads == {"full": 4, "delta": 1}
        monkeypatch.undo()

        # another database made at the same path counts its generations from 0 again: the
        # same numbers recorded there are not this snapshot's changes
        await index.db.execute("UPDATE meta SET value = 'another' WHERE key = 'lineage'")
        edit(repo / "pkg0" / "mod_4.py", "zqlineage")
        await index.update()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == {"full": 5, "delta": 3}
        assert reader.snapshots.loads == {"full": 5, "delta": 1}

        # more than MAX_SHARE of the files (a branch switched)
        for path in sorted(repo.rglob("mod_*.py"))[:20]:
            path.write_text(path.read_text() + "\n# zqmany\n")
        await index.update()
        await _check_like_a_full_load(index, reader)
        assert index.snapshots.loads == {"full": 6, "delta": 3}
        assert reader.snapshots.loads == {"full": 6, "delta": 1}


def _table(rng: np.random.Generator, docs: int, n: int, keys: int) -> list[tuple[int, int, int]]:
    return [
        (int(k), int(d), int(c))
        for k, d, c in zip(
            rng.integers(0, keys, n), rng.integers(0, docs, n), rng.integers(1, 9, n), strict=True
        )
    ]


def _built(records: list[tuple[int, int, int]]) -> Postings:
    k, d, c = (np.asarray(x) for x in zip(*records, strict=True)) if records else ([], [], [])
    return Postings.build(
        np.asarray(k, dtype=np.uint32),
        np.asarray(d, dtype=np.int32),
        np.asarray(c, dtype=np.float32),
    )


@pytest.mark.parametrize("seed", range(30))
def test_a_patched_table_is_the_table_built_from_its_new_records(seed: int) -> None:
    rng = np.random.default_rng(seed)
    docs = int(rng.integers(1, 40))
    old = _table(rng, docs, int(rng.integers(0, 300)), int(rng.integers(1, 50)))
    # documents dropped (their postings go), the rest renumbered in order, new ones added
    dropped = set(rng.choice(docs, int(rng.integers(0, docs + 1)), replace=False).tolist())
    kept = [d for d in range(docs) if d not in dropped]
    total = len(kept) + int(rng.integers(0, 10))
    places = sorted(rng.choice(total, len(kept), replace=False).tolist())
    doc_map = np.full(docs, -1, dtype=np.int32)
    doc_map[kept] = places
    free = sorted(set(range(total)) - set(places))  # the added documents' places
    added = [(k, free[d % len(free)], c) for k, d, c in _table(rng, 99, 40, 80)] if free else []
    renumbered = [(k, int(doc_map[d]), c) for k, d, c in old if doc_map[d] >= 0]
    patched, _ = _built(old).patched(doc_map, _built(added))
    expected = _built(renumbered + added)
    assert patched.keys.tolist() == expected.keys.tolist()
    assert patched.starts.tolist() == expected.starts.tolist()
    assert patched.records.tolist() == expected.records.tolist()


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup, as `sqlite3 <db> ".backup <file>"` and `".restore <file>"` run it."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.mark.parametrize("writes", [1, 2])
async def test_a_database_restored_from_an_older_backup_is_read_whole(
    repo: Path, tmp_path: Path, writes: int
) -> None:
    """A backup keeps the database's lineage and generation: restored under a reader (a
    second window) that holds a later snapshot, and written again up to that generation (1)
    or past it (2), its numbers alone said the reader was current, or behind by one recorded
    write: it kept the rows of the writes the restore undid, and missed the new ones."""
    db = tmp_path / "ocp.db"
    async with _built_and_read(repo, db) as (index, reader):
        _copy_database(db, tmp_path / "backup.db")
        (repo / "pkg0" / "undone.py").write_text("def zqundone():\n    return 1\n")
        await index.update()
        found = await reader.search("zqundone", refresh=False)
        assert [r.path for r in found.results] == ["pkg0/undone.py"]

        _copy_database(tmp_path / "backup.db", db)
        (repo / "pkg0" / "undone.py").unlink()  # the workspace as the backup has it
        for n in range(writes):
            edit(repo / "pkg1" / f"mod_{4 * n + 1}.py", f"zqrestored{chr(97 + n)}")
            await index.update()
        assert snapshot_fields(await reader.snapshot()) == snapshot_fields(
            lexical.load_snapshot(db)
        )
        assert reader.snapshots.loads == {"full": 2, "delta": 1}
        assert not (await reader.search("zqundone", refresh=False)).results
        found = await reader.search(f"zqrestored{chr(96 + writes)}", refresh=False)
        assert [r.path for r in found.results] == [f"pkg1/mod_{4 * writes - 3}.py"]


async def test_a_reader_behind_by_keep_generations_applies_them_one_more_reads_whole(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last `KEEP` generations are kept: a reader that many behind applies them, one
    more behind reads whole (and gets what a full load gets)."""
    monkeypatch.setattr(change_log, "KEEP", 3)
    async with _built_and_read(repo, tmp_path / "ocp.db") as (index, reader):
        for behind, loads in ((3, {"full": 1, "delta": 1}), (4, {"full": 2, "delta": 1})):
            for n in range(behind):
                edit(repo / f"pkg{n % 4}" / f"mod_{n}.py", f"zqkeep{chr(97 + behind)}{chr(97 + n)}")
                await index.update()
            await _check_like_a_full_load(index, reader)
            assert reader.snapshots.loads == loads, behind
            found = await reader.search(
                f"zqkeep{chr(97 + behind)}{chr(96 + behind)}", refresh=False
            )
            assert [r.path for r in found.results] == [f"pkg{(behind - 1) % 4}/mod_{behind - 1}.py"]


async def _bare_writes(index: WorkspaceIndex, count: int) -> None:
    """`count` index writes recorded as an update's are (the generation moved on, its stamp,
    the files it wrote), without writing any row: the change log's own cost alone."""
    rows = await index.db.execute_fetchall("SELECT id FROM files ORDER BY id LIMIT 2")
    for _ in range(count):
        log = change_log.ChangeLog()
        log.files = {int(r[0]) for r in rows}
        await log.record(index.db, await change_log.next_generation(index.db))
        await index.db.commit()


async def test_a_reader_further_behind_than_the_real_keep_reads_whole_and_right(
    repo: Path, tmp_path: Path
) -> None:
    """A reader behind by the last `KEEP` (128) generations applies them; one more behind has
    no stamp left to be checked against and reads whole: slower, never wrong (the change log
    keeps no oldest reader's generation, and need not for its answers)."""
    async with _built_and_read(repo, tmp_path / "ocp.db") as (index, reader):
        for behind, loads in ((128, {"full": 1, "delta": 1}), (129, {"full": 2, "delta": 1})):
            marker = f"zqbehind{behind}"
            edit(repo / "pkg2" / "mod_6.py", marker)
            await index.update()
            await _bare_writes(index, behind - 1)
            assert behind == change_log.KEEP + (behind - 128)  # the constant, not a patched one
            await _check_like_a_full_load(index, reader)
            assert reader.snapshots.loads == loads, behind
            found = await reader.search(marker, refresh=False)
            assert {r.path for r in found.results} == {"pkg2/mod_6.py"}
