"""The postings snapshot saved beside the database (`saved_snapshot`): a restart reads it
instead of the rows and answers as from them; one a few updates old is brought up to date;
one that is stale beyond the change log, of another database, workspace, schema or build,
cut short or damaged is left unused (the rows are read); it holds nothing the rows do not, is
not saved when turned off or too large, and is never listed as a workspace file."""

from __future__ import annotations

import logging
import os
import random
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ocp_router.errors import ConfigError
from ocp_server.index import chunk_columns, lexical, saved_snapshot
from ocp_server.index.files import list_workspace
from ocp_server.index.own_files import OwnFiles
from ocp_server.index.saved_snapshot import SnapshotKey, read_saved, saved_path
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import open_index
from tests.index.snapshots import (
    edit,
    forty_module_repo,
    snapshot_answers,
    snapshot_fields,
)

SAVED = 1 << 30


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return forty_module_repo(tmp_path)


async def _open(ws: Path, db: Path, *, save: bool = True, size: int = SAVED) -> WorkspaceIndex:
    return await WorkspaceIndex.open(ws, db, saved_snapshot_bytes=size, save_snapshot=save)


async def _saved_by_a_server(ws: Path, db: Path) -> list[object]:
    """Build, search (the rows read: saved at once), wait for the save; the answers."""
    async with await _open(ws, db) as index:
        await index.update()
        answers = await snapshot_answers(index)
        assert index.snapshots.loads == {"full": 1}
        await index.snapshots.saved()
    assert saved_path(db).is_file()
    return answers


@dataclass(frozen=True)
class Saved:
    db: Path
    answers: list[object]


@pytest.fixture
async def saved(repo: Path, tmp_path: Path) -> Saved:  # noqa: F811
    """A database a server built and searched, its snapshot saved beside it."""
    db = tmp_path / "ocp.db"
    return Saved(db, await _saved_by_a_server(repo, db))


async def _restarted(ws: Path, db: Path) -> tuple[list[object], dict[str, int]]:
    """A restart's answers (reading only: nothing saved again) and how its snapshot loaded."""
    async with await _open(ws, db, save=False) as index:
        answers = await snapshot_answers(index)
        assert snapshot_fields(await index.snapshot()) == snapshot_fields(lexical.load_snapshot(db))
        return answers, dict(index.snapshots.loads)


