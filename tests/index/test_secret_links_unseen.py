"""Hard links whose other names the listing never sees: a git-ignored secret file in another
folder than the link (`ln services/api/.env docs/api-settings.txt`, `.env` ignored), in a
folder git ignores whole (`secrets/`), and a file outside the workspace (`ln ~/app/.env
config/defaults.py`). Before, only the link's own folder and the root were read for a secret's
name, and a secret file's other names elsewhere were indexed, values and all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.index.files import list_workspace
from ocp_server.index.workspace import WorkspaceIndex
from tests.workspace_fixture import git

ENV = "MAIL_HOST=smtp.acme.test\nSMTP_PASS=zincoxide\n"


def _linked_workspace(root: Path, in_git: bool) -> Path:
    ws = root / "ws"
    for folder in ("services/api", "secrets", "docs", "zz", "src", "scratch"):
        (ws / folder).mkdir(parents=True)
    (ws / ".gitignore").write_text(".env\nsecrets/\nscratch/\n")
    (ws / "services" / "api" / ".env").write_text(ENV)
    (ws / "secrets" / "deploy_key").write_text("not a key, but named as one\n")
    (ws / "secrets" / "id_ed25519").write_text("not a key, but named as one\n")
    # the secret's other names: before its name in the listing's order (docs/), after it (zz/)
    os.link(ws / "services" / "api" / ".env", ws / "docs" / "api-settings.txt")
    os.link(ws / "services" / "api" / ".env", ws / "zz" / "mail.cfg")
    os.link(ws / "secrets" / "id_ed25519", ws / "docs" / "deploy-key.txt")
    # linked, and no secret: an ignored scratch copy of a source file, and two listed names
    (ws / "scratch" / "notes.md").write_text("# notes\n")
    os.link(ws / "scratch" / "notes.md", ws / "docs" / "notes.md")
    (ws / "src" / "main.py").write_text("def main():\n    return 1\n")
    os.link(ws / "src" / "main.py", ws / "docs" / "main_copy.py")
    if in_git:
        git(ws, "init", "-q")
    return ws


def _linked_from_outside(tmp_path: Path) -> Path:
    """A workspace whose config/defaults.py is a hard link to a .env outside it, and
    config/lib.py one to code outside it (linked out, and no secret)."""
    ws = tmp_path / "ws"
    (ws / "config").mkdir(parents=True)
    app = tmp_path / "app"
    app.mkdir()
    (app / ".env").write_text(ENV)
    (app / "lib.py").write_text("def helper():\n    return 2\n")
    os.link(app / ".env", ws / "config" / "defaults.py")
    os.link(app / "lib.py", ws / "config" / "lib.py")
    return ws


@pytest.mark.parametrize("in_git", [True, False])
def test_a_hard_link_to_an_ignored_secret_file_in_another_folder_is_a_secret(
    tmp_path: Path, in_git: bool
) -> None:
    ws = _linked_workspace(tmp_path, in_git)
    listing = list_workspace(ws)
    found = {c.path for c in listing.candidates}
    assert found.isdisjoint({"docs/api-settings.txt", "zz/mail.cfg", "docs/deploy-key.txt"})
    assert {"src/main.py", "docs/main_copy.py", "docs/notes.md"} <= found
    assert not any(c.linked_outside for c in listing.candidates)  # every name found


def test_a_hard_link_with_a_name_outside_the_workspace_is_judged_as_a_nameless_file(
    tmp_path: Path,
) -> None:
    ws = _linked_from_outside(tmp_path)
    (ws / "config" / "local.py").write_text(ENV)  # no link: its own name judges it
    listing = {c.path: c for c in list_workspace(ws).candidates}
    assert listing["config/defaults.py"].linked_outside
    assert listing["config/lib.py"].linked_outside
    assert not listing["config/local.py"].linked_outside


async def test_no_chunk_of_a_hard_link_to_a_dotenv_file_outside_the_workspace_is_indexed(
    tmp_path: Path,
) -> None:
    ws = _linked_from_outside(tmp_path)
    async with await WorkspaceIndex.open(ws) as index:
        summary = await index.update()
        indexed = await _indexed_paths(index)
    assert indexed == {"config/lib.py"}
    assert summary is not None and summary.skipped.get("secret_content") == 1


async def _indexed_paths(index: WorkspaceIndex) -> set[str]:
    rows = await index.db.execute_fetchall(
        "SELECT DISTINCT f.path FROM chunks c JOIN files f ON f.id = c.file_id"
    )
    return {r[0] for r in rows}


async def test_a_dotenv_file_linked_from_outside_is_not_indexed_whatever_values_it_holds(
    tmp_path: Path,
) -> None:
    """`ADMIN_PIN=4821` is a value no redaction rule knows: a file of dotenv lines whose other
    name is outside the workspace is taken for the `.env` it most likely is there."""
    ws = tmp_path / "ws"
    (ws / "config").mkdir(parents=True)
    app = tmp_path / "app"
    app.mkdir()
    (app / ".env").write_text("# app settings\nADMIN_PIN=4821\nexport DOOR_CODE=7310\n")
    (app / "consts.py").write_text("RETRIES = 3\nNAME = 'app'\n")
    os.link(app / ".env", ws / "config" / "defaults.py")
    os.link(app / "consts.py", ws / "config" / "consts.py")  # code: spaces around `=`
    (ws / "config" / "local.py").write_text("ADMIN_PIN=4821\n")  # one name: its own judges it
    async with await WorkspaceIndex.open(ws) as index:
        summary = await index.update()
        indexed = await _indexed_paths(index)
    assert indexed == {"config/consts.py", "config/local.py"}
    assert summary is not None and summary.skipped.get("secret_content") == 1


async def test_a_file_linked_from_outside_after_it_was_indexed_leaves_the_index(
    tmp_path: Path,
) -> None:
    """A new link changes the file's inode (ctime, link count), not its content or mtime: the
    next update judges it again."""
    ws = tmp_path / "ws"
    (ws / "config").mkdir(parents=True)
    (ws / "config" / "defaults.py").write_text(ENV)  # a .py: not read as a dotenv file
    (ws / "config" / "lib.py").write_text("def helper():\n    return 2\n")
    for f in (ws / "config").iterdir():  # written long before: not read again for a racy mtime
        os.utime(f, (f.stat().st_mtime - 60, f.stat().st_mtime - 60))
    app = tmp_path / "app"
    app.mkdir()
    async with await WorkspaceIndex.open(ws) as index:
        await index.update()
        assert await _indexed_paths(index) == {"config/defaults.py", "config/lib.py"}
        os.link(ws / "config" / "defaults.py", app / ".env")
        summary = await index.update()
        assert await _indexed_paths(index) == {"config/lib.py"}
    assert summary is not None and summary.skipped.get("secret_content") == 1
