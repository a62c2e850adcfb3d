"""OCP's own database files, when OCP_DB_PATH puts them inside the workspace: never listed as
files of the workspace (reading one would drop this process's SQLite locks on it: POSIX locks
go at any close of the file) and never edits to the watcher (each write would re-index).

Known by the paths OCP_DB_PATH spells, and by what they are: on a case-insensitive filesystem
(macOS, Windows) OCP_DB_PATH may spell the workspace in another case than the IDE does
(`/users/me/proj` for `/Users/me/Proj`), or the database in another case than the disk, and
git lists the disk's names; a link is the same file by another name too. So a listed file is
also compared by (device, inode), which the listing's own stat gives, and a watcher's event
named as one of them but for case by the file (or, once it is gone, its folder) it is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NO_OWN_FILES", "OwnFiles", "SIDE_FILES", "SNAPSHOT_FILES", "same_file"]

#: The database, and the files SQLite keeps beside it (this module imports nothing of OCP's:
#: the listing's importers need not load the database's).
SIDE_FILES = ("", "-wal", "-shm", "-journal")
#: The snapshot saved beside the database (`saved_snapshot`), and the one being written: not
#: SQLite's (the database opens whatever they are), but OCP's own files all the same.
SNAPSHOT_FILES = ("-snapshot", "-snapshot-new")

Identity = tuple[int, int]  # (st_dev, st_ino)


def same_file(path: Path, other: Path) -> bool:
    """Whether `path` and `other` are one file by any spelling: the same resolved path, or the
    same (device, inode) (another case on a case-insensitive filesystem, a hard link)."""
    if path.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist: not the same file
        return False


@dataclass(frozen=True, slots=True)
class OwnFiles:
    names: frozenset[str] = frozenset()  # relative to the workspace, as OCP_DB_PATH spells them
    paths: tuple[str, ...] = ()  # the database and its side files, absolute

    @classmethod
    def of(cls, workspace: Path, db_path: Path) -> OwnFiles:
        """`db_path`'s files; their names in the workspace when its path is inside it."""
        paths = tuple(f"{db_path}{s}" for s in SIDE_FILES + SNAPSHOT_FILES)
        try:
            folder = db_path.parent.resolve().relative_to(workspace.resolve()).as_posix()
        except ValueError:  # outside, or inside by another spelling (identities() then)
            return cls(frozenset(), paths)
        prefix = "" if folder == "." else folder + "/"
        names = (f"{prefix}{db_path.name}{s}" for s in SIDE_FILES + SNAPSHOT_FILES)
        return cls(frozenset(names), paths)

    def identities(self) -> frozenset[Identity]:
        """Those of the files that exist now: taken at each listing (SQLite makes the -wal and
        -shm files anew)."""
        found = set()
        for path in self.paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            found.add((st.st_dev, st.st_ino))
        return frozenset(found)

    def written(self, path: str) -> bool:
        """Whether a watcher's event at `path` is about one of the files: named as one of them
        in its folder, or named so but for case and the same file (gone: in the same folder)."""
        name = os.path.basename(path)
        folded = name.casefold()
        own = next((p for p in self.paths if os.path.basename(p).casefold() == folded), None)
        if own is None:
            return False
        if name == os.path.basename(own) and Path(path).parent.resolve() == (
            Path(own).parent.resolve()
        ):
            return True
        try:
            if os.path.exists(path):
                return os.path.samefile(path, own)
            return os.path.samefile(os.path.dirname(path), os.path.dirname(own))
        except OSError:  # ours is not there (or the folder is gone): not the same
            return False


NO_OWN_FILES = OwnFiles()  # the database is elsewhere (or the caller has none)
