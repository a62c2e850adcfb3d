"""The one ordered list of schema migrations for OCP's SQLite database.

Each migration is a function that runs inside a transaction; `_migrations` records which have
run. A migration that has shipped is never edited: add a new one at the end.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import aiosqlite

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


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


async def m007_secrets(db: aiosqlite.Connection) -> None:
    """Files indexed before secret files were recognised by content are read once more: an
    impossible mtime makes the next update re-read (not re-chunk) each one, and a key file
    with an ordinary name then leaves the index."""
    await db.execute("UPDATE files SET mtime_ns = -1")


MIGRATIONS: tuple[Migration, ...] = (m001_index, m002_memory, m003_routing_v2, m007_secrets)


async def migrate(
    db: aiosqlite.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[str]:
    """Apply the migrations that have not run yet, each in its own transaction.

    `BEGIN IMMEDIATE` takes the write lock first, so two processes opening a new database at
    once do not both migrate it: the second waits, then sees the migration recorded.
    """
    await db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    applied = []
    for migration in migrations:
        name = migration.__name__
        await db.execute("BEGIN IMMEDIATE")
        try:
            done = await db.execute_fetchall("SELECT 1 FROM _migrations WHERE name = ?", (name,))
            if not done:
                await migration(db)
                await db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
                applied.append(name)
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
    return applied
