"""`ocp_context_search`: its arguments and its hits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ocp_wire.base import NOT_A_BOOLEAN, Redacted, WireIn, WireInt, WireOut, WorkspaceArg

#: The most results one search returns (the tool's `k`, the CLI's `-k`).
MAX_SEARCH_RESULTS = 50
# A container hit lists this many of its members at most (a class of 200 methods: its first).
MAX_MEMBERS_LISTED = 24
#: How many results a search returns unless asked (the tool, the client, the CLI, the index).
DEFAULT_SEARCH_RESULTS = 8
#: The bounds of a search's token budget (`max_tokens`, and OCP_SEARCH_TOKENS standing in for it).
MIN_SEARCH_TOKENS, MAX_SEARCH_TOKENS = 100, 50_000


class SearchArgs(WireIn):
    query: str = Field(
        min_length=1,
        max_length=20_000,
        description="What to look for: identifiers (verify_token, verifyToken), file names "
        "or a plain-language question.",
    )
    k: WireInt = Field(
        DEFAULT_SEARCH_RESULTS,
        ge=1,
        le=MAX_SEARCH_RESULTS,
        description="How many results at most.",
    )
    path_glob: str | None = Field(
        None, max_length=500, description="Only paths matching this glob, e.g. 'src/**/*.py'."
    )
    language: str | None = Field(
        None,
        max_length=40,
        description="Only this language: python, typescript, go, … or a file extension (py)",
    )
    max_tokens: (
        Annotated[int, Field(ge=MIN_SEARCH_TOKENS, le=MAX_SEARCH_TOKENS), NOT_A_BOOLEAN] | None
    ) = Field(
        None,
        description="Token budget for all result texts together (default: OCP_SEARCH_TOKENS).",
    )
    group_by: Literal["chunk", "file"] = Field(
        "chunk",
        description="'chunk' (default): the best chunks, the best one of each file first. "
        "'file': the best k files, each with its best chunks (results come in `files`).",
    )
    workspace: str | None = WorkspaceArg


class LinePart(WireOut):
    """Which characters of one line a hit's `text` is, when the line is longer than a chunk
    (cut into pieces): columns counted from 1 in characters (code points) of the line as the
    index read it, both ends included, as a citation counts lines; `text` is the line's
    characters start..end (before any redaction)."""

    line: int = Field(ge=1, description="The line (the hit's start_line and end_line)")
    start: int = Field(ge=1, description="The column of `text`'s first character, from 1")
    end: int = Field(ge=1, description="The column of its last character (included)")


class SearchHit(WireOut):
    citation: str = Field(description="path:start-end")
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    scope: str | None
    language: str | None
    score: float
    matched_terms: list[str]
    truncated: bool
    part_of_line: LinePart | None = Field(
        None,
        description="Set when `text` is only part of one line longer than a chunk (cut into "
        "pieces): the line and which of its characters `text` is; `truncated` is then true",
    )
    text: str
    redactions: int = Field(0, ge=0, description="Secret values hidden in `text`")
    members: list[str] = Field(
        default_factory=list,
        description="When the hit is a container (class, struct, impl, ...) whose members are "
        "chunks of their own after its header: each as `name start-end` (its lines), in file "
        f"order, the first {MAX_MEMBERS_LISTED}",
    )
    members_total: int = Field(
        0, ge=0, description="How many members the container has after its header, listed or not"
    )


class IndexState(WireOut):
    workspace: str
    files: int
    chunks: int
    last_update: str | None = Field(description="ISO time of the last completed update")
    building: bool = Field(description="The first index is still being built")
    stale: bool = Field(
        description="Files on disk may differ from the index: never completed, git HEAD moved, "
        "a cited file changed since, or the watcher is retrying after a failure"
    )
    indexer: bool = Field(description="This server process indexes and watches the workspace")
    watcher: str = Field(
        "off",
        description="This process's file watcher: watching, standby (another process "
        "indexes), retrying (after a failure, with backoff), starting, stopped or off",
    )
    watcher_error: str | None = Field(None, description="The last failure, while retrying")


class FileHits(WireOut):
    path: str
    language: str | None
    score: float = Field(description="The file's rank score; the files come best first")
    hits: list[SearchHit] = Field(description="Its best chunks, best first")


class SearchResult(WireOut):
    query: str
    results: list[SearchHit] = Field(description="With group_by 'chunk'; empty with 'file'")
    files: list[FileHits] | None = Field(None, description="With group_by 'file' only")
    index: IndexState
    note: str | None = None
    redacted: int = Redacted
