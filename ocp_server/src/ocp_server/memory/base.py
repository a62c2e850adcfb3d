"""The base of MemoryStore: its settings, shared reads and the cited files' signatures."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiosqlite

from ocp_server.citations import Located
from ocp_server.db_holders import named_holders
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES
from ocp_server.memory.queries import (
    COMMON_SHARE,
    COUNT_CAP,
    DECISIONS,
    DEFAULT_TTL_DAYS,
    EXPIRED_DECISIONS,
    EXPIRED_NOTES,
    NOTES,
    OPEN_ITEMS,
    RACY_NS,
    SESSIONS,
    TRACES,
    UNCONFIRMED,
    placeholders,
)
from ocp_server.trace_store import TraceStore

# How long the checkpoint after an erase waits for other connections: their reads and writes
# take milliseconds, unless something holds a transaction open.
CHECKPOINT_WAIT_MS: Final = 250
_TERM = re.compile(r"\w+")  # a word as the memory index's tokenizer cuts it (tokenchars _)


async def checkpointed(db: aiosqlite.Connection, wait_ms: int = CHECKPOINT_WAIT_MS) -> bool:
    """Copy the WAL into the database file and truncate it, outside any transaction. False
    when another connection's reader or writer held on for `wait_ms`: the -wal file keeps
    what it held until a later checkpoint."""
    ((timeout,),) = await db.execute_fetchall("PRAGMA busy_timeout")
    await db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        rows = list(await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return not rows or int(rows[0][0]) == 0


class MemoryBase(TraceStore):
    """What every part of session memory shares: the workspace cited code lives in, the TTL,
    the memory index's term frequencies, the cited files' signatures, and the snapshot that
    a restore and a citation check read first."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        clock: Callable[[], float] = time.time,
        lock: asyncio.Lock | None = None,
        workspace: Path | None = None,
        ttl_days: float = DEFAULT_TTL_DAYS,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        """`workspace`: where cited code lives (None: citations are refused). `ttl_days`:
        memories not served while valid for that long expire (0: never). `max_file_bytes`:
        cited files larger than this are not read (OCP_MAX_FILE_BYTES, as for the index)."""
        super().__init__(db, clock=clock, lock=lock)
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes
        self.ttl_seconds = ttl_days * 86400.0
        self._df: dict[str, int] = {}  # term -> memories holding it (approximate)
        self._df_total = 0
        # term -> memories holding it, exact: as read from the index and kept up to date as
        # this connection writes, while no other connection writes (PRAGMA data_version).
        # `_df` is dropped and read again (its rules decide which words a save compares by);
        # what it reads again is taken from here, not from the index (walking each word's
        # postings cost up to 0.75 s of CPU a save).
        self._counts: dict[str, int] = {}
        self._counts_version: int | None = None
        # The memory index's size, read once a pass of a save (`_sized`) and kept up to date
        # as this connection writes: a save looks its items' candidates up hundreds of times.
        self._documents: int | None = None
        self._sizing = False
        self._erase_due = False  # erased text may still sit in the -wal file (forget.py)
        self._saves = asyncio.Lock()  # saves run one at a time, in order (save.py)

    async def _checkpoint_erased(self, warnings: list[str]) -> None:
        """After the commit of a save that erased text (or any later call while that is
        due): the old pages leave the -wal file and the database file."""
        async with self._lock:
            if await checkpointed(self.db):
                self._erase_due = False
                return
            self._erase_due = True
            ((_, _, file),) = await self.db.execute_fetchall("PRAGMA database_list")
            who = named_holders(Path(file), readers=True) if file else None
        who = who or "another IDE window, a database browser or a sqlite3 shell"
        warnings.append(
            "erased from memory, but the database's -wal file keeps a copy of the text while "
            f"another process holds the database ({who}); it is erased at the next save or "
            "restore after that process lets go"
        )

    def _indexed(self, text: str) -> None:
        # Counted words that the new memory holds gain one, and so does the size the counts
        # are of (what grows beside them is other processes' saves); the other words are
        # read when asked for. Reading every count again after each insert made a save of
        # many long notes read its words' postings once per note, under the write lock.
        self._df_total += 1
        if self._documents is not None:
            self._documents += 1
        df = self._df
        words = set(_TERM.findall(text.lower()))
        for term in words:
            if term in df:
                df[term] += 1
        self._count(words, 1, text.isascii())

    def _unindexed(self, text: str) -> None:
        # A deleted memory (forgotten, merged and reworded) loses its words' counts as an
        # indexed one gains them: else once other processes' saves make up the number of
        # memories (5% growth is not read again), its words stay counted.
        self._df_total -= 1
        if self._documents is not None:
            self._documents -= 1
        df = self._df
        words = set(_TERM.findall(text.lower()))
        for term in words:
            held = df.get(term)
            if held == 1:
                del df[term]  # (a word in no memory is not kept: other processes may bring it)
            elif held:
                df[term] = held - 1
        self._count(words, -1, text.isascii())

    def _count(self, words: set[str], change: int, exact: bool) -> None:
        """Keep `_counts` exact as this connection indexes or deletes a text: an ASCII text's
        words are the index's terms (its tokenizer and `_TERM` cut ASCII alike); any other
        text's may not be, and the counts are read again."""
        if not exact:
            self._counts.clear()
            return
        counts = self._counts
        for term in words:
            if term in counts:
                counts[term] += change

    @contextmanager
    def _sized(self) -> Iterator[None]:
        """Within: `_selective` reads the memory index's size (and whether another connection
        wrote) at its first call only, and counts this connection's writes since. For a pass
        that holds the write lock, or one that the transaction checks again (a save's
        comparisons before it)."""
        self._sizing, self._documents = True, None
        try:
            yield
        finally:
            self._sizing, self._documents = False, None

    def _rolled_back(self) -> None:
        self._documents = None
        self._counts.clear()  # they counted what the transaction wrote
        self._df.clear()  # (the number of memories may be as counted: one forgotten, one added)
        self._df_total = 0

    async def _selective(
        self,
        terms: list[str],
        keep: int | None = None,
        documents: int | None = None,
        absent: set[str] | None = None,
    ) -> list[str]:
        """The terms worth matching: those in at most COMMON_SHARE of the memory index (all
        present ones if none is that rare), the `keep` rarest when given. `documents`: the
        index's size when just counted. `absent`: terms known not to be indexed (not looked
        up), and where those looked up and not found are added."""
        if not terms:
            return []
        counts: dict[str, int] = {}  # exact counts to take (a restore reads its few terms)
        if documents is None and self._documents is not None:
            documents, counts = self._documents, self._counts  # (`_sized`)
        elif documents is None:
            ((documents, version),) = await self._fetch(
                "SELECT (SELECT count(*) FROM memory_fts_docsize), "
                "(SELECT data_version FROM pragma_data_version)"
            )
            if version != self._counts_version:  # another connection wrote
                self._counts.clear()
                self._counts_version = version
                # A word a save counted from 0 (in no memory when it compared its texts:
                # save._counted_from_zero) may be in what that connection committed since,
                # a near-identical memory of another window's save among them.
                for term in [t for t, n in self._df.items() if not n]:
                    del self._df[term]
            counts = self._counts
            if self._sizing:
                self._documents = documents
        total = documents or 1
        if total > self._df_total * 1.05 or total < self._df_total:
            self._df.clear()  # document frequencies drift slowly: refresh after 5% growth
            self._df_total = total
        missing = [t for t in terms if t not in self._df and (absent is None or t not in absent)]
        if missing:
            found = {t: counts[t] for t in missing if counts.get(t)}
            unknown = [t for t in missing if t not in counts]
            if unknown:
                # A vocabulary row counts a term's documents by walking its postings: cached.
                rows = await self._fetch(
                    "SELECT term, doc FROM memory_vocab "
                    f"WHERE term IN ({placeholders(len(unknown))})",
                    unknown,
                )
                read = {str(r[0]): int(r[1]) for r in rows}
                found.update(read)
                if counts is self._counts:
                    counts.update(dict.fromkeys(unknown, 0) | read)
            self._df.update(found)  # absent terms are not cached: they may come any time
            if absent is not None:
                absent.update(t for t in missing if t not in found)
        df = self._df
        present = sorted((t for t in terms if df.get(t)), key=lambda t: df[t])
        if not present:
            return []
        rare = [t for t in present if df[t] <= total * COMMON_SHARE] or present[:3]
        return rare[:keep] if keep else rare

    async def _index_seen(self) -> str:
        rows = await self._fetch("SELECT value FROM meta WHERE key = 'last_update'")
        return str(rows[0][0]) if rows else ""

    async def _sign(
        self, signatures: Sequence[tuple[str, tuple[int, int]]], *, every: bool = False
    ) -> None:
        """Record each cited file's size and mtime as checked; unconfirmed when the file was
        written within RACY_NS of now (the wall clock, as the file system's). `every`: every
        live citation into the file was checked at that signature (`verify`). Otherwise only
        the new ones were, and a file signed otherwise before is left unconfirmed: the
        citations already in it were checked at its stored signature, and overwriting that
        would leave them unchecked over an edit made since (and keeping it, the new ones
        unchecked over an edit a check recorded meanwhile)."""
        racy = time.time_ns() - RACY_NS
        keep = (
            "excluded.mtime_ns"
            if every
            else "CASE WHEN memory_files.size = excluded.size AND memory_files.mtime_ns = "
            f"excluded.mtime_ns THEN excluded.mtime_ns ELSE {UNCONFIRMED} END"
        )
        await self.db.executemany(
            "INSERT INTO memory_files (path, size, mtime_ns) VALUES (?, ?, ?) "
            f"ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = {keep}",
            [
                (path, size, UNCONFIRMED if mtime >= racy else mtime)
                for path, (size, mtime) in signatures
            ],
        )

    async def _retire_citations(self, column: str, ids: Sequence[int]) -> None:
        """Stop checking the citations of retired memories (`column` is their owner)."""
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            await self.db.execute(
                f"UPDATE memory_citations SET active = 0 WHERE {column} IN "
                f"({placeholders(len(chunk))})",
                chunk,
            )
        await self._unsign_uncited()

    async def _flag_stale(self, table: str, column: str, ids: Sequence[int]) -> None:
        """Set each memory's `stale` flag from its live citations."""
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            await self.db.execute(
                f"UPDATE {table} SET stale = EXISTS (SELECT 1 FROM memory_citations c "
                f"WHERE c.{column} = {table}.id AND c.active = 1 AND c.status = 'stale') "
                f"WHERE id IN ({placeholders(len(chunk))})",
                chunk,
            )

    async def _retire_recited(self, kind: str, owner: int, citations: Sequence[Located]) -> int:
        """Retire the citations of memory `owner` that `citations` (a merge's, just resolved)
        cite again where the code is now: the same file's lines, overlapping, or the same
        whole definition found elsewhere while the old place is stale. How many."""
        column = "decision_id" if kind == "decision" else "note_id"
        rows = await self._fetch(
            "SELECT id, path, start_line, end_line, symbol, whole, status FROM memory_citations "
            f"WHERE {column} = ? AND active = 1",
            (owner,),
        )
        retired = [
            int(r[0])
            for r in rows
            if any(
                (c.path == r[1] and c.start_line <= r[3] and r[2] <= c.end_line)
                or (r[6] == "stale" and c.whole and r[5] and c.symbol and c.symbol == r[4])
                for c in citations
            )
        ]
        if retired:
            await self.db.execute(
                "UPDATE memory_citations SET active = 0 "
                f"WHERE id IN ({placeholders(len(retired))})",
                retired,
            )
            await self._unsign_uncited()
        return len(retired)

    async def _unsign_uncited(self) -> None:
        """Forget the signatures of files no live citation points into any more."""
        await self.db.execute(
            "DELETE FROM memory_files WHERE NOT EXISTS (SELECT 1 FROM memory_citations c "
            "WHERE c.path = memory_files.path AND c.active = 1)"
        )

    async def _snapshot(self, params: Mapping[str, Any]) -> Snapshot:
        """Everything a restore needs before its pages, in one query (a restore's latency is
        mostly round trips): each section's size (notable routes up to COUNT_CAP), expired
        memories, the memory index's size, each cited file's signature and whether the
        index still holds it, the index's last update, and the stale citations not checked
        since it."""
        row = (
            await self._fetch(
                f"SELECT (SELECT count(*) FROM decisions WHERE {DECISIONS} AND stale = 0), "
                f"(SELECT count(*) FROM decisions WHERE {DECISIONS} AND stale = 1), "
                f"(SELECT count(*) FROM notes WHERE {NOTES} AND stale = 0), "
                f"(SELECT count(*) FROM notes WHERE {NOTES} AND stale = 1), "
                f"(SELECT count(*) FROM notes WHERE {OPEN_ITEMS}), "
                "(SELECT count(DISTINCT key) FROM state), "
                f"(SELECT count(*) FROM sessions WHERE {SESSIONS}), "
                f"(SELECT count(*) FROM (SELECT 1 FROM traces WHERE {TRACES} LIMIT {COUNT_CAP})), "
                f"(SELECT count(*) FROM decisions WHERE {EXPIRED_DECISIONS}) + "
                f"(SELECT count(*) FROM notes WHERE {EXPIRED_NOTES}), "
                # FTS5 keeps one docsize row per document: cheap to count, unlike the table.
                "(SELECT count(*) FROM memory_fts_docsize), "
                "(SELECT json_group_array(json_array(m.path, m.size, m.mtime_ns, "
                "f.id IS NOT NULL)) FROM memory_files m LEFT JOIN files f ON f.path = m.path "
                "AND f.skip_reason IS NULL), "
                "(SELECT value FROM meta WHERE key = 'last_update'), "
                "(SELECT count(*) FROM memory_citations WHERE status = 'stale' AND active = 1 "
                "AND index_seen IS NOT (SELECT value FROM meta WHERE key = 'last_update'))",
                params,
            )
        )[0]
        totals = {
            "decisions": row[0],
            "stale": row[1] + row[3],
            "notes": row[2],
            "open_items": row[4],
            "state": row[5],
            "sessions": row[6],
            "traces": row[7],
        }
        signed = [(str(p), int(z), int(m), bool(i)) for p, z, m, i in json.loads(row[10])]
        return Snapshot(totals, int(row[8]), int(row[9]), signed, str(row[11] or ""), row[12])


@dataclass(frozen=True, slots=True)
class Snapshot:
    totals: dict[str, int]  # section -> items in all
    expired: int
    documents: int  # rows of the memory index
    signed: list[tuple[str, int, int, bool]]  # cited file: path, size, mtime_ns, indexed
    seen: str  # the index's last update
    stale_due: int  # stale citations not checked since it
