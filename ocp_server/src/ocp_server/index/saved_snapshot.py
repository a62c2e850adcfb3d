"""The postings snapshot (`lexical.Snapshot`) saved in a file beside the database, so that a
restart reads it instead of every chunk's row (100,000 files: about 1 s of CPU from the rows,
0.05-0.2 s from the file; bench/bench_restart_search.py).

It is a cache of the rows, never new data: written from a snapshot read from them (the files
skipped, secrets among them, are in neither), and used only for what the database holds now.
Its key is the database's lineage (`change_log.lineage`: made again at the same path, another
one), the workspace the database holds, its schema version and the generation it was read at
(`change_log.token`, with its stamp); the format's version and a digest of the index
package's code and numpy's and PyStemmer's versions stand for the code (`code_digest`). A
file of another key, format or build, larger than the bound (OCP_SNAPSHOT_MB), cut short or
damaged, a link or no regular file is left unused (the caller reads the rows, and writes it
again); one of an older generation of the same database is brought up to date as a held
snapshot is (`snapshot_delta`).

The format is numpy's `.npz` (a zip of `.npy` members, stored, never pickled: read with
`allow_pickle=False`): a `header` member (JSON: format, build, key, generation, and how the
snapshot's fields are laid out over the members) and one member per array; a tuple of strings
is its UTF-8 text joined by NUL with a mask of its None; arrays two tables share (their keys)
are stored once. Each member's CRC-32 is checked as it is read: a damaged file fails to read.
It is written to `<database>-snapshot-new`, flushed to the disk (fsync), then renamed over
`<database>-snapshot`: renamed first, a crash could leave the new name on a file cut short,
which its checks find only after a restart paid for reading it, and then the rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import stat
import threading
import zipfile
from dataclasses import dataclass, fields
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.npyio import NpzFile

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from ocp_server import __version__
from ocp_server.db import FILE_MODE
from ocp_server.index import change_log
from ocp_server.index.commit_postings import History
from ocp_server.index.lexical import Block, Snapshot
from ocp_server.index.own_files import SNAPSHOT_FILES
from ocp_server.index.postings import Postings

__all__ = [
    "FORMAT",
    "SavedFile",
    "SnapshotKey",
    "read_saved",
    "remove_over",
    "remove_saved",
    "saved_file",
    "saved_path",
    "snapshot_key",
    "write_saved",
]

logger = logging.getLogger(__name__)

#: The layout's version: a change of what a member holds moves it on (a change of the modules
#: that build a snapshot is seen by their digest, `_build`).
FORMAT = 1


_PARTS: dict[str, type] = {c.__name__: c for c in (Snapshot, Postings, Block, History)}

#: How both files are opened: never through a link (an `.ocp/` folder can be committed, and a
#: link there would have a save overwrite the file it names), never waiting on a named pipe
#: (opening one waits for its other end: the first search, or a server's close, for ever).
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True, slots=True)
class SnapshotKey:
    """What a saved snapshot is of, besides its generation."""

    lineage: str  # the database's (`change_log.lineage`)
    workspace: str  # the workspace the database holds (meta `workspace`)
    schema: int  # PRAGMA user_version


def snapshot_key(conn: sqlite3.Connection) -> SnapshotKey:
    """The key of the database `conn` reads, in its transaction."""
    rows = conn.execute("SELECT value FROM meta WHERE key = 'workspace'").fetchall()
    ((schema,),) = conn.execute("PRAGMA user_version").fetchall()
    return SnapshotKey(change_log.lineage(conn), str(rows[0][0]) if rows else "", int(schema))


def saved_path(db_path: Path) -> Path:
    return Path(f"{db_path}{SNAPSHOT_FILES[0]}")


def _new_path(db_path: Path) -> Path:
    return Path(f"{db_path}{SNAPSHOT_FILES[1]}")


_build_digest: str | None = None


def code_digest(package: Path) -> str:
    """A digest of this format, the versions that build a snapshot and every module in `package`.

    Every module of the index package and its subpackages (`chunking` classifies paths), not a
    list of the builders: a list missed the modules the builders' code moved to
    (`chunk_columns`, `file_kinds`), and a file written by other code must not be read. A
    release changes the version anyway; this guards editable installs and upgrades of numpy
    (the arrays) and PyStemmer (the terms).
    """
    versions = " ".join(version(name) for name in ("numpy", "PyStemmer"))
    digest = hashlib.blake2b(f"{FORMAT} {__version__} {versions}".encode(), digest_size=12)
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode())
        try:
            digest.update(module.read_bytes())
        except OSError:  # unreadable: its name stands for it, the version for the rest
            pass
    return digest.hexdigest()


def _build() -> str:
    global _build_digest
    if _build_digest is None:
        _build_digest = code_digest(Path(__file__).parent)
    return _build_digest


def _stamped(generation: str) -> bool:
    """Whether a generation carries its stamp (`change_log.token`): only then does it name
    one state of one database (an unstamped number may come back after a restore)."""
    return "." in generation


def _member(part: str, field: str) -> str:
    """A field's member name: `chunk_body.keys`."""
    return f"{part}.{field}" if part else field


