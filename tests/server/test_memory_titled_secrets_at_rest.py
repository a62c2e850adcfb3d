"""A decision stored before a save read its text and rationale after its title
({"title": "DB password", "decision": "<the password>"}) is redacted in the database file
when a server opens it (m036): the row, its memory index entry, free pages and the -wal file
all lose the value, and a restore still finds the decision, redacted.

Secrets are assembled at run time, so this file holds no literal one."""

from __future__ import annotations

from pathlib import Path

from ocp_server.cjk_terms import with_cjk_pairs
from ocp_server.db import connect
from ocp_server.index.terms import body_terms
from ocp_server.memory import MemoryStore
from ocp_server.schema import SCHEMA_VERSION
from tests.server.at_rest import database_bytes
from tests.server.titled_secrets import DECISIONS, PLAIN, SECRETS

FILLER = 700  # other decisions around them: more than one batch of the migration


def _held(raw: bytes) -> list[str]:
    """The secrets `raw` holds, as given or lower-cased as the memory index keeps terms."""
    return [s for s in SECRETS if s.encode() in raw or s.lower().encode() in raw]


async def _old_database(path: Path) -> None:
    """The database as a server before m036 left it: each decision stored field by field,
    its value kept, and indexed so. Made by today's code, then wound back (WAL, as served)."""
    db = await connect(path)
    await db.execute("INSERT INTO sessions VALUES ('s', '/ws', 1.0, 2.0, NULL)")
    await db.execute("BEGIN")
    kept = [(d["title"], d["decision"], d.get("rationale")) for d in DECISIONS + PLAIN]
    kept += [(f"Choice {n}", f"use the retry_policy {n}", None) for n in range(FILLER)]
    for title, decision, rationale in kept:
        cursor = await db.execute(
            "INSERT INTO decisions (session_id, created_at, title, title_key, decision, "
            "rationale, renewed_at) VALUES ('s', 3.0, ?, lower(?), ?, ?, 3.0)",
            (title, title, decision, rationale),
        )
        text = f"{title}\n{decision}\n{rationale or ''}"
        await db.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('decision', ?, ?)",
            (str(cursor.lastrowid), with_cjk_pairs(body_terms(text))),
        )
        await db.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), "
            "'decision', ?)",
            (str(cursor.lastrowid),),
        )
    await db.execute("DELETE FROM _migrations WHERE name LIKE 'm036%'")
    await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    await db.execute("COMMIT")
    await db.close()


async def test_a_decision_s_value_its_title_names_stored_before_leaves_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ocp.db"
    await _old_database(path)
    assert _held(database_bytes(path)) == list(SECRETS)

    db = await connect(path)  # migrates; read while it is open, the -wal file included
    try:
        raw = database_bytes(path)
        store = MemoryStore(db, clock=lambda: 10.0)
        brief = await store.restore(query="DB password deploy token", max_tokens=20_000)
        found = await db.execute_fetchall(
            "SELECT r.ref_id FROM memory_fts JOIN memory_refs r ON r.id = memory_fts.rowid "
            "WHERE memory_fts MATCH 'redacted AND password_assignment'"
        )
        stored = await db.execute_fetchall("SELECT title, decision, rationale FROM decisions")
    finally:
        await db.close()
    assert _held(raw) == []
    decisions = {(d.title, d.decision, d.rationale) for d in brief.decisions}
    assert {
        ("DB password", "[REDACTED:password_assignment]", None),
        ("The deploy token", "kept in the vault", "[REDACTED:generic_secret_assignment]"),
    } <= decisions
    # Titles naming a secret over decisions that are no value: kept as they were.
    assert {(d["title"], d["decision"], d.get("rationale")) for d in PLAIN} <= set(stored)
    assert len(list(found)) >= 2  # the index holds the redacted text in place of the value
    assert _held(database_bytes(path)) == []
