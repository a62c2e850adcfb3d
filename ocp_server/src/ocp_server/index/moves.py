"""Files the index saw move: one gone and one of the very same bytes new (`gone_files`, m045).

A plain `mv` git was never told of (a file not added, or no git at all) leaves no trace but
this: the update that lists the workspace after it finds the old path gone and the new one
new, with the same content hash. The index records each file it drops (its path and hash)
and pairs it with a new file of the same hash written since, so a citation of the old path
can follow the file (citations/view.py `CodeView.moved_to`) even after the new one is edited.
A copy is never paired while its original stays: only a dropped file is, with a new file or
with a copy indexed before it went (`cp` in one update, `rm` in a later one). Two dropped
files of one content (two empty `__init__.py` moved with their folders) pair only by their
name; left ambiguous, neither is followed. Nor is a file of another extension (`.py` to
`.txt`). Bytes of a tiny file (under MIN_PAIRED_BYTES: an empty `__init__.py`, one import)
are common to files that are not one another: such a new file is paired only by its very
name (a folder renamed), and a tiny copy is never followed. A file skipped where it stands
(it gained a secret) is not gone (indexer.py). A file moved and edited at once is paired by
its lines (edited_moves.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence, Set
from pathlib import PurePosixPath
from typing import Final

import aiosqlite

__all__ = [
    "KEEP_GONE",
    "MAX_HOPS",
    "MIN_PAIRED_BYTES",
    "moved_to",
    "pair_kept",
    "pair_new",
    "record_gone",
]

KEEP_GONE: Final = 20_000  # dropped files remembered, the last dropped kept
MAX_HOPS: Final = 3  # moves followed from a path, as git's renames are (citations/renames.py)
MIN_PAIRED_BYTES: Final = 64  # smaller files' bytes are no one file's (empty, one import)
_BATCH: Final = 500  # SQLite's bound parameters a statement


async def record_gone(db: aiosqlite.Connection, file_ids: Sequence[int], now: float) -> None:
    """Remember the indexed files `file_ids` (about to be deleted) as gone, unpaired."""
    for start in range(0, len(file_ids), _BATCH):
        ids = list(file_ids[start : start + _BATCH])
        marks = ",".join("?" * len(ids))
        await db.execute(
            "INSERT INTO gone_files (path, content_hash, gone_at) "
            f"SELECT path, content_hash, ? FROM files WHERE id IN ({marks}) "
            "AND skip_reason IS NULL AND content_hash != '' "
            "ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, "
            "gone_at = excluded.gone_at, moved_to = NULL",
            (now, *ids),
        )
    if file_ids:
        await db.execute(
            "DELETE FROM gone_files WHERE gone_at < "
            "(SELECT gone_at FROM gone_files ORDER BY gone_at DESC LIMIT 1 OFFSET ?)",
            (KEEP_GONE,),
        )


async def pair_kept(db: aiosqlite.Connection, since: float) -> None:
    """Pair the files dropped since `since` (this update) and not paired with a new file
    (`pair_new`) with the indexed files holding their very bytes: a copy made before its
    original went, in an earlier update, was no new file to pair it with. Run once the
    update's files are written: a file moved beside an older copy of it is the new one."""
    gone: defaultdict[str, list[str]] = defaultdict(list)
    for path, content_hash in await db.execute_fetchall(
        "SELECT path, content_hash FROM gone_files WHERE gone_at >= ? AND moved_to IS NULL",
        (since,),
    ):
        gone[str(content_hash)].append(str(path))
    if not gone:
        return
    kept = await _paths_by_hash(
        db,
        "SELECT path, content_hash FROM files WHERE skip_reason IS NULL "
        f"AND size >= {MIN_PAIRED_BYTES}",  # a tiny copy is any file's: never followed
        list(gone),
    )
    await _record_pairs(db, gone, kept)


async def pair_new(db: aiosqlite.Connection, written: Sequence[tuple[str, str, int]]) -> None:
    """Pair the files just written at paths new to the index, (path, content hash, size)
    each, with the dropped files of their content not paired yet: one each, or one by its
    name (a tiny file only by its name)."""
    if not written:
        return
    new_at = [p for p, _, _ in written]
    for start in range(0, len(new_at), _BATCH):  # back where it was: no longer gone
        part = new_at[start : start + _BATCH]
        await db.execute(f"DELETE FROM gone_files WHERE path IN ({_marks(part)})", part)
    new: defaultdict[str, list[str]] = defaultdict(list)
    tiny: set[str] = set()
    for path, content_hash, size in written:
        new[content_hash].append(path)
        if size < MIN_PAIRED_BYTES:
            tiny.add(content_hash)
    gone = await _paths_by_hash(
        db, "SELECT path, content_hash FROM gone_files WHERE moved_to IS NULL", list(new)
    )
    await _record_pairs(db, gone, new, tiny)


async def _paths_by_hash(
    db: aiosqlite.Connection, select: str, hashes: list[str]
) -> defaultdict[str, list[str]]:
    """The paths of `select`'s (path, content_hash) rows whose hash is one of `hashes`, by
    hash (`select` ends in a WHERE condition the hashes are ANDed to; asked in batches)."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for start in range(0, len(hashes), _BATCH):
        part = hashes[start : start + _BATCH]
        for path, content_hash in await db.execute_fetchall(
            f"{select} AND content_hash IN ({_marks(part)})", part
        ):
            found[str(content_hash)].append(str(path))
    return found


async def _record_pairs(
    db: aiosqlite.Connection,
    gone: dict[str, list[str]],
    targets: defaultdict[str, list[str]],
    tiny: Set[str] = frozenset(),
) -> None:
    """Record where each gone file of a content went among `targets` of the same content
    (of a `tiny` content, only to a file of its name)."""
    pairs: list[tuple[str, str]] = []
    for content_hash, olds in gone.items():
        pairs += _paired(olds, targets[content_hash], by_name=content_hash in tiny)
    await db.executemany("UPDATE gone_files SET moved_to = ? WHERE path = ?", pairs)


async def moved_to(db: aiosqlite.Connection, path: str) -> list[str]:
    """The paths the index saw `path` move to, the latest first (empty when it saw none)."""
    hops: list[str] = []
    current = path
    while len(hops) < MAX_HOPS:
        rows = list(
            await db.execute_fetchall(
                "SELECT moved_to FROM gone_files WHERE path = ? AND moved_to IS NOT NULL",
                (current,),
            )
        )
        new = str(rows[0][0]) if rows else None
        if new is None or new in hops or new == path:
            break
        hops.append(new)
        current = new
    return hops[::-1]


def _paired(olds: list[str], news: list[str], by_name: bool = False) -> list[tuple[str, str]]:
    """(new, old) for each pairing that is not a guess: one of each (unless `by_name`), else
    by file name. A file of another kind (`settings.py` to `settings.txt`) is not the code
    it was."""
    pairs = []
    for old in olds:
        at = PurePosixPath(old)
        kin_old = [o for o in olds if PurePosixPath(o).suffix == at.suffix]
        kin_new = [n for n in news if PurePosixPath(n).suffix == at.suffix]
        if len(kin_old) == 1 and len(kin_new) == 1 and not by_name:
            pairs.append((kin_new[0], old))
            continue
        same_old = [o for o in kin_old if PurePosixPath(o).name == at.name]
        same_new = [n for n in kin_new if PurePosixPath(n).name == at.name]
        if len(same_old) == 1 and len(same_new) == 1:
            pairs.append((same_new[0], old))
    return pairs


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))
