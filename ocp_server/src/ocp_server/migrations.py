"""The one ordered list of schema migrations for OCP's SQLite database (over 600 lines: the
list is one, in order, and a migration that has shipped stays as it was).

Each migration is a function that runs inside a transaction; `_migrations` records which have
run, by name. A migration that has shipped is never edited: add a new one at the end, or before
the later ones that read what it writes, if they have not shipped either (m014).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiosqlite

from ocp_router.redact import finds_secret
from ocp_router.redact_names import glued_tokens
from ocp_router.tokens import estimate_tokens
from ocp_server.at_rest import redacted, redacted_decision, redacted_state
from ocp_server.cjk_terms import cjk_pairs, with_cjk_pairs
from ocp_server.index.chunk_columns import DEFINITION_KINDS
from ocp_server.index.lexicon import names_blob, pack_text, unpack_text
from ocp_server.index.literal_pairs import literal_blobs
from ocp_server.index.terms import body_terms
from ocp_server.path_text import path_text, text_path
from ocp_server.schema import stored_version
from ocp_server.transactions import begin, rollback

logger = logging.getLogger(__name__)

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]

# The start of a note's text that m029's index holds: a lookup must say it in the same words.
NOTE_START = "substr(text, 1, 64)"


async def _run(db: aiosqlite.Connection, script: str) -> None:
    """Run statements one by one: `executescript` would commit the migration's transaction."""
    for statement in script.split(";\n"):
        lines = [
            ln for ln in statement.splitlines() if ln.strip() and not ln.strip().startswith("--")
        ]
        if lines:
            await db.execute(statement)


async def m001_index(db: aiosqlite.Connection) -> None:
    await _run(
        db,
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,          -- relative to the workspace, '/' separated
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            content_hash TEXT NOT NULL,         -- blake2b of the bytes
            language TEXT,
            git_head TEXT,                      -- HEAD commit when the file was indexed
            indexed_at REAL NOT NULL,
            skip_reason TEXT                    -- set: read once, not indexed (binary, ...)
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            symbol TEXT,
            kind TEXT NOT NULL,
            scope TEXT,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL          -- of kind, symbol, scope and text
        );
        CREATE INDEX chunks_by_file ON chunks(file_id);
        -- Contentless: the searchable terms (identifiers whole and split) are derived from
        -- chunks.text, so they are not stored twice. Deleting a row re-derives its terms.
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            symbol_terms, path_terms, body_terms,
            content='', tokenize='unicode61 remove_diacritics 2 tokenchars _'
        );
        -- Document frequency per term: lets a query skip terms that are everywhere.
        CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            pid INTEGER NOT NULL,
            expires_at REAL NOT NULL
        );
        """,
    )


async def m002_memory(db: aiosqlite.Connection) -> None:
    """Session memory: sessions, route traces, decisions, versioned state, notes."""
    await _run(
        db,
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,                -- uuid hex, or an id the client chose
            workspace TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            summary TEXT                        -- the latest; earlier ones stay in notes
        );
        CREATE INDEX sessions_by_start ON sessions(started_at);
        CREATE TABLE traces (
            id TEXT PRIMARY KEY,                -- the router's trace_id
            session_id TEXT NOT NULL REFERENCES sessions(id),
            created_at REAL NOT NULL,
            request TEXT NOT NULL,
            route_to TEXT NOT NULL,             -- the tier that answered
            decision TEXT NOT NULL,             -- the tier tried first
            decided_by TEXT NOT NULL,
            model TEXT NOT NULL,
            backend TEXT NOT NULL,
            task_type TEXT NOT NULL,
            complexity REAL NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            cost_usd REAL,                      -- NULL: paid model without a known price
            counterfactual_usd REAL,            -- what the paid tier would have cost
            outcome TEXT,                       -- the latest; every outcome is also a note
            trace_json TEXT NOT NULL,           -- the full trace
            answered_by TEXT                    -- NULL: no tier answered (the route failed)
        );
        CREATE INDEX traces_by_time ON traces(created_at);
        CREATE INDEX traces_by_session ON traces(session_id);
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            created_at REAL NOT NULL,
            title TEXT NOT NULL,
            decision TEXT NOT NULL,
            rationale TEXT,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded')),
            superseded_by INTEGER REFERENCES decisions(id),
            trace_id TEXT REFERENCES traces(id)
        );
        CREATE INDEX decisions_by_status ON decisions(status, created_at);
        CREATE INDEX decisions_by_title ON decisions(title COLLATE NOCASE, status);
        -- Never updated in place: a new value for a key is a new version; the highest is current.
        CREATE TABLE state (
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            value TEXT NOT NULL,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            updated_at REAL NOT NULL,
            PRIMARY KEY (key, version)
        );
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            created_at REAL NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('note', 'open_item', 'summary', 'outcome')),
            text TEXT NOT NULL,
            trace_id TEXT REFERENCES traces(id),
            resolved INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX notes_by_kind ON notes(kind, resolved, created_at);
        -- Relevance for session_restore: kind is decision, open_item, note, state, session or
        -- trace; ref_id is the row's id (the key for state) as text.
        CREATE VIRTUAL TABLE memory_fts USING fts5(
            kind UNINDEXED, ref_id UNINDEXED, text,
            tokenize='unicode61 remove_diacritics 2 tokenchars _'
        );
        """,
    )


async def m003_routing_v2(db: aiosqlite.Connection) -> None:
    """Tiers, decision phases, escalation, budgets and per-attempt latency for the savings
    report. Traces recorded before this migration keep NULL in the new columns."""
    await _run(
        db,
        """
        -- decided: local | mid | top
        ALTER TABLE traces ADD COLUMN tier TEXT;
        -- NULL: no tier answered
        ALTER TABLE traces ADD COLUMN answered_tier TEXT;
        -- how it was decided
        ALTER TABLE traces ADD COLUMN phase TEXT;
        -- LOCAL | PAID | AMBIGUOUS
        ALTER TABLE traces ADD COLUMN band TEXT;
        -- NULL: not asked; cache, llm, fallback
        ALTER TABLE traces ADD COLUMN phase2 TEXT;
        ALTER TABLE traces ADD COLUMN pin_state TEXT;
        ALTER TABLE traces ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE traces ADD COLUMN fell_back INTEGER NOT NULL DEFAULT 0;
        -- set: a budget kept a paid call out
        ALTER TABLE traces ADD COLUMN budget_note TEXT;
        -- upper bound before the call
        ALTER TABLE traces ADD COLUMN estimated_usd REAL;
        ALTER TABLE traces ADD COLUMN counterfactual_model TEXT;
        CREATE TABLE route_attempts (
            trace_id TEXT NOT NULL REFERENCES traces(id),
            n INTEGER NOT NULL,                 -- 0 = tried first
            created_at REAL NOT NULL,
            tier TEXT NOT NULL,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            outcome TEXT NOT NULL,              -- ok | error | empty | skipped
            duration_ms REAL NOT NULL,
            error_type TEXT,
            PRIMARY KEY (trace_id, n)
        );
        CREATE INDEX route_attempts_by_time ON route_attempts(created_at);
        """,
    )