# ---- writing --------------------------------------------------------------------------------


class _Layout:
    """A snapshot's fields as members (`put`): the JSON layout and the arrays."""

    def __init__(self) -> None:
        self.members: dict[str, np.ndarray] = {}
        self._seen: dict[int, str] = {}  # id(array) -> its member: shared keys stored once

    def put(self, name: str, value: object) -> Any:
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"{name}: an array of objects cannot be saved")
            if (first := self._seen.get(id(value))) is not None:
                return {"same": first}
            self._seen[id(value)] = name
            self.members[name] = value
            return "array"
        if isinstance(value, bool):
            return {"bool": value}
        if isinstance(value, str):
            return {"str": value}
        if isinstance(value, tuple):
            return {"strings": self._strings(name, value)}
        if isinstance(value, dict):  # the stems: str -> indexes
            self._strings(f"{name}:keys", tuple(value))
            values = list(value.values())
            self.members[f"{name}:sizes"] = np.fromiter(map(len, values), np.int64, len(values))
            joined = np.concatenate(values) if values else np.zeros(0, dtype=np.int64)
            self.members[f"{name}:values"] = joined
            return {"stems": len(values)}
        kind = type(value).__name__
        if _PARTS.get(kind) is type(value):
            parts = {
                f.name: self.put(_member(name, f.name), getattr(value, f.name))
                for f in fields(value)  # type: ignore[arg-type]
                if f.init
            }
            return {"of": kind, "fields": parts}
        raise TypeError(f"{name}: a {kind} cannot be saved")

    def _strings(self, name: str, values: tuple[str | None, ...]) -> int:
        text = "\0".join(v or "" for v in values).encode("utf-8", "surrogatepass")
        self.members[name] = np.frombuffer(text, dtype=np.uint8)
        self.members[f"{name}:none"] = np.fromiter(
            (v is None for v in values), dtype=bool, count=len(values)
        )
        return len(values)


def write_saved(
    db_path: Path,
    snapshot: Snapshot,
    key: SnapshotKey,
    max_bytes: int,
    stop: threading.Event | None = None,
) -> bool:
    """Save `snapshot` (read from the database of `key`) beside the database, replacing the
    file at once when written whole; False when not written: larger than `max_bytes`, its
    generation unstamped, another process writing one, or `stop` set meanwhile. Blocking."""
    if not _stamped(snapshot.generation):
        return False
    layout = _Layout()
    header = {
        "format": FORMAT,
        "build": _build(),
        "generation": snapshot.generation,
        "lineage": key.lineage,
        "workspace": key.workspace,
        "schema": key.schema,
        "layout": layout.put("", snapshot),
    }
    if sum(a.nbytes for a in layout.members.values()) > max_bytes:
        _too_large(db_path)  # one saved before is stale now: not left to be read at each start
        return False
    new = _new_path(db_path)
    fd = _create(new)
    if fd is None:
        return False
    stopped = False
    try:
        # renamed while its lock is held: no other writer can have it open for writing then
        with os.fdopen(fd, "wb") as out:
            with zipfile.ZipFile(out, "w", allowZip64=True) as zipped:
                text = json.dumps(header).encode()
                members = {"header": np.frombuffer(text, dtype=np.uint8), **layout.members}
                for name, array in members.items():
                    if stopped := stop is not None and stop.is_set():
                        break
                    with zipped.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            if stopped:
                new.unlink()
                return False
            out.flush()
            if out.tell() > max_bytes:  # the members' headers took it over the bound
                new.unlink()
                _too_large(db_path)
                return False
            os.fsync(out.fileno())  # its bytes on the disk before its name is
            os.replace(new, saved_path(db_path))
    except BaseException:
        new.unlink(missing_ok=True)
        raise
    return True