async def test_a_restart_answers_from_the_saved_snapshot_as_from_the_rows(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db, before = saved.db, saved.answers
    answers, loads = await _restarted(repo, db)
    assert loads == {"saved": 1}
    assert answers == before
    assert any(answers)
    async with await _open(repo, db, save=False, size=SAVED) as index:  # the same, shared keys
        snap = await index.snapshot()
        assert snap.file_body.keys is snap.chunk_body.keys


async def test_a_saved_snapshot_a_few_updates_old_is_brought_up_to_date(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    edit(repo / "pkg1" / "mod_1.py", "zqsavedlater")
    async with await _open(repo, db, save=False) as index:  # an update no snapshot follows
        await index.update()
    answers, loads = await _restarted(repo, db)
    assert loads == {"saved+delta": 1}
    async with await _open(repo, db, save=False) as index:
        found = await index.search("zqsavedlater", refresh=False)
    assert [r.path for r in found.results] == ["pkg1/mod_1.py"]


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 64):
        data[at] ^= 0x5A
    path.write_bytes(bytes(data))


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(random.Random(3).randbytes(5000))


@pytest.mark.parametrize("damage", [_flip, _cut, _garbage, lambda p: p.write_bytes(b"")])
async def test_a_damaged_saved_snapshot_is_left_unused_and_saved_again(
    repo: Path,  # noqa: F811
    saved: Saved,
    damage: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db, before = saved.db, saved.answers
    assert callable(damage)
    damage(saved_path(db))
    with caplog.at_level(logging.WARNING, logger=saved_snapshot.__name__):
        answers, loads = await _restarted(repo, db)
    assert loads == {"full": 1}
    assert answers == before
    assert "could not be read" in caplog.text
    # a server's next load writes it whole again
    async with await _open(repo, db) as index:
        await index.snapshot()
        await index.snapshots.saved()
    assert (await _restarted(repo, db))[1] == {"saved": 1}


async def test_a_saved_snapshot_a_folder_or_unreadable_never_breaks_a_search(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db, before = saved.db, saved.answers
    saved_path(db).unlink()
    saved_path(db).mkdir()
    answers, loads = await _restarted(repo, db)
    assert (answers, loads) == (before, {"full": 1})
    async with await _open(repo, db) as index:  # a server cannot save there: it says so
        await index.snapshot()
        await index.snapshots.saved()
        assert await snapshot_answers(index) == before


async def test_a_saved_snapshot_stale_beyond_the_change_log_is_left_unused(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    edit(repo / "pkg1" / "mod_1.py", "zqstalemarker")
    async with await _open(repo, db, save=False) as index:
        await index.update()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM index_changes")  # (pruned, or written by an older server)
    answers, loads = await _restarted(repo, db)
    assert loads == {"full": 1}
    async with await _open(repo, db, save=False) as index:
        found = await index.search("zqstalemarker", refresh=False)
    assert [r.path for r in found.results] == ["pkg1/mod_1.py"]


async def test_a_saved_snapshot_of_a_generation_restored_with_another_stamp_is_left_unused(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    with sqlite3.connect(db) as conn:  # the same number, another state (a backup restored)
        conn.execute("UPDATE index_stamps SET stamp = 'restored'")
    assert (await _restarted(repo, db))[1] == {"full": 1}


async def test_a_saved_snapshot_of_a_database_made_again_is_left_unused(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    kept = saved_path(db).read_bytes()
    for suffix in ("", "-wal", "-shm", "-snapshot"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    async with await _open(repo, db, save=False) as index:
        await index.update()
    saved_path(db).write_bytes(kept)
    assert (await _restarted(repo, db))[1] == {"full": 1}


async def test_a_saved_snapshot_of_another_workspace_is_left_unused(
    repo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    # a workspace copied with its own database: the same lineage and generation, another
    # workspace recorded (the copy's database takes it over)
    ws_db = repo / ".ocp" / "ocp.db"
    await _saved_by_a_server(repo, ws_db)
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    copied = copy / ".ocp" / "ocp.db"
    assert saved_path(copied).is_file()
    assert (await _restarted(copy, copied))[1] == {"full": 1}


async def test_a_saved_snapshot_of_another_build_is_left_unused(
    repo: Path,  # noqa: F811
    saved: Saved,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = saved.db
    monkeypatch.setattr(saved_snapshot, "_build_digest", "another build")
    assert (await _restarted(repo, db))[1] == {"full": 1}
    monkeypatch.setattr(saved_snapshot, "_build_digest", None)
    monkeypatch.setattr(saved_snapshot, "FORMAT", saved_snapshot.FORMAT + 1)
    assert (await _restarted(repo, db))[1] == {"full": 1}


def test_a_change_to_any_module_of_the_index_package_makes_another_build(tmp_path: Path) -> None:
    # The builders' code moved between modules once (lexical.py → chunk_columns.py, file_kinds.py)
    # and a named list of builders missed it: a snapshot another code wrote would have been read.
    package = tmp_path / "index"
    shutil.copytree(
        Path(saved_snapshot.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    before = saved_snapshot.code_digest(package)
    assert saved_snapshot.code_digest(package) == before
    for name in ("chunk_columns.py", "file_kinds.py", "filter_masks.py", "chunking/registry.py"):
        module = package / name
        text = module.read_text()
        module.write_text(text + "\n# another build\n")
        assert saved_snapshot.code_digest(package) != before, name
        module.write_text(text)
    assert saved_snapshot.code_digest(package) == before


async def test_a_saved_snapshot_is_read_only_for_its_own_key(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    conn = chunk_columns.read_connection(db)
    key = saved_snapshot.snapshot_key(conn)
    conn.close()
    assert read_saved(db, key, SAVED) is not None
    for other in (
        SnapshotKey("another lineage", key.workspace, key.schema),
        SnapshotKey(key.lineage, "/another/workspace", key.schema),
        SnapshotKey(key.lineage, key.workspace, key.schema + 1),
    ):
        assert read_saved(db, other, SAVED) is None, other


async def test_turned_off_nothing_is_saved_and_a_saved_one_is_deleted(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    settings = ServerSettings.from_env({"OCP_SNAPSHOT_MB": "0", "OCP_DB_PATH": str(db)})
    async with await open_index(settings, repo, save_snapshot=True) as index:
        await index.snapshot()
        await index.snapshots.saved()
        assert index.snapshots.loads == {"full": 1}
    assert not saved_path(db).exists()


async def test_a_snapshot_larger_than_the_bound_is_not_saved(
    repo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    db = tmp_path / "ocp.db"
    async with await _open(repo, db, size=1000) as index:
        await index.update()
        await index.snapshot()
        await index.snapshots.saved()
    assert not saved_path(db).exists()
    assert not Path(f"{db}-snapshot-new").exists()


async def test_a_saved_snapshot_is_on_the_disk_before_its_name_is(
    repo: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a crash between the two would leave cannot be made in a test; the order can be
    # seen: the new file's bytes synced (fsync of its descriptor), then renamed over the old.
    db = tmp_path / "ocp.db"
    done: list[str] = []
    fsync, replace = os.fsync, os.replace

    def synced(fd: int) -> None:
        if os.path.samestat(os.fstat(fd), os.stat(f"{db}-snapshot-new")):
            done.append("fsync new")
        fsync(fd)

    def renamed(src: object, dst: object) -> None:
        done.append(f"rename {Path(str(src)).name}")
        replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", synced)  # the module calls os.fsync
    monkeypatch.setattr(os, "replace", renamed)
    await _saved_by_a_server(repo, db)
    assert done == ["fsync new", "rename ocp.db-snapshot-new"]


async def test_a_saved_snapshot_larger_than_a_lowered_bound_is_deleted(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db, before = saved.db, saved.answers
    size = saved_path(db).stat().st_size
    async with await _open(repo, db, size=size - 1) as index:  # OCP_SNAPSHOT_MB lowered
        assert await snapshot_answers(index) == before
        await index.snapshots.saved()
    assert not saved_path(db).exists()
    async with await _open(repo, db, size=size) as index:  # the file's size is within it
        await snapshot_answers(index)
        await index.snapshots.saved()
    assert saved_path(db).stat().st_size <= size


async def test_a_snapshot_grown_past_the_bound_leaves_no_older_one_saved(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    db = saved.db
    async with await _open(repo, db, save=False) as index:
        snapshot = await index.snapshot()
    size = saved_path(db).stat().st_size
    for bound in (1000, size - 1):  # under the arrays' bytes; over them, under the file's
        assert not saved_snapshot.write_saved(db, snapshot, _key(db), bound)
        assert not saved_path(db).exists()
        assert not Path(f"{db}-snapshot-new").exists()
        assert saved_snapshot.write_saved(db, snapshot, _key(db), size)


async def test_the_saved_snapshot_holds_no_secret_and_no_skipped_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    secret = "sk-ant-api03-" + "Q7x" * 30
    (ws / "settings_prod.py").write_text(f'API_KEY = "{secret}"\ndef load_settings(): pass\n')
    (ws / ".env").write_text(f"ANTHROPIC_API_KEY={secret}\n")
    (ws / "billing.py").write_text("def compute_invoice(order):\n    return order.total\n")
    db = tmp_path / "ocp.db"
    async with await _open(ws, db) as index:
        await index.update()
        await index.snapshot()
        await index.snapshots.saved()
    data = saved_path(db).read_bytes()
    assert secret.encode() not in data and b"Q7xQ7x" not in data
    with sqlite3.connect(db) as conn:
        indexed = [r[0] for r in conn.execute("SELECT path FROM files WHERE skip_reason IS NULL")]
    assert ".env" not in indexed and b".env" not in data  # skipped: in no row either
    conn = chunk_columns.read_connection(db)
    key = saved_snapshot.snapshot_key(conn)
    conn.close()
    saved = read_saved(db, key, SAVED)
    assert saved is not None and sorted(saved.paths) == sorted(indexed)


def test_the_saved_snapshot_beside_a_database_in_the_workspace_is_no_workspace_file(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    (ws / "data").mkdir(parents=True)
    (ws / "app.py").write_text("x = 1\n")
    db = ws / "data" / "ocp.db"
    for suffix in ("", "-snapshot", "-snapshot-new"):
        Path(f"{db}{suffix}").write_bytes(np.arange(10).tobytes())
    own = OwnFiles.of(ws, db)
    listed = [c.path for c in list_workspace(ws, own_files=own).candidates]
    assert listed == ["app.py"]
    assert own.written(f"{db}-snapshot") and own.written(f"{db}-snapshot-new")


async def test_a_save_waits_for_no_other_writer_and_writes_over_a_killed_ones_file(
    repo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    fcntl = pytest.importorskip("fcntl")  # (Windows has no flock: the file's checks remain)
    db = tmp_path / "ocp.db"
    async with await _open(repo, db, save=False) as index:
        await index.update()
        snap = await index.snapshot()
    conn = chunk_columns.read_connection(db)
    key = saved_snapshot.snapshot_key(conn)
    conn.close()
    new = Path(f"{db}-snapshot-new")
    new.write_bytes(b"half a file a killed server left")
    with new.open("rb") as held:  # another process writing: it holds the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        assert not saved_snapshot.write_saved(db, snap, key, SAVED)
        assert not saved_path(db).exists()
    stop = threading.Event()
    stop.set()  # a server closing: the write gives up, its file removed
    assert not saved_snapshot.write_saved(db, snap, key, SAVED, stop)
    assert not new.exists() and not saved_path(db).exists()
    new.write_bytes(b"half a file a killed server left")  # no one holds it: written over
    assert saved_snapshot.write_saved(db, snap, key, SAVED)
    assert not new.exists()
    found = read_saved(db, key, SAVED)
    assert found is not None and snapshot_fields(found) == snapshot_fields(snap)


def test_the_snapshot_setting_is_a_size_in_mib_or_zero() -> None:
    assert ServerSettings.from_env({}).snapshot_mb == 1024
    assert ServerSettings.from_env({"OCP_SNAPSHOT_MB": "0"}).snapshot_mb == 0
    for bad in ("-1", "off", "1.5"):
        with pytest.raises(ConfigError, match=r"OCP_SNAPSHOT_MB='.*' is invalid: expected an"):
            ServerSettings.from_env({"OCP_SNAPSHOT_MB": bad})


async def test_an_index_opened_without_the_setting_neither_reads_nor_deletes_the_saved_one(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    # (`ocp-server doctor` opens the index so)
    db = saved.db
    async with await WorkspaceIndex.open(repo, db) as index:
        await index.snapshot()
        assert index.snapshots.loads == {"full": 1}
    assert (await _restarted(repo, db))[1] == {"saved": 1}


def _key(db: Path) -> SnapshotKey:
    conn = chunk_columns.read_connection(db)
    try:
        return saved_snapshot.snapshot_key(conn)
    finally:
        conn.close()


async def test_a_link_in_the_new_files_place_is_never_written_through(
    repo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    # An `.ocp/` folder can be committed: a repository's link there must not make the save
    # truncate and overwrite a file elsewhere (the user's, out of the workspace)
    db = repo / ".ocp" / "ocp.db"
    async with await _open(repo, db, save=False) as index:
        await index.update()
        snap = await index.snapshot()
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own file\n")
    new = Path(f"{db}-snapshot-new")
    new.symlink_to(victim)
    assert not saved_snapshot.write_saved(db, snap, _key(db), SAVED)
    assert victim.read_text() == "the user's own file\n"
    assert new.is_symlink() and not saved_path(db).exists()


def _unblocked(path: Path, call: object, *, reader: bool) -> list[object]:
    """`call()` in a thread; should it still wait after a while on the pipe at `path` (an
    open of a FIFO waits for its other end), that end is opened so that it returns (and the
    test fails) instead of hanging the run."""
    assert callable(call)
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(20)
    if thread.is_alive():
        flags = (os.O_RDONLY if reader else os.O_WRONLY) | os.O_NONBLOCK
        os.close(os.open(path, flags))
        thread.join(20)
        pytest.fail(f"waited on the pipe at {path}")
    return out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes (Windows)")
async def test_a_pipe_in_the_saved_snapshots_places_is_neither_waited_on_nor_used(
    repo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    db = tmp_path / "ocp.db"
    async with await _open(repo, db, save=False) as index:
        await index.update()
        snap = await index.snapshot()
    key = _key(db)
    os.mkfifo(saved_path(db))
    assert _unblocked(saved_path(db), lambda: read_saved(db, key, SAVED), reader=False) == [None]
    new = Path(f"{db}-snapshot-new")
    os.mkfifo(new)
    write = lambda: saved_snapshot.write_saved(db, snap, key, SAVED)  # noqa: E731
    assert _unblocked(new, write, reader=True) == [False]


async def test_a_saved_snapshot_larger_than_the_bound_is_neither_read_nor_kept(
    repo: Path,  # noqa: F811
    saved: Saved,
) -> None:
    # OCP_SNAPSHOT_MB lowered, or the index grown past it: the file saved before is stale for
    # ever (no save replaces it), and read at every start only to be found so
    db, before = saved.db, saved.answers
    bound = saved_path(db).stat().st_size // 4
    async with await _open(repo, db, size=bound) as index:
        assert await snapshot_answers(index) == before
        await index.snapshots.saved()
        assert index.snapshots.loads == {"full": 1}
    assert not saved_path(db).exists()