async def m004_search(db: aiosqlite.Connection) -> None:
    """Search moves from FTS5 to postings read into memory (`index/lexical.py`): each chunk
    stores its stemmed terms with counts, its adjacent term pairs and its definition names,
    packed (`index/lexicon.py`). The index is derived data, so it is emptied here and rebuilt
    with the new columns at the next update. Recent commits are kept as ranking evidence."""
    await _run(
        db,
        """
        DROP TABLE IF EXISTS chunks_vocab;
        DROP TABLE IF EXISTS chunks_fts;
        DELETE FROM chunks;
        DELETE FROM files;
        -- (term hash u32, count u16) records
        ALTER TABLE chunks ADD COLUMN terms BLOB;
        -- distinct adjacent term pairs, u32 hashes
        ALTER TABLE chunks ADD COLUMN pairs BLOB;
        -- symbol and scope words, and the identifier defined, u32 hashes
        ALTER TABLE chunks ADD COLUMN names BLOB;
        -- terms in the text
        ALTER TABLE chunks ADD COLUMN length INTEGER;
        -- bumped by every index write; readers rebuild their postings when it moves
        INSERT INTO meta VALUES ('generation', '0')
            ON CONFLICT(key) DO UPDATE SET value = excluded.value;
        DELETE FROM meta WHERE key = 'last_update';
        -- A git workspace's recent commits (index/history.py): message terms, no text.
        CREATE TABLE commits (
            hash TEXT PRIMARY KEY,
            time INTEGER NOT NULL,              -- committer time, epoch seconds
            terms BLOB NOT NULL,                -- packed like chunks.terms
            length INTEGER NOT NULL
        );
        CREATE TABLE commit_files (
            hash TEXT NOT NULL REFERENCES commits(hash) ON DELETE CASCADE,
            path TEXT NOT NULL,                 -- as the commit named it; may be gone since
            PRIMARY KEY (hash, path)
        ) WITHOUT ROWID
        """,
    )


async def m006_memory(db: aiosqlite.Connection) -> None:
    """Memory that stays true: citations tying decisions and notes to code, checked at every
    restore; expiry and forgetting; a vocabulary for choosing selective query terms.

    Reads the index's `files`/`chunks`/`meta`, never changes them."""
    await _run(
        db,
        """
        -- Lifecycle. renewed_at: when created, or last served while valid; a memory not
        -- renewed for OCP_MEMORY_TTL_DAYS expires. retired: NULL (live), forgotten, expired.
        ALTER TABLE decisions ADD COLUMN renewed_at REAL;
        ALTER TABLE decisions ADD COLUMN retired TEXT CHECK (retired IN ('forgotten', 'expired'));
        ALTER TABLE decisions ADD COLUMN retired_at REAL;
        ALTER TABLE notes ADD COLUMN renewed_at REAL;
        ALTER TABLE notes ADD COLUMN retired TEXT CHECK (retired IN ('forgotten', 'expired'));
        ALTER TABLE notes ADD COLUMN retired_at REAL;
        UPDATE decisions SET renewed_at = created_at;
        UPDATE notes SET renewed_at = created_at;
        -- 1: a citation of this memory is stale (kept by the checks, so a brief can list
        -- facts and stale memories apart without reading every citation).
        ALTER TABLE decisions ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE notes ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
        -- Newest first within a section, and counts of live or expired ones.
        CREATE INDEX decisions_live ON decisions(status, retired, stale, created_at);
        CREATE INDEX decisions_fresh ON decisions(status, retired, stale, renewed_at);
        CREATE INDEX notes_live ON notes(kind, retired, stale, created_at);
        CREATE INDEX notes_fresh ON notes(kind, retired, stale, renewed_at);
        -- The notes a brief shows, newest first (the condition is memory/queries.py's NOTE_KINDS).
        CREATE INDEX notes_shown ON notes(retired, stale, created_at)
            WHERE (kind = 'note' OR (kind = 'outcome' AND trace_id IS NULL));
        -- What each memory_fts row is about, by rowid: reading kind and ref_id from the FTS
        -- table costs a content lookup per match, and deleting by them a scan.
        CREATE TABLE memory_refs (
            id INTEGER PRIMARY KEY,             -- the memory_fts rowid
            kind TEXT NOT NULL,
            ref_id TEXT NOT NULL
        );
        INSERT INTO memory_refs (id, kind, ref_id) SELECT rowid, kind, ref_id FROM memory_fts;
        CREATE INDEX memory_refs_by_ref ON memory_refs(kind, ref_id);
        -- The routes a brief lists, newest first (the condition is memory/queries.py's NOTABLE).
        CREATE INDEX traces_notable ON traces(created_at) WHERE (answered_by IS NULL OR
            route_to != decision OR route_to = 'paid' OR outcome IS NOT NULL);
        -- One cited piece of code: where it is now, and what it was when saved.
        CREATE TABLE memory_citations (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER REFERENCES decisions(id),
            note_id INTEGER REFERENCES notes(id),
            cited TEXT NOT NULL,                -- as the caller wrote it
            path TEXT NOT NULL,                 -- where the lines are now (updated on a move)
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            symbol TEXT,                        -- the definition holding the lines, qualified
            whole INTEGER NOT NULL DEFAULT 0,   -- 1: the lines are that whole definition
            content_hash TEXT NOT NULL,         -- of the lines, dedented, trailing blanks cut
            content TEXT NOT NULL,              -- the lines when saved (for what-changed)
            status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'moved', 'stale')),
            moved_from TEXT,                    -- path:start-end before the last move
            change TEXT,                        -- stale: what changed, in short
            index_seen TEXT,                    -- the index's last_update at the last check
            checked_at REAL NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,  -- 0: its memory was retired or superseded
            CHECK ((decision_id IS NULL) != (note_id IS NULL))
        );
        CREATE INDEX memory_citations_by_decision ON memory_citations(decision_id);
        CREATE INDEX memory_citations_by_note ON memory_citations(note_id);
        CREATE INDEX memory_citations_by_path ON memory_citations(path, active);
        CREATE INDEX memory_citations_by_status ON memory_citations(status, active);
        -- Each cited file's size and mtime at its last check: unchanged files are not read.
        CREATE TABLE memory_files (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL
        );
        -- Document frequency per term: a query skips terms that are in most memories.
        CREATE VIRTUAL TABLE memory_vocab USING fts5vocab(memory_fts, 'row');
        """,
    )


async def m005_reliability(db: aiosqlite.Connection) -> None:
    """Leases record the holder's host and start time (a dead holder is taken over at once);
    dry runs are marked, so the savings report does not count them as routes or errors."""
    await _run(
        db,
        """
        ALTER TABLE leases ADD COLUMN host TEXT;
        -- the holder's start time (clock ticks since boot): tells it from a reused pid
        ALTER TABLE leases ADD COLUMN started TEXT;
        ALTER TABLE traces ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
        """,
    )


async def m007_secrets(db: aiosqlite.Connection) -> None:
    """Files indexed before secret files were recognised by content are read once more: an
    impossible mtime makes the next update re-read (not re-chunk) each one, and a key file
    with an ordinary name then leaves the index."""
    await db.execute("UPDATE files SET mtime_ns = -1")


async def m011_search_text(db: aiosqlite.Connection) -> None:
    """Chunk texts are stored packed (`index/lexicon.pack_text`: deflated when this shipped,
    zstd since m014): the database shrinks to under twice the source. Rows written before are
    packed here."""
    await db.create_function("ocp_pack_text", 1, pack_text, deterministic=True)
    await db.execute("UPDATE chunks SET text = ocp_pack_text(text) WHERE typeof(text) = 'text'")


def _text_tokens(stored: bytes | str | None) -> int | None:
    if stored is None:
        return None
    return estimate_tokens(stored if isinstance(stored, str) else unpack_text(stored))


