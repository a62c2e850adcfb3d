"""Files the index saw move and change at once: one gone, one new, much the same lines.

A plain `mv` git was never told of, with an edit before the index saw it (the file renamed
in an editor and saved, or edited while no server ran), leaves no file of the very same
bytes (index/moves.py pairs those), so its citations had only their own content to go by,
and a block too short to prove anything found anywhere went stale. Within one update, each
file dropped is compared with the new files of its extension by their lines, as git's
rename detection compares them, and paired with the one it shares most with when that is
at least SAME_FILE of the larger file's distinct lines (git's default, `-M50%`: what `git
status` would call a rename had git been told) and MIN_SHARED lines: a file that only
repeats a few of its lines (the cited ones, an import) is another file. One more alike to
two, or two to one, is a guess: neither is paired. A new file another dropped file became
by its very bytes (moves.py) is that one's, not a look-alike's.

The two halves of a move may come in separate updates: a file deleted, then written anew
under another name by a later call; a file saved under a new name, the old one deleted
after. The lines of the files recent updates dropped and added (`Recent`) are kept for
WINDOW_S seconds and compared with the next updates' files: a file that comes later than
that is not taken for a move. Those files are paired as one update holding them all would
pair them: a pair made earlier in the window gives way when a file of a later update is
more alike to one of its two (`dev.py` deleted, then `settings.py` written, then `prod.py`,
which it is a copy of, deleted) or as alike (a guess: neither is paired).

Bounded: at most SKETCHED files and SKETCHED_CHARS characters each way are read in one
update (the dropped files of a new file's name first), their texts as the index stored them
(its chunks), unpacked once; their lines are kept as hashes, at most KEPT_LINES each way. A
first build keeps none. The comparison is made once all the update's files are written (one
most alike in a later batch is not passed over), of pairs with a file of this update or one
such a file could be paired with (two files of earlier updates whose pairing no new file
touches were compared then), and only of files that share a line few dropped files have
(not an import every one has): a folder of thousands moved is not compared every file with
every file.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import PurePosixPath
from typing import Final

import aiosqlite

from ocp_server.index.file_chunks import Processed
from ocp_server.index.lexicon import unpack_text
from ocp_server.index.moves import pair_kept

__all__ = [
    "COMMON",
    "EditedMoves",
    "KEPT_LINES",
    "MIN_SHARED",
    "Recent",
    "SAME_FILE",
    "SKETCHED",
    "SKETCHED_CHARS",
    "WINDOW_S",
    "similarity",
]

SAME_FILE: Final = 0.5  # shared distinct lines over the larger file's: git's -M50%
MIN_SHARED: Final = 3  # below this, a small file's few common lines prove nothing
SKETCHED: Final = 2_000  # files read on each side in one update
SKETCHED_CHARS: Final = 8_000_000  # and their text, on each side
WINDOW_S: Final = 60.0  # a move's halves seen by updates this far apart are still paired
KEPT_LINES: Final = 100_000  # distinct lines kept for later updates, each way (some MB)
COMMON: Final = 8  # a line more dropped files hold (an import) points to none of them
_BATCH: Final = 500  # SQLite's bound parameters a statement


Lines = frozenset[int]  # a file's distinct lines (stripped, not blank), hashed


class Recent:
    """The lines of the files recent updates dropped and added, for WINDOW_S seconds: at most
    SKETCHED files and KEPT_LINES lines each way, the oldest let go first; and the pairs made
    of them by their lines, which a later update's file more alike may undo."""

    def __init__(self) -> None:
        # path -> (when kept, its distinct lines), the oldest first
        self.gone: dict[str, tuple[float, Lines]] = {}
        self.new: dict[str, tuple[float, Lines]] = {}
        self.paired: dict[str, str] = {}  # dropped file -> the new one it was paired with

    def keep(self, now: float, gone: dict[str, Lines], new: dict[str, Lines]) -> None:
        for side, kept in ((self.gone, gone), (self.new, new)):
            for path, lines in kept.items():
                side.pop(path, None)
                side[path] = (now, lines)
            held = sum(len(lines) for _, lines in side.values())
            for path, (at, lines) in list(side.items()):
                if at >= now - WINDOW_S and len(side) <= SKETCHED and held <= KEPT_LINES:
                    break
                del side[path]
                held -= len(lines)
        self.paired = {old: to for old, to in self.paired.items() if old in self.gone}

    @staticmethod
    def lines(side: dict[str, tuple[float, Lines]]) -> dict[str, Lines]:
        now = time.time()
        return {p: lines for p, (at, lines) in side.items() if at >= now - WINDOW_S}