def _create(new: Path) -> int | None:
    """The new file, open for this write alone: None while another process writes it (it
    holds the file's lock; one a killed writer left is locked by no one, and written over).
    Without flock (Windows) two processes saving at once may spoil the file: read, it fails
    its checks and the rows are read."""
    for _ in range(3):
        try:
            fd = os.open(new, os.O_WRONLY | os.O_CREAT | _OPEN_FLAGS, FILE_MODE)
        except OSError as exc:  # a link (ELOOP), a pipe no one reads (ENXIO)
            logger.warning("%s is no regular file (%s): the snapshot is not saved", new, exc)
            return None
        if not _regular(fd, new):
            return None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(fd), os.stat(new)):  # not renamed before the lock
                os.ftruncate(fd, 0)
                return fd
        except BlockingIOError:  # another process writes it
            os.close(fd)
            return None
        except FileNotFoundError:  # renamed by its writer: a new one is made
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    return None


def _regular(fd: int, path: Path) -> bool:
    """Whether `fd` is a regular file; closed, and said in the log, when not."""
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return True
    os.close(fd)
    logger.warning("%s is no regular file: the index's snapshot is not read or saved", path)
    return False


def remove_saved(db_path: Path) -> None:
    """Delete the saved snapshot (saving turned off)."""
    saved_path(db_path).unlink(missing_ok=True)


def remove_over(db_path: Path, max_bytes: int) -> None:
    """Delete the saved snapshot when its file is larger than `max_bytes` (one an earlier,
    larger `OCP_SNAPSHOT_MB` let be written): the bound holds for what is on disk."""
    try:
        size = saved_path(db_path).stat().st_size
    except OSError:  # none saved (or unreadable: reading it fails the same way)
        return
    if size > max_bytes:
        _too_large(db_path)


def _too_large(db_path: Path) -> None:
    """The snapshot is larger than OCP_SNAPSHOT_MB: none is saved, and one saved before (older,
    and perhaps larger than the bound) is not left behind."""
    logger.info("the index's snapshot is larger than OCP_SNAPSHOT_MB: not saved")
    remove_saved(db_path)


# ---- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavedFile:
    """What the saved snapshot's file is, as `ocp-server status` says it (its header alone
    read: a member damaged further in is found by the read)."""

    size: int  # bytes
    modified: float  # its mtime
    #: current: of this database as it is now; older: of this database, an earlier generation
    #: (brought up to date when read); other: another database, schema, format or build;
    #: too_large: over OCP_SNAPSHOT_MB; off: OCP_SNAPSHOT_MB is 0 (a server deletes it);
    #: damaged: cut short, damaged or no regular file. The last four are unused: a restart
    #: reads the rows.
    state: str
    key_matches: bool  # of this database (lineage, workspace, schema) and this build


def saved_file(
    db_path: Path, key: SnapshotKey, generation: str, max_bytes: int
) -> SavedFile | None:
    """The saved snapshot's file beside the database of `key`, now at `generation`; None when
    there is none. Blocking."""
    path = saved_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError:  # a link, a pipe no one writes
        info = path.lstat()
        return SavedFile(info.st_size, info.st_mtime, "damaged", False)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return SavedFile(info.st_size, info.st_mtime, "damaged", False)
    try:
        with os.fdopen(fd, "rb") as file, _npz(np.load(file, allow_pickle=False)) as npz:
            too_large = max(info.st_size, _array_bytes(npz)) > max_bytes
            header = json.loads(bytes(npz["header"]))
            found = SnapshotKey(header["lineage"], header["workspace"], header["schema"])
            build = (header["format"], header["build"]) == (FORMAT, _build())
            saved_generation = header["generation"]
    except Exception:  # noqa: BLE001 - cut short or damaged: what the read would find
        return SavedFile(info.st_size, info.st_mtime, "damaged", False)
    matches = build and found == key
    if max_bytes == 0:  # not "larger than OCP_SNAPSHOT_MB": snapshots are off
        state = "off"
    elif too_large:
        state = "too_large"
    elif not matches:
        state = "other"
    else:
        state = "current" if saved_generation == generation else "older"
    return SavedFile(info.st_size, info.st_mtime, state, matches)