async def m012_chunk_tokens(db: aiosqlite.Connection) -> None:
    """Each chunk's token count (`estimate_tokens` of its text), stored when it is indexed, so a
    search fits its results into a token budget without counting them. Rows written before are
    counted here."""
    await db.execute("ALTER TABLE chunks ADD COLUMN tokens INTEGER")
    await db.create_function("ocp_text_tokens", 1, _text_tokens, deterministic=True)
    await db.execute("UPDATE chunks SET tokens = ocp_text_tokens(text)")


async def m013_chunk_clean(db: aiosqlite.Connection) -> None:
    """Whether redaction finds nothing in a chunk's text (`index/clean_text.py`): 1, 0, or NULL
    (not known yet: the next update finds it, through the partial index)."""
    await db.execute("ALTER TABLE chunks ADD COLUMN clean INTEGER")
    await db.execute("CREATE INDEX chunks_unflagged ON chunks(id) WHERE clean IS NULL")


def _recode_zlib_text(stored: bytes | str | None) -> bytes | str | None:
    """A text deflated with zlib, packed as `pack_text` packs now; anything else as it is.

    A zstd frame begins with 28 b5 2f fd, never with zlib's 0x78, so texts m011 packed on its way
    here are left alone; a blob counts as zlib's only if its header checks and it inflates,
    checksum and all."""
    if not isinstance(stored, bytes) or len(stored) < 2 or stored[0] != 0x78:
        return stored
    if (stored[0] << 8 | stored[1]) % 31:
        return stored
    try:
        raw = zlib.decompress(stored)
    except zlib.error:
        return stored
    return pack_text(raw.decode("utf-8"))


async def m014_zstd_text(db: aiosqlite.Connection) -> None:
    """Chunk texts are packed with zstd (`index/lexicon.pack_text`), which a search inflates
    about twice as fast as zlib. Texts deflated before are recoded here."""
    await db.create_function("ocp_recode_text", 1, _recode_zlib_text, deterministic=True)
    await db.execute(
        "UPDATE chunks SET text = ocp_recode_text(text)"
        " WHERE typeof(text) = 'blob' AND substr(text, 1, 1) = x'78'"
    )


async def m015_chunk_tiles(db: aiosqlite.Connection) -> None:
    """Term proximity (`index/proximity.py`): each chunk stores, per term record, which tiles of
    its file's lines hold the term (`index/lexicon.body_blob`). The chunks stay, so search
    keeps answering; the next update reads every file with chunks without tiles again (the
    indexer, through `chunks_untiled`), which fills in the tiles of the chunks it keeps, and
    their pairs, whose keys (`lexicon.pair_hash`) changed with it."""
    await _run(
        db,
        """
        -- per term record (chunks.terms' order): a little-endian mask of TILE_LINES-line tiles
        -- from the chunk's first, 1 to 8 bytes a record; NULL: not known yet
        ALTER TABLE chunks ADD COLUMN tiles BLOB;
        -- the chunks still without (each update reads their files again)
        CREATE INDEX chunks_untiled ON chunks(file_id) WHERE tiles IS NULL
        """,
    )


# Memory's texts that were stored verbatim, by table and column (state: key and value
# together). Trace requests were redacted when stored: a restore redacts them again on the way
# out, and reading every one here would make the first start after an upgrade slow (8 s for
# 20,000 routes).
_MEMORY_TEXTS = (
    ("notes", "text"),
    ("decisions", "title"),
    ("decisions", "decision"),
    ("decisions", "rationale"),
    ("sessions", "summary"),
)


def _indexed_source(indexed: str) -> str:
    """The text `body_terms` made a memory_fts row of: the text, and a last line of its
    compound identifiers' parts when it has any (in any order: they were gathered in a set)."""
    head, newline, parts = indexed.rpartition("\n")
    if newline:
        again = body_terms(head)
        if again != head and sorted(again.rpartition("\n")[2].split()) == sorted(parts.split()):
            return head
    return indexed


def _finds_secret(text: str | None) -> bool:
    return isinstance(text, str) and finds_secret(text)


def _redacted(text: str | None) -> str | None:
    return redacted(text) if isinstance(text, str) else text


async def m016_memory_redacted(db: aiosqlite.Connection) -> None:
    """Memory is kept redacted (`at_rest.py`): the rows stored before are redacted here, the
    memory index's rows with them, and the index is merged so that no deleted term lingers in
    its segments. secure_delete zeroes what the old texts' pages and cells held: the file of
    a database that held a secret does not hold it after this."""
    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    await db.create_function("ocp_finds_secret", 1, _finds_secret, deterministic=True)
    await db.create_function("ocp_redacted", 1, _redacted, deterministic=True)
    for table, column in _MEMORY_TEXTS:
        await db.execute(
            f"UPDATE {table} SET {column} = ocp_redacted({column}) "
            f"WHERE {column} IS NOT NULL AND ocp_finds_secret({column})"
        )
    outcomes = {
        str(row[0])
        for row in await db.execute_fetchall(
            "SELECT id FROM traces WHERE outcome IS NOT NULL AND ocp_finds_secret(outcome)"
        )
    }
    await db.execute(
        "UPDATE traces SET outcome = ocp_redacted(outcome) "
        "WHERE outcome IS NOT NULL AND ocp_finds_secret(outcome)"
    )
    for rowid, key, value in list(
        await db.execute_fetchall("SELECT rowid, key, value FROM state ORDER BY key, version")
    ):
        new_key, new_value = redacted_state(key, value)
        if (new_key, new_value) == (key, value):
            continue
        # Two keys whose secrets redact alike become one: the later versions follow.
        await db.execute(
            "UPDATE state SET key = ?1, value = ?2, version = CASE WHEN ?1 = key THEN version "
            "ELSE (SELECT coalesce(max(version), 0) + 1 FROM state WHERE key = ?1) END "
            "WHERE rowid = ?3",
            (new_key, new_value, rowid),
        )
        if new_key != key:
            await db.execute(
                "UPDATE memory_refs SET ref_id = ? WHERE kind = 'state' AND ref_id = ?",
                (new_key, key),
            )
            await db.execute(
                "UPDATE memory_fts SET ref_id = ? WHERE kind = 'state' AND ref_id = ?",
                (new_key, key),
            )
    changed = 0
    rows = await db.execute_fetchall("SELECT rowid, kind, ref_id, text FROM memory_fts")
    for rowid, kind, ref_id, indexed in list(rows):
        if kind == "trace" and ref_id not in outcomes:
            continue  # a route's request and its clean outcome: redacted when stored
        source = _indexed_source(str(indexed))
        if finds_secret(source):
            text = body_terms(redacted(source))
            await db.execute("UPDATE memory_fts SET text = ? WHERE rowid = ?", (text, rowid))
            changed += 1
    if changed:
        await db.execute("INSERT INTO memory_fts (memory_fts) VALUES ('optimize')")
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


async def m017_citations_redacted(db: aiosqlite.Connection) -> None:
    """Cited code is kept redacted too (its text serves to find moved lines and to say what
    changed; checks compare the hash, which is unchanged): the texts stored before are
    redacted here, with secure_delete on, as m016 did for the other memories. Read in
    batches: a text is up to 16,000 characters. (Defining m016's SQL functions again on the
    connection that ran m016 fails: "Error creating function".)"""
    if not await db.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memory_citations'"
    ):
        return  # a database brought up to date out of order (tests): m006 will create it empty
    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    last = 0
    while rows := list(
        await db.execute_fetchall(
            "SELECT id, content FROM memory_citations WHERE id > ? ORDER BY id LIMIT 500",
            (last,),
        )
    ):
        last = int(rows[-1][0])
        await db.executemany(
            "UPDATE memory_citations SET content = ? WHERE id = ?",
            [(redacted(text), row_id) for row_id, text in rows if finds_secret(text)],
        )
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


