"""A workspace path whose name is not UTF-8 is stored as text with `\\xNN` escapes
(path_text.py). A folder whose name holds such an escape as text (a backslash, an x, two hex
digits) was stored the same as the folder with that byte: two folders, one record, and a
database shared through OCP_DB_PATH was taken for each one's, their indexes and memory mixed."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from ocp_server.db import DatabaseError
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.path_text import path_text, text_path

LITERAL = "proj\\xff"  # a backslash, an x and "ff": valid UTF-8
BYTE = os.fsdecode(b"proj\xff")  # the byte 0xff: not UTF-8


def _folder(parent: Path, name: str) -> Path:
    folder = parent / name
    folder.mkdir()
    (folder / "app.py").write_text(f"def served_from_{len(name)}():\n    return 1\n")
    return folder


@pytest.mark.parametrize("first, second", [(LITERAL, BYTE), (BYTE, LITERAL)])
async def test_a_folder_named_with_an_escape_as_text_and_one_with_that_byte_do_not_share_a_database(
    tmp_path: Path, first: str, second: str
) -> None:
    one, other = _folder(tmp_path, first), _folder(tmp_path, second)
    shared = tmp_path / "shared.db"
    async with await WorkspaceIndex.open(one, shared) as index:
        await index.update()
    with pytest.raises(DatabaseError, match="holds the workspace"):
        await WorkspaceIndex.open(other, shared)
    async with await WorkspaceIndex.open(one, shared) as index:  # its own, still
        assert (await index.status()).files == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"/w/proj\\xff",
        b"/w/proj\xff",
        b"/w/proj\\x5c",
        b"/w/proj\\\xff",
        b"/w/proj\\xff\xff",
        b"/w/proj\\x5cxff",
        b"/w/plain",
        "/w/\u00fcbung".encode(),
    ],
)
def test_every_path_has_its_own_text_and_comes_back_from_it(raw: bytes) -> None:
    path = os.fsdecode(raw)
    text = path_text(path)
    text.encode("utf-8")  # storable
    assert text_path(text) == path
    others = [b"/w/proj\\xff", b"/w/proj\xff", b"/w/proj\\x5c", b"/w/proj\\x5cxff"]
    assert sum(path_text(os.fsdecode(o)) == text for o in others if o != raw) == 0


def test_a_utf8_path_without_an_escape_lookalike_is_stored_as_it_is() -> None:
    for path in ("/home/me/proj", "C:\\Users\\me\\proj", "/w/\u00fcbung", "/w/a\\x41"):
        assert path_text(path) == path


async def test_a_database_an_older_server_recorded_a_literal_escape_folder_in_is_still_its(
    tmp_path: Path,
) -> None:
    # An older server stored the folder `proj\xff` (text) as `proj\xff`, which now stands for
    # the byte: m046 rewrites it, the folder existing, so its own OCP_DB_PATH is not refused.
    one = _folder(tmp_path, LITERAL)
    shared = tmp_path / "shared.db"
    async with await WorkspaceIndex.open(one, shared) as index:
        await index.update()
    with sqlite3.connect(shared) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'workspace'", (str(one),))
        db.execute("DELETE FROM _migrations WHERE name = 'm046_unambiguous_workspace_paths'")
    async with await WorkspaceIndex.open(one, shared) as index:
        assert (await index.status()).files == 1
    with sqlite3.connect(shared) as db:
        (recorded,) = db.execute("SELECT value FROM meta WHERE key = 'workspace'").fetchone()
    assert recorded == path_text(one) and text_path(recorded) == str(one)
    # the byte folder is another workspace, refused
    with pytest.raises(DatabaseError, match="holds the workspace"):
        await WorkspaceIndex.open(_folder(tmp_path, BYTE), shared)
