"""The wire models of OCP's four MCP tools: one definition, used by the server to validate
arguments and shape results, and by ocp_client to build arguments and parse results.

They live in a distribution of their own (ocp-wire, pure data: pydantic and the router's
vocabulary in `ocp_router.tiers`) so that `ocp-client` installs without the server, its index
and its tree-sitter grammars.

One module per tool (search.py, restore.py, route.py, save.py), the status report (status.py),
what they share (base.py: limits, base models) and the tool table (tools.py); this package
exports them all, and `ocp_wire.X` is how the server and the client name them.

Inputs are flat (each field is a top-level tool argument). Every output is complete and
readable on its own, because some clients (Claude Code) show the model only the structured
content, never the text rendering. Every text in an output has its secrets replaced by
``[REDACTED:<kind>]`` markers, and `redacted` says how many values were hidden.
"""

from importlib.metadata import version

from ocp_wire.base import (
    MAX_DB_ID,
    MAX_ITEM_CHARS,
    MAX_PAYLOAD_CHARS,
    MAX_STATE_KEY_CHARS,
    MAX_STATE_KEYS,
    MAX_STATE_VALUE_CHARS,
    MAX_WORKSPACE_CHARS,
)
from ocp_wire.restore import (
    CitationOut,
    DecisionOut,
    NoteOut,
    OpenItemOut,
    RestoreArgs,
    RestoreResult,
    SessionSummary,
    StaleOut,
    StateSetOut,
    TraceSummary,
    Verified,
)
from ocp_wire.route import (
    SLOT_TAKEN,
    SLOT_WAITING,
    AttemptOut,
    Phase2Out,
    RouteArgs,
    RouteResult,
    RouteTrace,
    payload_chars,
)
from ocp_wire.save import (
    CitationArg,
    DbId,
    DecisionArg,
    Item,
    MergeOut,
    NoteArg,
    SaveArgs,
    SavedCitationOut,
    SaveResult,
    StateKey,
    StateValue,
    SuggestionOut,
)
from ocp_wire.search import (
    DEFAULT_SEARCH_RESULTS,
    MAX_MEMBERS_LISTED,
    MAX_SEARCH_RESULTS,
    FileHits,
    IndexState,
    LinePart,
    SearchArgs,
    SearchHit,
    SearchResult,
)
from ocp_wire.status import (
    STATUS_URI,
    BuildState,
    IndexReport,
    SavedSnapshotState,
    WatcherState,
)
from ocp_wire.tools import RESTORE, ROUTE, SAVE, SEARCH, TOOL_SHAPES, ToolShape

__version__ = version("ocp-wire")
__all__ = [
    "AttemptOut",
    "BuildState",
    "CitationArg",
    "CitationOut",
    "DEFAULT_SEARCH_RESULTS",
    "DbId",
    "DecisionArg",
    "DecisionOut",
    "FileHits",
    "IndexReport",
    "IndexState",
    "Item",
    "LinePart",
    "MAX_DB_ID",
    "MAX_ITEM_CHARS",
    "MAX_MEMBERS_LISTED",
    "MAX_PAYLOAD_CHARS",
    "MAX_SEARCH_RESULTS",
    "MAX_STATE_KEYS",
    "MAX_STATE_KEY_CHARS",
    "MAX_STATE_VALUE_CHARS",
    "MAX_WORKSPACE_CHARS",
    "MergeOut",
    "NoteArg",
    "NoteOut",
    "OpenItemOut",
    "Phase2Out",
    "RESTORE",
    "ROUTE",
    "RestoreArgs",
    "RestoreResult",
    "RouteArgs",
    "RouteResult",
    "RouteTrace",
    "SAVE",
    "SEARCH",
    "SLOT_TAKEN",
    "SLOT_WAITING",
    "STATUS_URI",
    "SaveArgs",
    "SaveResult",
    "SavedCitationOut",
    "SavedSnapshotState",
    "SearchArgs",
    "SearchHit",
    "SearchResult",
    "SessionSummary",
    "StaleOut",
    "StateKey",
    "StateSetOut",
    "StateValue",
    "SuggestionOut",
    "TOOL_SHAPES",
    "ToolShape",
    "TraceSummary",
    "Verified",
    "WatcherState",
    "__version__",
    "payload_chars",
]

# Every input is bounded (count and size); the README's "Input limits" table lists them and a