class EditedMoves:
    """The distinct lines of the files one update dropped, to pair with the new ones."""

    def __init__(self, gone: dict[str, Lines], recent: Recent | None = None) -> None:
        self.gone = gone  # path -> its distinct lines (stripped, not blank)
        self.recent = recent or Recent()  # the earlier updates' (kept on the indexer)
        self.since = time.time()  # the update's dropped files are recorded gone after this
        self.new: dict[str, Lines] = {}  # the update's new files, likewise (`add`)
        self._compared = 0  # new files read, and their characters: SKETCHED, SKETCHED_CHARS
        self._chars = 0

    @classmethod
    async def before_drop(
        cls,
        db: aiosqlite.Connection,
        file_ids: Sequence[int],
        new_paths: Iterable[str],
        recent: Recent,
    ) -> EditedMoves:
        """The lines of the files `file_ids` about to be dropped: read while their chunks are
        still stored (a file new in a later update may be one of them, edited), those of a
        name one of `new_paths` (the update's files new to the index) has first."""
        if not file_ids:
            return cls({}, recent)
        chosen: list[tuple[int, str]] = []  # (id, path): their paths first, then their text
        for start in range(0, len(file_ids), _BATCH):
            ids = list(file_ids[start : start + _BATCH])
            rows = await db.execute_fetchall(
                f"SELECT id, path FROM files WHERE id IN ({_marks(ids)}) "
                "AND skip_reason IS NULL ORDER BY id",
                ids,
            )
            chosen += [(int(i), str(p)) for i, p in rows]
        names = {p.rsplit("/", 1)[-1] for p in new_paths}
        if names:  # (a stable sort)
            chosen.sort(key=lambda row: row[1].rsplit("/", 1)[-1] not in names)
        found: dict[str, Lines] = {}
        chars = 0
        for start in range(0, min(len(chosen), SKETCHED), _BATCH):  # one query a batch
            part = chosen[start : min(start + _BATCH, SKETCHED)]
            ids = [file_id for file_id, _ in part]
            packed: defaultdict[int, list[bytes]] = defaultdict(list)
            for file_id, text in await db.execute_fetchall(
                f"SELECT file_id, text FROM chunks WHERE file_id IN ({_marks(ids)})", ids
            ):
                packed[int(file_id)].append(bytes(text))
            for file_id, path in part:
                if chars >= SKETCHED_CHARS:
                    return cls(found, recent)
                texts = [unpack_text(t) for t in packed[file_id]]
                chars += sum(map(len, texts))
                found[path] = _lines(texts)
        return cls(found, recent)

    def add(self, written: Sequence[Processed]) -> None:
        """Keep the lines of `written`, files new to the index just chunked (within SKETCHED,
        SKETCHED_CHARS), for `pair` once all are, and the updates to come."""
        for p in written:
            if p.chunks is None:
                continue
            if self._compared >= SKETCHED or self._chars >= SKETCHED_CHARS:
                return
            texts = [unpack_text(c.text) for c in p.chunks]
            self._compared += 1
            self._chars += sum(map(len, texts))
            self.new[p.candidate.path] = _lines(texts)

    async def pair(self, db: aiosqlite.Connection) -> None:
        """Pair the dropped files not paired yet (by their bytes, moves.py) with the most
        alike of the new files `add` kept, of all the update's batches, when alike enough;
        then those still unpaired with a copy indexed before (moves.pair_kept). Run once the
        update's files are written: a file moved beside an older copy is the new one."""
        fresh = {*self.gone, *self.new}  # pairs of earlier updates' files were tried then
        if fresh:
            gone = {**self.recent.lines(self.recent.gone), **self.gone}
            earlier = self.recent.lines(self.recent.new)
            new = {**await _indexed(db, earlier), **self.new}
            # pairs made by their lines in the window: undone when a file now is more alike
            revisable = {old: to for old, to in self.recent.paired.items() if old in gone}
            # a file a dropped one became by its very bytes (moves.py) is that one: no other's
            taken = await _targets(db, list(new), revisable)
            new = {p: lines for p, lines in new.items() if p not in taken and p not in gone}
            if gone and new:
                await _pair_alike(db, gone, new, fresh, self.recent.paired)
            self.recent.keep(time.time(), self.gone, self.new)
        await pair_kept(db, self.since)  # then those left with a copy indexed before they went


async def _pair_alike(
    db: aiosqlite.Connection,
    gone: dict[str, Lines],
    new: dict[str, Lines],
    fresh: set[str],
    paired: dict[str, str],
) -> None:
    """Pair those of `gone` not paired yet, or `paired` by their lines in the window (and
    still so, with one of `new`), with their most alike of `new`, if alike enough; a pair of
    `paired` that one of `fresh` (this update's files) now outdoes is undone. `paired` is
    kept up to date."""
    paths = list(gone)
    unpaired: set[str] = set()
    for start in range(0, len(paths), _BATCH):
        part = paths[start : start + _BATCH]
        for path, to in await db.execute_fetchall(
            f"SELECT path, moved_to FROM gone_files WHERE path IN ({_marks(part)})", part
        ):
            # (one whose new file went since stays: a chain of moves, followed file by file)
            if to is None or (paired.get(str(path)) == to and to in new):
                unpaired.add(str(path))
    pairs, touched = _pairs({p: s for p, s in gone.items() if p in unpaired}, new, fresh, paired)
    made = {old: to for to, old in pairs}
    undone = [
        (old, to)
        for old, to in paired.items()
        if old in unpaired and made.get(old) != to and {old, to} & touched
    ]
    await db.executemany(
        "UPDATE gone_files SET moved_to = NULL WHERE path = ? AND moved_to = ?", undone
    )
    await db.executemany("UPDATE gone_files SET moved_to = ? WHERE path = ?", pairs)
    for old, _ in undone:
        del paired[old]
    paired.update(made)


