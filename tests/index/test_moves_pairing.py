"""Which files the index pairs as moved (index/moves.py, edited_moves.py): not a file that is
still there but no longer indexed, not a tiny file by bytes any file may have, and a move
whose halves (the file gone, the file new) come in separate updates."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.index import edited_moves
from ocp_server.index.moves import moved_to
from ocp_server.index.workspace import WorkspaceIndex

CONFIG = (
    "import os\n\n\nTIMEOUT = 10\nRETRIES = 3\n\n\n"
    "def load():\n    return os.environ\n\n\ndef limits():\n    return TIMEOUT, RETRIES\n"
)
B64 = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun" * 1
SECRET = "-----BEGIN RSA PRIVATE KEY-----\n" + f"{B64}\n" * 5 + "-----END RSA PRIVATE KEY-----\n"


class Index:
    """One workspace's index, open across updates as the server keeps it."""

    def __init__(self, root: Path, db_path: Path, index: WorkspaceIndex) -> None:
        self.root, self.db_path, self.index = root, db_path, index

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / rel).write_text(text)

    async def update(self) -> None:
        await self.index.update()

    async def moved_to(self, path: str) -> list[str]:
        db = await connect(self.db_path)
        try:
            return await moved_to(db, path)
        finally:
            await db.close()


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[Index]:
    root = tmp_path / "ws"
    root.mkdir()
    opened = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    yield Index(root, tmp_path / "ocp.db", opened)
    await opened.close()


async def test_a_file_skipped_where_it_stands_is_not_taken_for_moved_to_its_copy(
    index: Index,
) -> None:
    # Was: src/config.py, once it held a key (skipped, no longer indexed), was recorded gone
    # and paired with the copy holding its old bytes: "moved to lib/config_copy.py".
    index.write("src/config.py", CONFIG)
    index.write("lib/config_copy.py", CONFIG)
    await index.update()
    index.write("src/config.py", CONFIG + f'KEY = """{SECRET}"""\n')
    await index.update()
    assert (index.root / "src/config.py").exists()
    assert await index.moved_to("src/config.py") == []
    (index.root / "src/config.py").unlink()  # gone now, and changed before it went
    await index.update()
    assert await index.moved_to("src/config.py") == []


async def test_a_tiny_file_is_not_followed_to_a_copy_of_its_bytes(index: Index) -> None:
    # Was: an empty `__init__.py` removed was "moved to" the one other empty file.
    index.write("pkg/__init__.py", "")
    index.write("pkg/mod.py", CONFIG)
    index.write("other/empty.py", "")
    await index.update()
    (index.root / "pkg/__init__.py").unlink()
    await index.update()
    assert await index.moved_to("pkg/__init__.py") == []


async def test_a_tiny_file_new_under_another_name_is_not_taken_for_the_one_gone(
    index: Index,
) -> None:
    index.write("pkg/__init__.py", "import os\n")
    await index.update()
    (index.root / "pkg/__init__.py").unlink()
    index.write("tools/run.py", "import os\n")
    await index.update()
    assert await index.moved_to("pkg/__init__.py") == []


async def test_a_tiny_file_moved_with_its_folder_keeps_being_followed_by_its_name(
    index: Index,
) -> None:
    index.write("pkg/__init__.py", "")
    index.write("pkg/mod.py", CONFIG)
    await index.update()
    shutil.move(index.root / "pkg", index.root / "lib")
    await index.update()
    assert await index.moved_to("pkg/__init__.py") == ["lib/__init__.py"]
    assert await index.moved_to("pkg/mod.py") == ["lib/mod.py"]


EDITED = '"""Limits."""\n' + CONFIG + "\n\ndef save():\n    pass\n"


async def test_a_file_deleted_then_written_edited_by_a_later_update_is_paired(
    index: Index,
) -> None:
    # Was: a file dropped in one update and its edited self new in the next were compared
    # with nothing (each update's files only with its own): "src/config.py was deleted".
    index.write("src/config.py", CONFIG)
    index.write("src/other.py", "def other():\n    return 1\n")
    await index.update()
    (index.root / "src/config.py").unlink()
    await index.update()
    index.write("lib/limits.py", EDITED)
    await index.update()
    assert await index.moved_to("src/config.py") == ["lib/limits.py"]


