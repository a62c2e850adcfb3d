"""Session memory: what earlier sessions left for the next one.

Behind two MCP tools: `ocp_result_save` (MemoryStore.save) persists summaries, decisions,
versioned state, notes and open items, linked to a route trace when given; and
`ocp_session_restore` (MemoryStore.restore) hands back a token-budgeted brief of it, ranked
and rendered by brief/. Sessions and every model route's trace live in the trace store
(trace_store.py), which MemoryStore extends: one connection, one transaction discipline.

One store, `MemoryStore` (store.py), on one connection, built from parts with one job each:
  values.py   what a save takes and returns
  queries.py  the SQL: which rows each section of a brief draws from, live and expired
  base.py     the shared state and reads: TTL, term frequencies, cited files' signatures,
              the snapshot a restore and a check read first
  save.py     `save`: decisions, notes, open items, state, forget, near-duplicate merges
  citing.py   a save's citations: resolved, suggested, stored with their memory
  duplicates.py  what a save's item merges into: the near-identical live memory
  forget.py   `forget`: retiring memories by id, leaving no trace of their text in the file
  checks.py   `verify`: which cited code changed, moved or went stale
  restore.py  `restore`: the brief's sections, page by page, renewal and expiry

Nothing is silently overwritten: a decision is only retired by superseding it by id (a second
decision with the same title stays beside the first, with a warning), a new state value is a
new version row (older ones stay), and every summary and outcome is also kept as a note.

A session is one server run, or an explicit session id a client keeps across runs.

Memory stays true. Decisions and notes may cite code (`path:start-end` or a symbol, see
citations/); every restore first checks the citations whose files changed, so a memory is
served as a fact only while the code it cites is unchanged (valid) or was found elsewhere
(moved: the citation follows it). Stale ones are listed apart with what changed, or counted.
A memory expires when it has not been served while valid for the TTL (28 days by default);
`forget` retires one by id and erases its text; a near-identical save merges into the live
memory, says so, and erases the wording it replaced.
"""

from ocp_server.brief import (
    Brief,
    CitationState,
    DecisionBrief,
    NoteBrief,
    SessionBrief,
    StaleBrief,
    TraceBrief,
)
from ocp_server.memory.store import MemoryStore
from ocp_server.memory.values import (
    DecisionIn,
    Merged,
    NoteIn,
    SavedCitation,
    SaveOutcome,
    StateChange,
    SuggestedCitation,
)
from ocp_server.trace_store import AttemptRecord, TraceRecord, TraceStore

__all__ = [
    "AttemptRecord",
    "Brief",
    "CitationState",
    "DecisionBrief",
    "DecisionIn",
    "MemoryStore",
    "Merged",
    "NoteBrief",
    "NoteIn",
    "SaveOutcome",
    "SavedCitation",
    "SessionBrief",
    "StaleBrief",
    "StateChange",
    "SuggestedCitation",
    "TraceBrief",
    "TraceRecord",
    "TraceStore",
]