def read_saved(db_path: Path, key: SnapshotKey, max_bytes: int) -> Snapshot | None:
    """The snapshot saved beside the database when it was read from the database of `key`
    with this build, else None (none saved, another key, format or build; its arrays larger
    than `max_bytes`; a file cut short, damaged or unreadable: said in the log). Its
    generation may be older than the database's: the caller checks it. Blocking."""
    path = saved_path(db_path)
    try:
        # opened here: np.load leaves a file it opened open when it holds no array at all
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
        if not _regular(fd, path):
            return None
        with os.fdopen(fd, "rb") as file, _npz(np.load(file, allow_pickle=False)) as npz:
            if _array_bytes(npz) > max_bytes:  # (by the zip's directory: nothing read yet)
                logger.info("the saved snapshot %s is larger than OCP_SNAPSHOT_MB: unused", path)
                return None
            header = json.loads(bytes(npz["header"]))
            found = SnapshotKey(header["lineage"], header["workspace"], header["schema"])
            if (header["format"], header["build"]) != (FORMAT, _build()) or found != key:
                logger.info("the saved snapshot %s is of another index or build: unused", path)
                return None
            generation = header["generation"]
            if not isinstance(generation, str) or not _stamped(generation):
                return None
            snapshot = _Reader(npz).get("", header["layout"])
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a file cut short or damaged: the rows are read
        logger.warning(
            "the saved snapshot %s could not be read (%s): the index's rows are read", path, exc
        )
        return None
    if not isinstance(snapshot, Snapshot) or snapshot.generation != generation:
        logger.warning("the saved snapshot %s holds no snapshot: the index's rows are read", path)
        return None
    return snapshot


#: At most this much of a member is not its array: the `.npy` header (128 bytes for ours).
_NPY_HEADER = 256


def _array_bytes(npz: NpzFile) -> int:
    """The arrays' bytes as the file's members declare them (at least)."""
    if npz.zip is None:  # (closed)
        raise ValueError("the file is closed")
    members = [i for i in npz.zip.infolist() if i.filename != "header.npy"]
    return sum(i.file_size for i in members) - _NPY_HEADER * len(members)


def _npz(loaded: object) -> NpzFile:
    if not isinstance(loaded, NpzFile):
        raise ValueError("not an .npz file")
    return loaded


class _Reader:
    """A layout's values from the members (`_Layout.put` backwards)."""

    def __init__(self, npz: NpzFile) -> None:
        self._npz = npz
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, entry: Any) -> object:
        if entry == "array":
            array = self._arrays[name] = self._npz[name]
            return array
        if "same" in entry:
            return self._arrays[entry["same"]]
        if "bool" in entry:
            return bool(entry["bool"])
        if "str" in entry:
            return str(entry["str"])
        if "strings" in entry:
            return self._strings(name, entry["strings"])
        if "stems" in entry:
            stems = self._strings(f"{name}:keys", entry["stems"])
            sizes = self._npz[f"{name}:sizes"]
            values = self._npz[f"{name}:values"]
            ends = np.cumsum(sizes).tolist()
            starts = [0, *ends[:-1]]
            return {s: values[a:b] for s, a, b in zip(stems, starts, ends, strict=True)}
        cls = _PARTS[entry["of"]]
        return cls(**{f: self.get(_member(name, f), e) for f, e in entry["fields"].items()})

    def _strings(self, name: str, count: int) -> tuple[str | None, ...]:
        text = bytes(self._npz[name]).decode("utf-8", "surrogatepass")
        none = self._npz[f"{name}:none"]
        values = text.split("\0") if count else []
        if len(values) != count or len(none) != count:
            raise ValueError(f"{name}: {len(values)} strings, not {count}")
        if not none.any():
            return tuple(values)
        return tuple(None if n else v for v, n in zip(values, none.tolist(), strict=True))