async def test_a_file_saved_edited_under_a_new_name_then_deleted_later_is_paired(
    index: Index,
) -> None:
    index.write("src/config.py", CONFIG)
    await index.update()
    index.write("lib/limits.py", EDITED)  # "save as", the old one still there
    await index.update()
    assert await index.moved_to("src/config.py") == []
    (index.root / "src/config.py").unlink()
    await index.update()
    assert await index.moved_to("src/config.py") == ["lib/limits.py"]


async def test_a_file_new_after_the_window_is_not_taken_for_the_one_gone(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.write("src/config.py", CONFIG)
    await index.update()
    (index.root / "src/config.py").unlink()
    await index.update()
    monkeypatch.setattr(edited_moves, "WINDOW_S", -1.0)  # as if the window had passed
    index.write("lib/limits.py", EDITED)
    await index.update()
    assert await index.moved_to("src/config.py") == []


SHARED = "".join(f"def shared_{i}(x):\n    return x + {i}\n\n\n" for i in range(4))
PROD = SHARED + "".join(f"def prod_{i}():\n    return 'prod {i}'\n\n\n" for i in range(3))
DEV = SHARED + "".join(f"def dev_{i}():\n    return 'dev {i}'\n\n\n" for i in range(3))


async def test_a_file_paired_with_a_look_alike_goes_to_the_more_alike_one_deleted_later(
    index: Index,
) -> None:
    # Was: dev.py deleted, then settings.py written (prod.py saved under a new name, edited),
    # then prod.py deleted: settings.py was paired with dev.py, the only file gone when it
    # came (8 of its 15 lines), and prod.py, gone later and 14 of 15 alike, with nothing.
    index.write("src/dev.py", DEV)
    index.write("src/prod.py", PROD)
    await index.update()
    (index.root / "src/dev.py").unlink()
    await index.update()
    index.write("lib/settings.py", PROD + "LEVEL = 'info'\n")
    await index.update()
    (index.root / "src/prod.py").unlink()
    await index.update()
    assert await index.moved_to("src/prod.py") == ["lib/settings.py"]
    assert await index.moved_to("src/dev.py") == []


async def test_a_file_paired_stays_paired_when_a_less_alike_one_is_deleted_later(
    index: Index,
) -> None:
    index.write("src/dev.py", DEV)
    index.write("src/prod.py", PROD)
    await index.update()
    (index.root / "src/prod.py").unlink()
    await index.update()
    index.write("lib/settings.py", PROD + "LEVEL = 'info'\n")
    await index.update()
    (index.root / "src/dev.py").unlink()
    await index.update()
    assert await index.moved_to("src/prod.py") == ["lib/settings.py"]
    assert await index.moved_to("src/dev.py") == []


async def test_a_file_paired_by_its_lines_stays_paired_when_its_new_file_moves_on(
    index: Index,
) -> None:
    index.write("src/prod.py", PROD)
    await index.update()
    (index.root / "src/prod.py").unlink()
    index.write("lib/settings.py", PROD + "LEVEL = 'info'\n")
    await index.update()
    (index.root / "etc").mkdir()
    (index.root / "lib/settings.py").rename(index.root / "etc/settings.py")
    index.write("etc/other.py", DEV)  # another new file: the update compares files
    await index.update()
    assert await index.moved_to("src/prod.py") == ["etc/settings.py", "lib/settings.py"]


async def test_a_file_paired_with_one_of_two_as_alike_is_followed_to_neither_once_both_are_gone(
    index: Index,
) -> None:
    index.write("src/prod.py", PROD)
    index.write("backup/prod.py", PROD + "LEVEL = 'debug'\n")  # 14 of 15 lines alike, too
    await index.update()
    (index.root / "src/prod.py").unlink()
    await index.update()
    index.write("lib/settings.py", PROD + "LEVEL = 'info'\n")
    await index.update()
    assert await index.moved_to("src/prod.py") == ["lib/settings.py"]
    (index.root / "backup/prod.py").unlink()  # as much its source: which one it was is a guess
    await index.update()
    assert await index.moved_to("src/prod.py") == []
    assert await index.moved_to("backup/prod.py") == []