async def m018_failed_cost(db: aiosqlite.Connection) -> None:
    """A route's cost in two parts: its answer, and paid attempts that produced none (the
    savings report measures savings on the first). Rows from before: a route that failed or
    was answered locally spent all of its cost on failed attempts."""
    await _run(
        db,
        """
        ALTER TABLE traces ADD COLUMN failed_cost_usd REAL NOT NULL DEFAULT 0;
        -- part of cost_usd is an estimate: a paid call cut short before its usage came
        ALTER TABLE traces ADD COLUMN cost_estimated INTEGER NOT NULL DEFAULT 0;
        UPDATE traces SET failed_cost_usd = cost_usd
            WHERE cost_usd > 0 AND (answered_by IS NULL OR answered_tier = 'local');
        """,
    )


async def m019_names_spelt(db: aiosqlite.Connection) -> None:
    """A definition's names also hold the identifier as spelt (`lexicon.spelt_hash`), so a
    lookup of `echo` tells it from `_echo`: the chunks defining something get their names
    again from their symbol, scope and kind, as the indexer now writes them."""
    await _names_again(db)


async def m021_names_tails(db: aiosqlite.Connection) -> None:
    """A definition's names also hold the tails of the identifier (`lexicon.tail_hash`), so a
    lookup of `ToolError`, which nothing defines, finds `OCPToolError`: names again, as m019."""
    await _names_again(db)


async def _names_again(db: aiosqlite.Connection) -> None:
    """The names of every chunk defining something, from its symbol, scope and kind, as the
    indexer writes them now (`lexicon.names_blob`)."""
    last = 0
    while rows := list(
        await db.execute_fetchall(
            "SELECT id, symbol, scope, kind FROM chunks WHERE id > ? AND symbol IS NOT NULL"
            " ORDER BY id LIMIT 5000",
            (last,),
        )
    ):
        last = int(rows[-1][0])
        await db.executemany(
            "UPDATE chunks SET names = ? WHERE id = ?",
            [
                (names_blob(symbol, scope, kind in DEFINITION_KINDS), row_id)
                for row_id, symbol, scope, kind in rows
                if kind in DEFINITION_KINDS
            ],
        )


async def m020_history_secret_paths(db: aiosqlite.Connection) -> None:
    """The history's changed paths hold no file that is secret by its name (history.py no
    longer stores them): the rows stored before go, with secure_delete on for them (m016)."""
    from ocp_server.index.secret_files import secret_name  # pathspec: only when migrating

    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    paths = await db.execute_fetchall("SELECT DISTINCT path FROM commit_files")
    await db.executemany(
        "DELETE FROM commit_files WHERE path = ?", [(p,) for (p,) in paths if secret_name(p)]
    )
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


# What m022 reads again: memory's texts, each outcome, and each route's request (stored
# redacted as prose until then, every output reading it as a name).
_GLUED_TEXTS = (
    *_MEMORY_TEXTS,
    ("traces", "outcome"),
    ("traces", "request"),
    ("memory_citations", "content"),
)
_GLUED_BATCH = 500  # rows read at a time: a citation's text is up to 16,000 characters


def _glued(text: object) -> bool:
    return isinstance(text, str) and bool(glued_tokens(text))


async def _batches(db: aiosqlite.Connection, select: str) -> AsyncIterator[list[Any]]:
    """The rows of `select` (rowid first, `WHERE rowid > ?` in it), a batch at a time."""
    last = -(2**63)
    while rows := list(await db.execute_fetchall(f"{select} LIMIT {_GLUED_BATCH}", (last,))):
        last = int(rows[-1][0])
        yield rows


async def m022_memory_glued_tokens(db: aiosqlite.Connection) -> None:
    """Memory is kept redacted for tokens glued to a word too (`backupghp_<token>`, read as a
    name: at_rest.py): the rows stored before are redacted here, the memory index's with them,
    with secure_delete on, as m016 did. Each table is read in batches by rowid, and only a
    text holding a glued token's prefix is redacted again (`glued_tokens`): a regex pass over
    the rest."""
    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    tables = {str(name) for (name,) in await db.execute_fetchall("SELECT name FROM sqlite_master")}
    for table, column in _GLUED_TEXTS:
        if table not in tables:
            continue  # a database brought up to date out of order (tests)
        select = f"SELECT rowid, {column} FROM {table} WHERE rowid > ? ORDER BY rowid"
        async for rows in _batches(db, select):
            await db.executemany(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                [(redacted(text), rowid) for rowid, text in rows if _glued(text)],
            )
    select = "SELECT rowid, key, value FROM state WHERE rowid > ? ORDER BY rowid"
    async for rows in _batches(db, select):
        for rowid, key, value in rows:
            if _glued(key) or _glued(value):
                await _restate(db, rowid, key, *redacted_state(key, value))
    changed = 0
    select = "SELECT rowid, text FROM memory_fts WHERE rowid > ? ORDER BY rowid"
    async for rows in _batches(db, select):
        found = [(rowid, _indexed_source(str(text))) for rowid, text in rows]
        update = [
            (body_terms(redacted(source)), rowid) for rowid, source in found if _glued(source)
        ]
        await db.executemany("UPDATE memory_fts SET text = ? WHERE rowid = ?", update)
        changed += len(update)
    if changed:
        await db.execute("INSERT INTO memory_fts (memory_fts) VALUES ('optimize')")
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


async def _restate(
    db: aiosqlite.Connection, rowid: int, key: str, new_key: str, new_value: str
) -> None:
    """A state row's key and value redacted (m016): two keys whose secrets redact alike become
    one, the later versions following; the memory index's rows follow the key."""
    await db.execute(
        "UPDATE state SET key = ?1, value = ?2, version = CASE WHEN ?1 = key THEN version "
        "ELSE (SELECT coalesce(max(version), 0) + 1 FROM state WHERE key = ?1) END "
        "WHERE rowid = ?3",
        (new_key, new_value, rowid),
    )
    if new_key != key:
        for table in ("memory_refs", "memory_fts"):
            await db.execute(
                f"UPDATE {table} SET ref_id = ? WHERE kind = 'state' AND ref_id = ?",
                (new_key, key),
            )


# The texts of a trace from outside OCP (a client's model name, the reason and error an
# upstream gave, which may quote the key it refused) that m023 reads again besides its JSON.
_TRACE_TEXTS = (
    ("traces", ("decided_by", "model", "backend", "budget_note", "counterfactual_model")),
    ("route_attempts", ("backend", "model", "error_type")),
)


