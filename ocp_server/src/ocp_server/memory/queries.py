"""The SQL of session memory: which rows each section of a brief draws from, the live and
expired conditions, and the limits of a restore's reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ocp_server.brief import (
    Item,
    Rendered,
    render_note,
    render_session,
    render_state,
    render_trace,
)

MATCHES: Final = 500  # FTS hits considered for a query
COUNT_CAP: Final = 1000  # notable routes are counted up to this many
DEFAULT_TTL_DAYS: Final = 28.0
RENEW_AFTER: Final = 3600.0  # a served memory's renewal is written at most hourly
NEAR_IDENTICAL: Final = 0.9  # word-sequence similarity at which a save merges
# ... and at which a later save's decision of the same title, about the same code, supersedes
# an active one (save.py `_updated`): "retry at most 3 times" then "retry 5 times with
# backoff" (72%) is the decision updated; "use Postgres in production" then "use SQLite for
# the tests" (33%) is another one.
MOSTLY_ALIKE: Final = 0.6
# Distinct words of a saved text whose frequency is looked up to find its near-duplicates: any
# such sample will do, as a near-duplicate holds 90% of the words, if it is spread over the text
# and the same whatever was counted before (save.py `sampled`); each word not counted yet costs
# a lookup (before the save's write transaction).
NEAR_DUPLICATE_TERMS: Final = 64
# Citations one save may make: each is resolved by reading its file, and keeps up to 16,000
# characters of the code it cites. The wire allows 20 on each of 150 items.
MAX_SAVE_CITATIONS: Final = 200
COMMON_SHARE: Final = 0.2  # query terms in more of the memory index than this are skipped
UNINDEXED: Final = (-2, -2)  # the signature of a cited file the index no longer holds
# A file written this close to when its signature is taken may be written again within the
# same mtime tick (1-2 s on some file systems) at the same size: git's "racily clean" entry.
# Its signature is stored unconfirmed (this mtime, which no stat returns), so the next
# check reads its cited lines again and only then records the real one.
RACY_NS: Final = 2_000_000_000
UNCONFIRMED: Final = -3

LIVE: Final = "retired IS NULL"
# Which rows each section of a brief draws from (named parameters: cut, the expiry time;
# ex, the session left out). NOTABLE is also the condition of the partial index
# traces_notable (m038): the two must stay the same text. The routing proxy's rows (any
# client on the machine, their text usually not kept) are not the agent's routes: `proxied`
# (a column, so that no row's JSON is read to tell).
NOTABLE: Final = (
    "NOT proxied AND (answered_by IS NULL OR route_to != decision OR route_to = 'paid' OR "
    "outcome IS NOT NULL)"
)
# A restore kept to a sub-folder (:scope, 'pkg/api'; NULL: the whole workspace) serves the
# decisions that cite code in it, and those that cite no code (about the project as a whole):
# a package opened alone was briefed on every other package's decisions.
IN_SCOPE: Final = (
    "(:scope IS NULL OR NOT EXISTS (SELECT 1 FROM memory_citations s WHERE s.decision_id = "
    "decisions.id AND s.active = 1) OR EXISTS (SELECT 1 FROM memory_citations s WHERE "
    "s.decision_id = decisions.id AND s.active = 1 AND "
    "substr(s.path, 1, length(:scope) + 1) = :scope || '/'))"
)
DECISIONS: Final = f"status = 'active' AND {LIVE} AND renewed_at >= :cut AND {IN_SCOPE}"
# Also the condition of the partial index notes_shown: keep the same text.
NOTE_KINDS: Final = "(kind = 'note' OR (kind = 'outcome' AND trace_id IS NULL))"
NOTES: Final = f"{NOTE_KINDS} AND {LIVE} AND renewed_at >= :cut AND session_id != :ex"
OPEN_ITEMS: Final = f"kind = 'open_item' AND resolved = 0 AND {LIVE} AND renewed_at >= :cut"
SESSIONS: Final = "summary IS NOT NULL AND id != :ex"
# Dry runs called no model: neither answers nor errors worth a line.
TRACES: Final = f"{NOTABLE} AND NOT dry_run AND session_id != :ex"
EXPIRED_DECISIONS: Final = f"status = 'active' AND {LIVE} AND renewed_at < :cut"
EXPIRED_NOTES: Final = f"kind IN ('note', 'open_item', 'outcome') AND {LIVE} AND renewed_at < :cut"
CITATIONS_OF: Final = (  # a memory's live citations as one JSON array (one round trip)
    "(SELECT json_group_array(json_array(path, start_line, end_line, symbol, status, "
    "moved_from, change, cited)) FROM memory_citations c WHERE c.{column} = {table}.id "
    "AND c.active = 1)"
)
# Rows of decisions and notes with their citations: `{where}` (conditions, order, limit)
# picks the rows first, so the citations are gathered for those rows only.
# A decision's `supersedes` is the one whose superseded_by names it (m044 indexes that).
DECISION_ROWS: Final = (
    "SELECT id, title, decision, rationale, created_at, session_id, trace_id, renewed_at, "
    "(SELECT max(o.id) FROM decisions o WHERE o.superseded_by = decisions.id), "
    + CITATIONS_OF.format(column="decision_id", table="decisions")
    + ", stale FROM (SELECT * FROM decisions WHERE {where}) AS decisions"
)
NOTE_ROWS: Final = (
    "SELECT id, kind, text, created_at, session_id, trace_id, renewed_at, "
    + CITATIONS_OF.format(column="note_id", table="notes")
    + ", stale FROM (SELECT * FROM notes WHERE {where}) AS notes"
)


# Rows picked by id (a query's matches, a save's candidates) are read by the primary key:
# without ANALYZE's statistics SQLite takes the live conditions (`status = 'active' AND retired
# IS NULL`, a note's kind) for the more selective and walks an index over every live memory
# of the kind, each read in proportion to the whole memory. NOT INDEXED leaves the key.
def by_id(select: str, table: str) -> str:
    """`select` (of DECISION_ROWS' form) reading `table` by its primary key only."""
    plain = f"FROM {table} WHERE"
    assert select.count(plain) == 1, select
    return select.replace(plain, f"FROM {table} NOT INDEXED WHERE")


# section -> (select with {where}, where, order, key column, item kind, render)
SOURCES: Final[dict[str, tuple[str, str, str, str, str, Callable[[Item], Rendered]]]] = {
    "open_items": (
        NOTE_ROWS,
        OPEN_ITEMS,
        "created_at DESC, id DESC",
        "id",
        "open_item",
        render_note,
    ),
    "state": (
        # the restore's time (:now) too: a line says how long ago its key was set
        "SELECT key, value, updated_at, seq, session_id, :now FROM (SELECT key, value, "
        "updated_at, rowid AS seq, session_id, max(version) FROM state GROUP BY key) "
        "WHERE {where}",  # max(version)
        "1",
        "updated_at DESC, seq DESC",
        "key",
        "state",
        render_state,
    ),
    "sessions": (
        "SELECT id, workspace, started_at, ended_at, summary, rowid FROM sessions WHERE {where}",
        SESSIONS,
        "started_at DESC, rowid DESC",
        "id",
        "session",
        render_session,
    ),
    "traces": (
        "SELECT id, created_at, decision, route_to, model, task_type, cost_usd, "
        "substr(request, 1, 1000), outcome, answered_by, rowid FROM traces WHERE {where}",
        TRACES,
        "created_at DESC, rowid DESC",
        "id",
        "trace",
        render_trace,
    ),
}
NEWEST: Final = "ORDER BY created_at DESC, id DESC"
TIME_COLUMN: Final = {"state": 2, "sessions": 2, "traces": 1}  # created_at column
SECTION_OF_KIND: Final = {
    "open_item": "open_items",
    "state": "state",
    "session": "sessions",
    "trace": "traces",
}
STORED_CITATIONS: Final = (
    "SELECT id, path, start_line, end_line, symbol, whole, content_hash, content, cited, "
    "status, moved_from, decision_id, note_id, namesakes, context FROM memory_citations"
)


def placeholders(n: int) -> str:
    return ", ".join("?" * n)
