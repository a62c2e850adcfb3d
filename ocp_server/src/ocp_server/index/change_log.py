"""What each index write changed, recorded in the database (`index_changes`, m027) with the
generation it moved the database to, in the write's own transaction: never missing for a
generation that is there, never there for one that is not.

Any process holding a snapshot of an older generation (the writer, a second IDE window, a
standby server, a CLI search) reads the changes since, in the read transaction it reads the
new rows in, and applies them (`snapshot_delta`) when every generation in between is recorded.
A generation moved on without a record (a write of an older server, a raw change of the
generation, a write of more than `MAX_FILES` files) or pruned (older than the last `KEEP`),
or a database made again at the same path (its `lineage` differs), is read whole.

A backup restored (`sqlite3 ocp.db ".restore backup.db"`, a file copied back) keeps the lineage
and the generation numbers, and a reader holding a later snapshot could take its numbers for
its own: the restored database written again up to the reader's generation looked current, one
written past it looked one recorded write ahead. So each write also stamps its generation with
a random value (`index_stamps`, m028), and a generation is known by both (`token`, "17.9f3a…"):
a reader's snapshot is patched only when the database holds its generation with its stamp.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass

import aiosqlite

__all__ = [
    "Change",
    "ChangeLog",
    "GENERATION_SQL",
    "KEEP",
    "MAX_FILES",
    "changes_since",
    "current_generation",
    "lineage",
    "next_generation",
    "token",
]

#: Generations whose changes are kept: a reader further behind reads whole. A watcher's
#: update writes one or two; a build one per batch of files (`indexer.BATCH_FILES`).
KEEP = 128
#: A write of more files is not recorded (a reader crossing it reads whole), so the table stays
#: small: a write of 5,000 files is a tenth (`snapshot_delta.MAX_SHARE`) of 50,000, and on
#: smaller workspaces read whole anyway.
MAX_FILES = 5000


@dataclass(frozen=True, slots=True)
class Change:
    """What one index write changed (or several, merged): the files (ids) whose rows or chunks
    it wrote or deleted, and whether it changed the recent commits."""

    files: frozenset[int]
    history: bool = False


#: The generation and its stamp (NULL when the write that made it stamped none: an older
#: server's, a raw change), as `token` joins them.
GENERATION_SQL = (
    "SELECT m.value, s.stamp FROM meta m LEFT JOIN index_stamps s"
    " ON s.generation = CAST(m.value AS INTEGER) WHERE m.key = 'generation'"
)


def token(generation: str, stamp: str | None) -> str:
    """A generation as readers compare it: its number and its stamp."""
    return f"{generation}.{stamp}" if stamp else generation


def current_generation(conn: sqlite3.Connection) -> str:
    """The database's generation (`token`), read in `conn`'s transaction; "" when none."""
    rows = conn.execute(GENERATION_SQL).fetchall()
    return token(str(rows[0][0]), rows[0][1]) if rows else ""


async def next_generation(db: aiosqlite.Connection) -> int:
    """Move the database's generation on and stamp it (in the caller's transaction); the new
    one."""
    await db.execute(
        "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
        "SET value = CAST(value AS INTEGER) + 1"
    )
    rows = await db.execute_fetchall("SELECT value FROM meta WHERE key = 'generation'")
    generation = int(next(iter(rows))[0])
    await db.execute(
        "INSERT OR REPLACE INTO index_stamps VALUES (?, ?)", (generation, secrets.token_hex(8))
    )
    return generation


class ChangeLog:
    """What the running index write changes (`Indexer._transaction`): it notes the files and
    the history as it writes them, and `record`s them before it commits."""

    def __init__(self) -> None:
        self.files: set[int] = set()
        self.history = False

    def begin(self) -> None:
        self.files, self.history = set(), False

    async def record(self, db: aiosqlite.Connection, generation: int) -> None:
        """Record what this write changed under `generation` (in its transaction), and let go
        of the generations older than the last `KEEP`. A write that moved the generation on
        without noting what it changed (none does today) is left out, as is one of more than
        `MAX_FILES` files: a snapshot crossing it is read whole."""
        if (self.files or self.history) and len(self.files) <= MAX_FILES:
            await db.execute(
                "INSERT OR REPLACE INTO index_changes VALUES (?, ?, ?)",
                (generation, json.dumps(sorted(self.files)), int(self.history)),
            )
        await db.execute("DELETE FROM index_changes WHERE generation <= ?", (generation - KEEP,))
        # one stamp more: a reader `KEEP` behind checks its own generation's
        await db.execute("DELETE FROM index_stamps WHERE generation < ?", (generation - KEEP,))


def _generation(value: str) -> tuple[int, str | None] | None:
    number, _, stamp = value.partition(".")
    try:
        return int(number), stamp or None
    except ValueError:
        return None


def lineage(conn: sqlite3.Connection) -> str:
    """The database's lineage (m027): made again at the same path, its generations count from
    0 again, and another lineage tells a reader that its snapshot is of another database."""
    rows = conn.execute("SELECT value FROM meta WHERE key = 'lineage'").fetchall()
    return str(rows[0][0]) if rows else ""


def changes_since(conn: sqlite3.Connection, start: str, end: str) -> Change | None:
    """The changes from generation `start` to `end` (`token`s), read in `conn`'s read
    transaction (the one `end` was read in); None unless the database holds `start` with its
    stamp (not so after a restore, nor for one not stamped) and records every generation
    between them."""
    begun, ended = _generation(start), _generation(end)
    if begun is None or ended is None or begun[1] is None:
        return None
    (first, stamp), last = begun, ended[0]
    if last < first:
        return None
    held = conn.execute("SELECT stamp FROM index_stamps WHERE generation = ?", (first,)).fetchall()
    if [row[0] for row in held] != [stamp]:
        return None
    rows = conn.execute(
        "SELECT files, history FROM index_changes WHERE generation > ? AND generation <= ?",
        (first, last),
    ).fetchall()
    if len(rows) != last - first:  # (the generation is the table's key)
        return None
    files: set[int] = set()
    for written, _ in rows:
        files.update(json.loads(written))
    return Change(frozenset(files), any(history for _, history in rows))