async def _indexed(db: aiosqlite.Connection, files: dict[str, Lines]) -> dict[str, Lines]:
    """Those of `files` still indexed (one gone since, or no longer indexed, is no target)."""
    paths, held = list(files), set()
    for start in range(0, len(paths), _BATCH):
        part = paths[start : start + _BATCH]
        rows = await db.execute_fetchall(
            f"SELECT path FROM files WHERE skip_reason IS NULL AND path IN ({_marks(part)})",
            part,
        )
        held |= {str(r[0]) for r in rows}
    return {p: lines for p, lines in files.items() if p in held}


async def _targets(
    db: aiosqlite.Connection, paths: Sequence[str], revisable: dict[str, str]
) -> set[str]:
    """Those of `paths` a dropped file is paired with already, other than by a pair of
    `revisable` (made by their lines in the window, which a file more alike may undo)."""
    taken: set[str] = set()
    for start in range(0, len(paths), _BATCH):
        part = list(paths[start : start + _BATCH])
        rows = await db.execute_fetchall(
            f"SELECT path, moved_to FROM gone_files WHERE moved_to IN ({_marks(part)})", part
        )
        taken |= {str(to) for old, to in rows if revisable.get(str(old)) != to}
    return taken


def similarity(old: Lines, new: Lines) -> float:
    """Distinct lines the two share over the larger one's (0 below MIN_SHARED shared)."""
    shared = len(old & new)
    return shared / max(len(old), len(new)) if shared >= MIN_SHARED else 0.0


def _pairs(
    gone: dict[str, Lines], new: dict[str, Lines], fresh: set[str], paired: dict[str, str]
) -> tuple[list[tuple[str, str]], set[str]]:
    """(new, old) for each dropped file whose most alike new file of its extension is alike
    enough and has no other dropped file as alike (nor it another new one); and the files
    whose pairing was worked out: those of `fresh` and their candidates (a file of earlier
    updates a fresh one could be paired with). Only pairs with one of them are compared (two
    other files were compared when the later came, and nothing new bears on them), and that
    share a line at most COMMON dropped files hold (a file alike enough to one shares such
    lines); a pair is made of two of them only (the other's most alike may be unknown), or
    kept of one and a file it was `paired` with (whose most alike no new file can change)."""
    holding: defaultdict[int, list[str]] = defaultdict(list)  # line -> the dropped files
    for old, old_lines in gone.items():
        for line in old_lines:
            holding[line].append(old)
    suffixes = {old: PurePosixPath(old).suffix for old in gone}
    candidates: dict[str, set[str]] = {}  # new file -> the dropped ones it is compared with
    touched = set(fresh)
    for path, lines in new.items():
        suffix = PurePosixPath(path).suffix
        olds = {o for line in lines if len(h := holding.get(line, [])) <= COMMON for o in h}
        candidates[path] = {o for o in olds if suffixes[o] == suffix}
        if path in fresh:
            touched |= candidates[path]
        elif not fresh.isdisjoint(candidates[path]):
            touched.add(path)
    best_new: dict[str, tuple[float, list[str]]] = {}
    best_old: dict[str, tuple[float, list[str]]] = {}
    for path, olds in candidates.items():
        lines = new[path]
        for old in sorted(olds):
            if old not in touched and path not in touched:
                continue
            score = similarity(gone[old], lines)
            if score < SAME_FILE:
                continue
            for best, key, other in ((best_new, old, path), (best_old, path, old)):
                top = best.get(key)
                if top is None or score > top[0]:
                    best[key] = (score, [other])
                elif score == top[0]:
                    top[1].append(other)
    pairs = [
        (news[0], old)
        for old, (_, news) in best_new.items()
        if len(news) == 1
        and best_old[news[0]][1] == [old]
        and ({old, news[0]} <= touched or paired.get(old) == news[0])
    ]
    return pairs, touched


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _lines(texts: Iterable[str]) -> Lines:
    # map and filter, not a generator: a folder of thousands dropped is hashed line by line
    return frozenset(
        map(hash, filter(None, map(str.strip, chain.from_iterable(map(str.splitlines, texts)))))
    )