def _redacted_json(text: str, redact: Callable[[str], str]) -> str:
    """A stored JSON document with every string in it redacted by `redact` (its layout is
    kept where nothing changes); text that is not JSON, redacted as it is."""
    try:
        doc = json.loads(text)
    except ValueError:
        return redact(text)
    changed = False

    def walk(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            found = redact(value)
            changed = changed or found != value
            return found
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        return value

    doc = walk(doc)
    return json.dumps(doc) if changed else text


async def m023_traces_redacted(db: aiosqlite.Connection) -> None:
    """A trace is stored redacted whole (the proxy's since its texts from outside were read
    as names, a route's since its trace was redacted like its result): `trace_json` of the
    rows stored before could hold an upstream's error in full, quoting a key, and the
    columns beside it a client's model name. Redacted here in batches by rowid, with
    secure_delete on (m016); a row is written only where something changed."""
    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    # Most of a trace's texts recur (model and backend names, reasons, a client's agent).
    redact = functools.lru_cache(maxsize=8192)(redacted)
    select = "SELECT rowid, trace_json FROM traces WHERE rowid > ? ORDER BY rowid"
    async for rows in _batches(db, select):
        found = [(_redacted_json(text, redact), rowid, text) for rowid, text in rows]
        await db.executemany(
            "UPDATE traces SET trace_json = ? WHERE rowid = ?",
            [(new, rowid) for new, rowid, old in found if new != old],
        )
    for table, columns in _TRACE_TEXTS:
        select = f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > ? ORDER BY rowid"
        async for rows in _batches(db, select):
            for rowid, *texts in rows:
                new = [redact(t) if isinstance(t, str) else t for t in texts]
                if new != texts:
                    sets = ", ".join(f"{c} = ?" for c in columns)
                    await db.execute(f"UPDATE {table} SET {sets} WHERE rowid = ?", (*new, rowid))
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


# Where a session's id is stored besides `sessions.id`.
_SESSION_REFS = (
    "UPDATE traces SET session_id = ?1 WHERE session_id = ?2",
    "UPDATE decisions SET session_id = ?1 WHERE session_id = ?2",
    "UPDATE state SET session_id = ?1 WHERE session_id = ?2",
    "UPDATE notes SET session_id = ?1 WHERE session_id = ?2",
    "UPDATE memory_refs SET ref_id = ?1 WHERE kind = 'session' AND ref_id = ?2",
    "UPDATE memory_fts SET ref_id = ?1 WHERE kind = 'session' AND ref_id = ?2",
)


async def m024_session_ids_redacted(db: aiosqlite.Connection) -> None:
    """A session id holding a key or token is refused since `CallerId`, but one stored before
    is a primary key other rows point to: it becomes its redacted form (a number after it
    where two redact alike), and every row pointing to it follows. A session's workspace, a
    path that may hold a token in a folder's name, is stored redacted too. Read in batches
    by rowid, with secure_delete on (m016)."""
    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    select = "SELECT rowid, id, workspace FROM sessions WHERE rowid > ? ORDER BY rowid"
    async for rows in _batches(db, select):
        for rowid, old, workspace in rows:
            if (where := redacted(workspace)) != workspace:
                await db.execute(
                    "UPDATE sessions SET workspace = ? WHERE rowid = ?", (where, rowid)
                )
            if (new := redacted(old)) == old:
                continue
            taken, n = new, 1
            while await db.execute_fetchall("SELECT 1 FROM sessions WHERE id = ?", (new,)):
                n += 1
                new = f"{taken}-{n}"
            await db.execute("UPDATE sessions SET id = ? WHERE rowid = ?", (new, rowid))
            for statement in _SESSION_REFS:
                await db.execute(statement, (new, old))
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


async def m025_chunk_literals(db: aiosqlite.Connection) -> None:
    """The word pairs a chunk's string literals may hold, stop words included
    (`index/literal_pairs.py`): the message read-back reads no chunk lacking a run's pairs.
    Every chunk's are found here from its text, in batches by id; a chunk an older server
    writes later has none (NULL), and is read back as before."""
    await db.execute("ALTER TABLE chunks ADD COLUMN literals BLOB")
    last = 0
    while rows := list(
        await db.execute_fetchall(
            "SELECT id, text FROM chunks WHERE id > ? ORDER BY id LIMIT 2000", (last,)
        )
    ):
        last = int(rows[-1][0])
        texts = [t if isinstance(t, str) else unpack_text(t) for _, t in rows]
        await db.executemany(
            "UPDATE chunks SET literals = ? WHERE id = ?",
            [(blob, row[0]) for blob, row in zip(literal_blobs(texts), rows, strict=True)],
        )


async def m026_chunk_named(db: aiosqlite.Connection) -> None:
    """Where the values its file names as secrets occur in each chunk (`index/file_secrets.py`),
    NULL until known: the next update reads every file whose chunks have none again (only
    the whole file tells them), as it reads one whose chunks lack tiles."""
    await db.execute("ALTER TABLE chunks ADD COLUMN named TEXT")
    await db.execute("CREATE INDEX chunks_unnamed ON chunks(file_id) WHERE named IS NULL")


async def m027_index_changes(db: aiosqlite.Connection) -> None:
    """What each index write changed, by the generation it moved the database to
    (`index/change_log.py`): a process other than the writer applies a few files' change to
    its snapshot instead of reading it whole. The `lineage` tells this database from one made
    again at the same path, whose generations count from 0 again."""
    await _run(
        db,
        """
        CREATE TABLE index_changes (
            generation INTEGER PRIMARY KEY,
            files TEXT NOT NULL,        -- JSON array: ids of the files written or deleted
            history INTEGER NOT NULL    -- 1: the recent commits changed
        );
        INSERT INTO meta VALUES ('lineage', lower(hex(randomblob(16))))
            ON CONFLICT(key) DO UPDATE SET value = excluded.value
        """,
    )


async def m028_index_stamps(db: aiosqlite.Connection) -> None:
    """A random stamp for each generation an index write moves the database to
    (`index/change_log.py`): a backup restored keeps the lineage and the generations, so a
    reader holding a later snapshot could take the restored database's numbers for its own;
    the stamps tell it that its generation is not the database's."""
    await db.execute(
        "CREATE TABLE index_stamps (generation INTEGER PRIMARY KEY, stamp TEXT NOT NULL)"
    )


async def m029_notes_by_start(db: aiosqlite.Connection) -> None:
    """Live notes and open items by the start of their text: a save finds the one its text
    repeats word for word (memory/save.py `_candidates`), which the index's ranked matches
    may leave out when all its words are common. A start, not the whole text: a smaller index
    (the text is then compared whole)."""
    await db.execute(f"CREATE INDEX notes_by_start ON notes(kind, {NOTE_START})")


async def m030_decision_title_key(db: aiosqlite.Connection) -> None:
    """Decisions by a key of their title blind to case in every script and to accents
    (`memory.folding.title_key`), not by `title COLLATE NOCASE`, which folds ASCII only: a
    query naming a title and a second decision titled alike find it in another case."""
    # (imported here: the memory package imports this module)
    from ocp_server.memory.folding import title_key

    await db.execute("ALTER TABLE decisions ADD COLUMN title_key TEXT")
    rows = await db.execute_fetchall("SELECT id, title FROM decisions")
    await db.executemany(
        "UPDATE decisions SET title_key = ? WHERE id = ?",
        [(title_key(str(title)), row_id) for row_id, title in rows],
    )
    await db.execute("DROP INDEX IF EXISTS decisions_by_title")
    await db.execute("CREATE INDEX decisions_by_title_key ON decisions(title_key, status)")


async def m031_memory_cjk_pairs(db: aiosqlite.Connection) -> None:
    """Chinese and Japanese runs in the memory index are also indexed as their character
    pairs (`cjk_terms.py`): rows indexed before get theirs, or a query for a word inside a
    run never finds them."""
    rows = await db.execute_fetchall("SELECT rowid, text FROM memory_fts")
    await db.executemany(
        "UPDATE memory_fts SET text = ? WHERE rowid = ?",
        [(again, rowid) for rowid, text in rows if (again := with_cjk_pairs(str(text))) != text],
    )


async def m032_memory_cjk_run_ends(db: aiosqlite.Connection) -> None:
    """The last character of each Chinese or Japanese run is indexed beside its pairs
    (`cjk_terms.py`): a one-character query finds what starts a term, and a run's last
    character starts none of its pairs. Rows indexed with their pairs (m031) get it."""
    rows = await db.execute_fetchall("SELECT rowid, text FROM memory_fts")
    changed = []
    for rowid, stored in rows:
        text, _, last = str(stored).rpartition("\n")
        if text and last == " ".join(cjk_pairs(text)):  # the pairs' line m031 or _index added
            changed.append((with_cjk_pairs(text), rowid))
    await db.executemany("UPDATE memory_fts SET text = ? WHERE rowid = ?", changed)


async def m033_memory_fts_automerge(db: aiosqlite.Connection) -> None:
    """The memory index merges its segments two at a time (FTS5's default is four): a save
    looks each of its items' rarest words up in every segment, hundreds of times."""
    await db.execute("INSERT INTO memory_fts (memory_fts, rank) VALUES ('automerge', 2)")


async def m034_local_unavailable(db: aiosqlite.Connection) -> None:
    """A route handed to a paid tier or the agent only because the local model could not be
    reached is `local_unavailable`, not `escalated` (route_record.local_unreachable). Rows
    from before counted it as an escalation: those of a route decided local whose every local
    attempt failed as unavailable move over. The proxy's are left: it labelled every local
    failure unavailable then, so its rows cannot tell."""
    await _run(
        db,
        """
        ALTER TABLE traces ADD COLUMN local_unavailable INTEGER NOT NULL DEFAULT 0;
        UPDATE traces SET local_unavailable = 1, escalated = 0
            WHERE escalated AND tier = 'local' AND route_to IN ('paid', 'agent')
            AND trace_json NOT LIKE '%"source": "proxy"%'
            AND EXISTS (SELECT 1 FROM route_attempts a WHERE a.trace_id = traces.id
                AND a.tier = 'local' AND a.outcome != 'skipped')
            AND NOT EXISTS (SELECT 1 FROM route_attempts a WHERE a.trace_id = traces.id
                AND a.tier = 'local' AND a.outcome != 'skipped'
                AND (a.outcome != 'error' OR coalesce(a.error_type, '') != 'BackendUnavailable'));
        """,
    )


async def m035_chunk_line_from(db: aiosqlite.Connection) -> None:
    """Where in its line a piece of a line longer than a chunk starts (`line_from`, the
    character, from 0; NULL for a chunk of whole lines), so a hit on it says which characters
    it holds. Only the file tells (a blank slice of the line is stored as no chunk), so every
    file that may hold such a line, one with a single-line chunk and more bytes than a chunk
    has characters (a character is a byte at least), is read again at the next update, as a
    changed one is: its chunks are kept, and their pieces get their starts."""
    # (imported here: the chunker is not needed to open a database otherwise)
    from ocp_server.index.chunking import MAX_CHUNK_CHARS

    await db.execute("ALTER TABLE chunks ADD COLUMN line_from INTEGER")
    await db.execute(
        "UPDATE files SET size = -1, mtime_ns = -1, content_hash = '' WHERE size > ? AND id IN"
        " (SELECT file_id FROM chunks WHERE start_line = end_line)",
        (MAX_CHUNK_CHARS,),
    )


async def m036_decisions_read_after_title(db: aiosqlite.Connection) -> None:
    """A decision's text and rationale are kept read after its title, which may name what
    they hold ({"title": "DB password", "decision": "<it>"}: `at_rest.redacted_decision`, the
    rule a save keeps them by, kept.py). The rows stored before are redacted here in batches
    by rowid, each one changed indexed again as a save indexes it (with the code it cites),
    and the index merged, with secure_delete on (m016); `migrate` then checkpoints the WAL."""
    # (imported here: the memory package imports this module)
    from ocp_server.memory.citing import indexed_text
    from ocp_server.memory.folding import title_key
    from ocp_server.trace_store import fts_text

    (previous,) = next(iter(await db.execute_fetchall("PRAGMA secure_delete")))
    await db.execute("PRAGMA secure_delete = ON")
    changed = 0
    select = (
        "SELECT rowid, title, decision, rationale FROM decisions WHERE rowid > ? ORDER BY rowid"
    )
    async for rows in _batches(db, select):
        for row_id, *was in rows:
            title, decision, rationale = kept = redacted_decision(*was)
            if kept == tuple(was):
                continue
            changed += 1
            await db.execute(
                "UPDATE decisions SET title = ?, title_key = ?, decision = ?, rationale = ? "
                "WHERE rowid = ?",
                (title, title_key(title), decision, rationale, row_id),
            )
            cited = await db.execute_fetchall(
                "SELECT path, symbol FROM memory_citations WHERE decision_id = ? ORDER BY id",
                (row_id,),
            )
            text = fts_text(
                indexed_text(f"{title}\n{decision}\n{rationale or ''}", [(p, s) for p, s in cited])
            )
            await db.execute(
                "UPDATE memory_fts SET text = ? WHERE rowid IN (SELECT id FROM memory_refs "
                "WHERE kind = 'decision' AND ref_id = ?)",
                (text, str(row_id)),
            )
    if changed:
        await db.execute("INSERT INTO memory_fts (memory_fts) VALUES ('optimize')")
    await db.execute(f"PRAGMA secure_delete = {int(previous)}")


# A local failure the proxy stored before m034 (proxy/local.py then) in the words it gave for
# a model it could not reach, which the proxy's error types now call BackendUnavailable: the
# router's (since the proxy used them), httpx's before (a transport error but a timeout: the
# router reads each as unreachable), or a 404 (Ollama's model not pulled, or no API there).
_UNREACHABLE_RE = re.compile(
    r"cannot reach \w+ at \S+\.|\w+ at \S+ broke the connection \(|HTTP 404 |"
    r"(?:CloseError|ConnectError|DecodingError|HTTPError|LocalProtocolError|NetworkError|"
    r"ProtocolError|ProxyError|ReadError|RemoteProtocolError|RequestError|TooManyRedirects|"
    r"TransportError|UnsupportedProtocol|WriteError): "
)


def _proxy_local_unreachable(trace: dict[str, Any]) -> bool:
    """Whether a proxy row's every local attempt failed for want of reaching the model."""
    tried = [
        a
        for a in trace.get("attempts") or ()
        if isinstance(a, dict) and a.get("tier") == "local" and a.get("outcome") != "skipped"
    ]
    return bool(tried) and all(
        a.get("outcome") == "error" and _UNREACHABLE_RE.match(str(a.get("error") or ""))
        for a in tried
    )


async def m037_proxy_local_unavailable(db: aiosqlite.Connection) -> None:
    """The proxy's rows m034 left: it typed every local failure BackendUnavailable then, but
    each attempt's `error` in the stored trace says what failed. A row relayed up from the
    local tier whose every local failure says the model could not be reached (as the proxy
    tells it now: ProxyRecord.local_unavailable) is local_unavailable, in its JSON too; one
    whose local model answered an error, timed out or broke its stream stays an escalation."""
    moved = []
    select = (
        "SELECT rowid, trace_json FROM traces WHERE rowid > ? AND escalated AND tier = 'local' "
        'AND trace_json LIKE \'%"source": "proxy"%\' ORDER BY rowid'
    )
    async for rows in _batches(db, select):
        for rowid, text in rows:
            try:
                trace = json.loads(text)
            except ValueError:
                continue
            if isinstance(trace, dict) and _proxy_local_unreachable(trace):
                trace |= {"escalated": False, "local_unavailable": True}
                moved.append((json.dumps(trace), rowid))
    if moved:
        await db.executemany(
            "UPDATE traces SET escalated = 0, local_unavailable = 1, trace_json = ? "
            "WHERE rowid = ?",
            moved,
        )


async def m038_traces_proxied(db: aiosqlite.Connection) -> None:
    """Whether a trace came from the routing proxy is a column (`proxied`, written with the
    row: proxy/recorder.py), and the partial index of the routes a brief lists
    (traces_notable) leaves those rows out: a brief told them apart by each notable row's
    JSON, one parse a row (20 ms a restore at 20,000 proxied rows). Rows from before get it
    from their JSON, which says so (`"source": "proxy"`; CASE: json_extract raises on a row
    that is not JSON)."""
    await _run(
        db,
        """
        ALTER TABLE traces ADD COLUMN proxied INTEGER NOT NULL DEFAULT 0;
        UPDATE traces SET proxied = 1 WHERE trace_json LIKE '%"source": "proxy"%'
            AND CASE WHEN json_valid(trace_json)
                THEN json_extract(trace_json, '$.source') IS 'proxy' ELSE 0 END;
        DROP INDEX IF EXISTS traces_notable;
        -- The routes a brief lists, newest first (the condition is memory/queries.py's NOTABLE).
        CREATE INDEX traces_notable ON traces(created_at) WHERE NOT proxied AND (answered_by
            IS NULL OR route_to != decision OR route_to = 'paid' OR outcome IS NOT NULL);
        """,
    )


# A local failure of the proxy's words before m034 that was a time running out: its
# error_type is BackendTimeout now (proxy/local.py: httpx's timeouts, the router's "did not
# answer in time", the proxy's own "no complete answer within").
_TIMED_OUT_RE = re.compile(
    r"(?:ConnectTimeout|PoolTimeout|ReadTimeout|TimeoutException|WriteTimeout): |"
    r"\w+ at \S+ did not answer in time|no complete answer within "
)


def _proxy_error_type(attempt: dict[str, Any]) -> str | None:
    """The error_type the proxy gives an old local attempt now, when it typed it otherwise
    (every local failure BackendUnavailable before m034), else None."""
    if attempt.get("tier") != "local" or attempt.get("error_type") != "BackendUnavailable":
        return None
    error = str(attempt.get("error") or "")
    if _UNREACHABLE_RE.match(error):
        return None  # could not be reached: BackendUnavailable it is
    return "BackendTimeout" if _TIMED_OUT_RE.match(error) else "BackendResponseError"


async def m039_proxy_local_error_types(db: aiosqlite.Connection) -> None:
    """The proxy's local attempts stored before m034 were all typed BackendUnavailable; m037
    told the rows apart (local_unavailable or escalated) by each attempt's `error`, but left the
    type, in `route_attempts` and the trace JSON: a model that answered HTTP 500 or timed out
    still read "unavailable" beside an escalation. Each is typed as the proxy types it now
    (BackendTimeout, BackendResponseError); one that could not be reached keeps its type."""
    attempts, traces = [], []
    select = (
        "SELECT rowid, id, trace_json FROM traces WHERE rowid > ? "
        'AND trace_json LIKE \'%"source": "proxy"%\' '
        "AND trace_json LIKE '%BackendUnavailable%' ORDER BY rowid"
    )
    async for rows in _batches(db, select):
        for rowid, trace_id, text in rows:
            try:
                trace = json.loads(text)
            except ValueError:
                continue
            tried = trace.get("attempts") if isinstance(trace, dict) else None
            if not isinstance(tried, list):
                continue
            changed = False
            for n, attempt in enumerate(tried):
                if isinstance(attempt, dict) and (kind := _proxy_error_type(attempt)):
                    attempt["error_type"] = kind
                    attempts.append((kind, trace_id, n))
                    changed = True
            if changed:
                traces.append((json.dumps(trace), rowid))
    if traces:
        await db.executemany("UPDATE traces SET trace_json = ? WHERE rowid = ?", traces)
        await db.executemany(
            "UPDATE route_attempts SET error_type = ? WHERE trace_id = ? AND n = ? "
            "AND tier = 'local' AND error_type = 'BackendUnavailable'",
            attempts,
        )


async def m040_route_answer_kept(db: aiosqlite.Connection) -> None:
    """A model's answer cut to fit what the calling client accepts of a tool's result
    (client_limits.RESULT_TOKEN_LIMITS) is kept whole with its trace, as sent (redacted), for
    the session restore tool to give the rest (`answer_of`). NULL: the answer went whole."""
    await db.execute("ALTER TABLE traces ADD COLUMN answer TEXT")


async def m041_rejudge_moved_citations(db: aiosqlite.Connection) -> None:
    """Citations older servers found "moved" to a copy of the cited code (a file's copy while
    its own file still defined it, a block repeated in its file) are judged again from where
    they were saved at the next check (memory/checks.py); the files they point into lose their
    signature as checked (-3, unconfirmed: no stat returns it) so that the check comes at the
    next restore, not at their next edit. Once: later moves are judged so when they happen."""
    await db.execute(
        "UPDATE memory_files SET mtime_ns = -3 WHERE path IN (SELECT path FROM "
        "memory_citations WHERE status = 'moved' AND active = 1)"
    )


async def m042_citation_namesakes(db: aiosqlite.Connection) -> None:
    """How many definitions of its file bore a citation's symbol when it was last confirmed
    (saved, or checked valid or moved): a copy of a function pasted under its own name at the
    cited lines, the function itself edited, is told by one more of them (citations/
    namesakes.py). NULL: saved before, not known until its next confirmation (m043)."""
    await db.execute("ALTER TABLE memory_citations ADD COLUMN namesakes INTEGER")


async def m043_count_namesakes(db: aiosqlite.Connection) -> None:
    """Every cited file loses its signature as checked (-3, unconfirmed), once, so the next
    restore checks its citations: each confirmed gets its namesakes counted (m042) before a
    copy is pasted, not at the next edit of its file, which may be the paste itself; and a
    citation an older server served as valid at a copy of the cited code under another name
    (c50e3ae) is judged by today's checks."""
    await db.execute("UPDATE memory_files SET mtime_ns = -3")


async def m044_decisions_superseded_by(db: aiosqlite.Connection) -> None:
    """A restore says which decision each served one replaced (memory/queries.py
    DECISION_ROWS): the one whose `superseded_by` names it, found by this index, not by
    reading every decision for each one served."""
    await db.execute(
        "CREATE INDEX decisions_superseded_by ON decisions(superseded_by) "
        "WHERE superseded_by IS NOT NULL"
    )


async def m045_gone_files(db: aiosqlite.Connection) -> None:
    """Files the index dropped, with their content hash, and the new file of the same bytes
    each became (index/moves.py): a plain `mv` git does not know of is followed by citations."""
    await _run(
        db,
        """
        CREATE TABLE gone_files (
            path TEXT PRIMARY KEY,              -- as files.path was
            content_hash TEXT NOT NULL,         -- files.content_hash when it was dropped
            gone_at REAL NOT NULL,
            moved_to TEXT                       -- the new file of the same bytes, once seen
        );
        CREATE INDEX gone_files_hash ON gone_files(content_hash) WHERE moved_to IS NULL;
        CREATE INDEX gone_files_at ON gone_files(gone_at);
        """,
    )


async def m046_unambiguous_workspace_paths(db: aiosqlite.Connection) -> None:
    """The workspace recorded (meta, sessions) by an older server as text holding a `\\xNN`
    escape of its name's own (a folder named `proj\\xff` as text), which now stands for that
    byte (path_text.py): written in today's form when that folder is there and the byte's is
    not; else left to stand for the byte, as it most likely did."""
    rows = await db.execute_fetchall(
        "SELECT value FROM meta WHERE key = 'workspace' UNION SELECT workspace FROM sessions"
    )
    for (text,) in rows:
        if not isinstance(text, str) or path_text(text) == text:
            continue  # no escape in it: stored as it always was
        if os.path.isdir(text) and not os.path.isdir(text_path(text)):
            now = path_text(text)
            await db.execute(
                "UPDATE meta SET value = ? WHERE key = 'workspace' AND value = ?", (now, text)
            )
            await db.execute("UPDATE sessions SET workspace = ? WHERE workspace = ?", (now, text))


async def m047_traces_by_upstream_id(db: aiosqlite.Connection) -> None:
    """An index of the proxied traces by their paid upstream's request id, which an outcome
    may name its trace by (TraceStore.full_trace_id): that lookup read every trace's JSON,
    newest first, for an id no trace holds (a mistyped one, `req_ocp_…` of another store).
    Rows whose JSON is not JSON are left out (json_extract raises on them). The expression
    and condition are trace_store.py's `_upstream_named` query's, word for word."""
    await _run(
        db,
        """
        CREATE INDEX traces_by_upstream_id
            ON traces(json_extract(trace_json, '$.upstream_request_id'))
            WHERE proxied AND json_valid(trace_json)
        """,
    )


async def m048_citation_context(db: aiosqlite.Connection) -> None:
    """The lines around each cited block, hashed (citations/context.py): which of the places
    a short block its file holds at several is the cited one. NULL: saved before, not known
    until its next confirmation; until then such a block stays stale, as it did."""
    await db.execute("ALTER TABLE memory_citations ADD COLUMN context TEXT")


async def m049_traces_effort(db: aiosqlite.Connection) -> None:
    """The effort (thinking) each route's caller asked, a column of its own so stats and
    queries read it without parsing every trace's JSON: `ocp_model_route`'s `effort`, the
    proxy's `output_config.effort` or `reasoning_effort`. Rows stored before: the route
    tool's from their trace (`$.trace.effort`); the proxy's never kept it (NULL)."""
    await _run(
        db,
        """
        ALTER TABLE traces ADD COLUMN effort TEXT;
        UPDATE traces SET effort = json_extract(trace_json, '$.trace.effort')
            WHERE NOT proxied AND json_valid(trace_json)
            AND json_type(trace_json, '$.trace.effort') = 'text';
        """,
    )


MIGRATIONS: tuple[Migration, ...] = (
    m001_index,
    m002_memory,
    m003_routing_v2,
    m004_search,
    m006_memory,
    m007_secrets,
    m005_reliability,
    m011_search_text,
    # Before m012, which reads every text to count its tokens: it reads zstd's faster.
    m014_zstd_text,
    m012_chunk_tokens,
    m013_chunk_clean,
    m015_chunk_tiles,
    m016_memory_redacted,
    m017_citations_redacted,
    m018_failed_cost,
    m019_names_spelt,
    m020_history_secret_paths,
    m021_names_tails,
    m022_memory_glued_tokens,
    m023_traces_redacted,
    m024_session_ids_redacted,
    m025_chunk_literals,
    m026_chunk_named,
    m027_index_changes,
    m028_index_stamps,
    m029_notes_by_start,
    m030_decision_title_key,
    m031_memory_cjk_pairs,
    m032_memory_cjk_run_ends,
    m033_memory_fts_automerge,
    m034_local_unavailable,
    m035_chunk_line_from,
    m036_decisions_read_after_title,
    m037_proxy_local_unavailable,
    m038_traces_proxied,
    m039_proxy_local_error_types,
    m040_route_answer_kept,
    m041_rejudge_moved_citations,
    m042_citation_namesakes,
    m043_count_namesakes,
    m044_decisions_superseded_by,
    m045_gone_files,
    m046_unambiguous_workspace_paths,
    m047_traces_by_upstream_id,
    m048_citation_context,
    m049_traces_effort,
)


# The migrations that erase text stored before, with secure_delete on. In WAL mode the
# database file keeps its old pages until a checkpoint writes the new ones over them, so
# `migrate` runs one after them (a new database, m001 among them, had nothing to erase).
_ERASING = frozenset(
    m.__name__
    for m in (
        m016_memory_redacted,
        m017_citations_redacted,
        m020_history_secret_paths,
        m022_memory_glued_tokens,
        m023_traces_redacted,
        m024_session_ids_redacted,
        m036_decisions_read_after_title,
    )
)

#: How long a process waits for another one's migration (the busy timeout is seconds; a
#: migration rewriting every chunk of a large index takes longer: m019 half a million
#: definitions in 12 s).
MIGRATION_LOCK_WAIT_SECONDS = 600.0


async def _begin_migrating(db: aiosqlite.Connection, name: str) -> None:
    """BEGIN IMMEDIATE, waiting up to MIGRATION_LOCK_WAIT_SECONDS for another process's
    write (its migration, most likely) to end."""
    deadline = time.monotonic() + MIGRATION_LOCK_WAIT_SECONDS
    while True:
        try:
            await begin(db)
            return
        except sqlite3.OperationalError as exc:
            locked = str(exc).startswith(("database is locked", "database is busy"))
            if not locked or time.monotonic() >= deadline:
                raise
            logger.info("%s waits for another process writing the database", name)


async def migrate(
    db: aiosqlite.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[str]:
    """Apply the migrations that have not run yet, each in its own transaction.

    `BEGIN IMMEDIATE` takes the write lock first, so two processes opening a new database at
    once do not both migrate it: the second waits, then sees the migration recorded. Only a
    migration not yet recorded takes it: opening a migrated database writes nothing, and
    waits for no other process's write.
    """
    await db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    recorded = {r[0] for r in await db.execute_fetchall("SELECT name FROM _migrations")}
    applied = []
    for position, migration in enumerate(migrations, 1):
        name = migration.__name__
        if name in recorded:
            continue
        await _begin_migrating(db, name)
        try:
            done = await db.execute_fetchall("SELECT 1 FROM _migrations WHERE name = ?", (name,))
            if not done:
                await migration(db)
                await db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
                await _raise_version(db, position)
                applied.append(name)
            await db.execute("COMMIT")
        except BaseException:
            await rollback(db)
            raise
    if migrations is MIGRATIONS and await stored_version(db) < len(migrations):
        # Migrated before the version was kept (or by an older OCP, which kept none): once.
        await _begin_migrating(db, "the schema version")
        try:
            await _raise_version(db, len(migrations))
            await db.execute("COMMIT")
        except BaseException:
            await rollback(db)
            raise
    if _ERASING.intersection(applied) and m001_index.__name__ not in applied:
        from ocp_server.memory.base import checkpointed  # (the memory package imports this)

        if not await checkpointed(db):
            logger.info("the -wal file keeps erased text until the next checkpoint")
    return applied


async def _raise_version(db: aiosqlite.Connection, version: int) -> None:
    """The schema version to `version`, never lowered: a newer OCP may have raised it."""
    if await stored_version(db) < version:
        await db.execute(f"PRAGMA user_version = {int(version)}")
