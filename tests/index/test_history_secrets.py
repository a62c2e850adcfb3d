"""Git history's changed paths (`commit_files`) keep no file that is secret by its name: its
name can be the secret (`backups/ghp_<token>.json`), and history is read back by every search.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.migrations import MIGRATIONS, m020_history_secret_paths, migrate
from tests.workspace_fixture import git

BODY = "Xk29dLq7" * 4 + "Ab3Z"
SECRET_PATHS = (
    f"backups/ghp_{BODY}.json",
    f"backups/backupghp_{BODY}.json",  # glued to a word
    "keys/keysAKIAQW7B3PDKHX4PY8GP.txt",
    "deploy/.env.production",
)


def _workspace_whose_history_held_secret_files(ws: Path) -> None:
    (ws / "src").mkdir(parents=True)
    (ws / "src/deploy.py").write_text("def deploy(target):\n    return target.upload()\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Start")
    for rel in SECRET_PATHS:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text('{"rows": []}\n')
    (ws / "src/deploy.py").write_text("def deploy(target):\n    return target.upload(1)\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Back up the deploy credentials before the migration")
    git(ws, "rm", "-rq", "backups", "keys", "deploy")
    git(ws, "commit", "-qm", "Remove the credential backups again")


async def test_history_stores_no_path_that_is_secret_by_its_name(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _workspace_whose_history_held_secret_files(ws)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        stored = {p for (p,) in await index.db.execute_fetchall("SELECT path FROM commit_files")}
        found = await index.search("back up the deploy credentials", k=20)
    finally:
        await index.close()
    assert stored == {"src/deploy.py"}
    assert [r.path for r in found.results] == ["src/deploy.py"]
    assert not any(BODY in p or "AKIA" in p for p in stored)
    for file in tmp_path.glob("ocp.db*"):
        assert BODY.encode() not in file.read_bytes(), file


async def test_secret_paths_stored_by_an_earlier_server_are_dropped(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "m.db") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m is not m020_history_secret_paths))
        await db.execute("INSERT INTO commits (hash, time, terms, length) VALUES ('c1', 1, x'', 0)")
        await db.executemany(
            "INSERT INTO commit_files (hash, path) VALUES ('c1', ?)",
            [(p,) for p in (*SECRET_PATHS, "src/deploy.py")],
        )
        await db.commit()
        assert await migrate(db) == ["m020_history_secret_paths"]
        left = await db.execute_fetchall("SELECT path FROM commit_files")
    assert list(left) == [("src/deploy.py",)]
