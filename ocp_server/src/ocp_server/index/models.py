"""Values the index hands out: search results, status and update summaries.

What every search makes (twenty results, a status, a response) are NamedTuples, not frozen
dataclasses: a frozen dataclass's __init__ sets each field through object.__setattr__, which
cost a search more than a tenth of a millisecond."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ocp_wire.search import LinePart


class MemberRow(NamedTuple):
    """A definition inside a container hit that is a chunk of its own (wire.Member)."""

    symbol: str
    kind: str
    start_line: int
    end_line: int
    names_clean: bool = False  # `redact_name` leaves its symbol as it is (index/clean_text.py)


class SearchResult(NamedTuple):
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    score: float
    text: str
    language: str | None = None
    scope: str | None = None
    matched_terms: tuple[str, ...] = ()
    truncated: bool = False
    clean: bool = False  # redaction is known to find nothing in `text` (index/clean_text.py)
    # Cut to a budget: the secrets a name told in the lines cut off that recur in `text`,
    # with their kinds (redaction of `text` alone would not know them).
    known: tuple[tuple[str, str], ...] = ()
    # set when `text` is only part of one line: a line longer than a chunk is cut into pieces
    # (chunking/cutter.py); the answer's own model, handed on as it is
    part_of_line: LinePart | None = None
    # a container's header (a class whose methods are chunks of their own): its members after
    # the header, in file order, the first MAX_MEMBERS_LISTED of `members_total`
    members: tuple[MemberRow, ...] = ()
    members_total: int = 0
    # `redact_name` is known to leave `symbol` and `scope` as they are (index/clean_text.py)
    names_clean: bool = False

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


class IndexStatus(NamedTuple):
    workspace: str
    db_path: str
    files: int
    chunks: int
    last_update: float | None
    stale: bool
    building: bool
    git_head: str | None
    indexer: bool  # this process holds the lease to index and watch
    watcher: str = "off"  # off, starting, watching, polling, standby, retrying, stopped
    watcher_error: str | None = None  # the last failure, while retrying
    storage_failure: str | None = None  # the last update's, in words (errors.storage_cause)
    workspace_gone: str | None = None  # why the workspace folder counts as gone (workspace_root)


class SearchResponse(NamedTuple):
    query: str
    results: tuple[SearchResult, ...]
    status: IndexStatus
    terms: tuple[str, ...]
    note: str | None = None


@dataclass(slots=True)
class IndexSummary:
    files: int = 0  # files in the index after the update
    chunks: int = 0
    scanned: int = 0  # files that looked changed and were read
    changed: int = 0  # files whose content changed (re-chunked)
    removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    db_bytes: int = 0
    git: bool = False
    workers: int = 1  # processes that read and chunked the files (see index.file_pool)
    workers_failed: str | None = None  # why workers wanted were not used (file_pool)
