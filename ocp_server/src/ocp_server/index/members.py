"""A container hit's members: the definitions inside a class, an `impl` or a type that are
chunks of their own.

A class's header is a chunk of one line when its methods are chunks of their own
(`chunking/walker.py`): without its members the hit says nothing of what the class holds. A
member is a later chunk of the file whose scope is the container (`Outer.Inner` for a nested
one). A container that was split (a class, an `impl`) holds the members up to its file's
first chunk outside it (a second `impl` of the same type is that block's own); a type whose
methods are written elsewhere (a Go or Rust struct) has every method of the file that names it.

A file's outline (its chunks' names, kinds, scopes and lines, no text) is read once per
snapshot and kept for its next searches: the same files come back search after search, and a
query of its own costs more than the search's other reads. So do the same container hits: a
container's members (and what listing them costs) are kept beside its file's outline, found
once while that outline is kept (a scan of the outline: a file of hundreds of chunks, as
ripgrep's flag definitions, took most of the members' time)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import NamedTuple

from ocp_router.tokens import estimate_tokens
from ocp_server.index.clean_text import NAMES_CLEAN, RULES_DIGEST, RULES_KEY
from ocp_server.index.models import MemberRow
from ocp_wire.search import MAX_MEMBERS_LISTED

__all__ = ["CONTAINERS", "FileOutlines", "Listed", "OutlineRow", "members_of", "members_tokens"]

# The kinds of chunk whose members may be chunks of their own after it (chunking's containers,
# and the types Go's and Rust's methods name as their receiver).
CONTAINERS = frozenset({"class", "interface", "enum", "module", "trait", "impl", "struct", "type"})
# How many files' outlines a snapshot keeps, and how many of their rows in all.
_OUTLINE_FILES = 512
_OUTLINE_ROWS = 200_000

Reader = Callable[[str, Sequence[object]], Awaitable[Iterable[sqlite3.Row]]]


class OutlineRow(NamedTuple):
    chunk_id: int
    symbol: str | None
    kind: str
    scope: str | None
    start_line: int
    end_line: int
    # its chunk's NAMES_CLEAN flag, found under this process's redaction rules (clean_text.py)
    names_clean: bool = False


class Listed(NamedTuple):
    """A container's members as a hit lists them: the first MAX_MEMBERS_LISTED, how many
    there are, and the tokens the listed ones cost (`members_tokens`)."""

    members: tuple[MemberRow, ...]
    total: int
    tokens: int


class FileOutlines:
    """The outlines a snapshot's searches read, by the file's database id; the oldest go first
    past `max_files` files or `max_rows` rows. Chunks do not change within a snapshot's
    generation, so neither do outlines, nor the members found in one (kept with it, and
    gone with it)."""

    __slots__ = ("_listed", "_outlines", "_rows", "max_files", "max_rows")

    def __init__(self, max_files: int = _OUTLINE_FILES, max_rows: int = _OUTLINE_ROWS) -> None:
        self.max_files = max_files
        self.max_rows = max_rows
        self._outlines: dict[int, tuple[OutlineRow, ...]] = {}
        # per kept outline's file: its container chunks' members found so far, by chunk id
        self._listed: dict[int, dict[int, Listed]] = {}
        self._rows = 0

    def get(self, file_id: int) -> tuple[OutlineRow, ...] | None:
        return self._outlines.get(file_id)

    def put(self, file_id: int, outline: tuple[OutlineRow, ...]) -> None:
        if file_id in self._outlines or len(outline) > self.max_rows:
            return
        self._outlines[file_id] = outline
        self._listed[file_id] = {}
        self._rows += len(outline)
        while len(self._outlines) > self.max_files or self._rows > self.max_rows:
            oldest = next(iter(self._outlines))
            self._rows -= len(self._outlines.pop(oldest))
            del self._listed[oldest]

    async def members(
        self, read: Reader, containers: Iterable[tuple[int, int]]
    ) -> dict[int, Listed]:
        """Per container chunk of `containers` (chunk id, file id) that has members: its
        members (`members_of`), found in its file's outline or kept from an earlier search
        while that outline is kept."""
        out: dict[int, Listed] = {}
        unknown: list[tuple[int, int]] = []
        for chunk_id, file_id in containers:
            kept = self._listed.get(file_id)
            listed = None if kept is None else kept.get(chunk_id)
            if listed is None:
                unknown.append((chunk_id, file_id))
            elif listed.total:
                out[chunk_id] = listed
        if not unknown:
            return out
        outlines = await self.read(read, [f for _, f in unknown])
        for chunk_id, file_id in unknown:
            members, total = members_of(outlines[file_id], chunk_id)
            listed = Listed(members, total, members_tokens(members))
            if (kept := self._listed.get(file_id)) is not None:  # its outline is kept
                kept[chunk_id] = listed
            if total:
                out[chunk_id] = listed
        return out

    async def read(
        self, read: Reader, file_ids: Iterable[int]
    ) -> dict[int, tuple[OutlineRow, ...]]:
        """The outlines of `file_ids`, kept ones first, the rest in one query."""
        found = {f: o for f in set(file_ids) if (o := self._outlines.get(f)) is not None}
        missing = [f for f in set(file_ids) if f not in found]
        if missing:
            fresh: dict[int, list[OutlineRow]] = {f: [] for f in missing}
            # A flag counts only when found with this process's rules; one filled in later
            # without a new generation is not seen while the outline is kept: a name redacted
            # again, no more.
            for file_id, chunk_id, symbol, kind, scope, start, end, clean in await read(
                "SELECT file_id, id, symbol, kind, scope, start_line, end_line, "
                "coalesce(clean & ?, 0) != 0 AND (SELECT value FROM meta WHERE key = ?) IS ? "
                f"FROM chunks WHERE file_id IN ({','.join('?' * len(missing))}) "
                "ORDER BY file_id, start_line",
                [NAMES_CLEAN, RULES_KEY, RULES_DIGEST, *missing],
            ):
                fresh[file_id].append(
                    OutlineRow(chunk_id, symbol, kind, scope, start, end, bool(clean))
                )
            for file_id, rows in fresh.items():
                found[file_id] = outline = tuple(rows)
                self.put(file_id, outline)
        return found


def members_of(outline: Sequence[OutlineRow], chunk_id: int) -> tuple[tuple[MemberRow, ...], int]:
    """The members of chunk `chunk_id` of `outline` (its file's), their first
    MAX_MEMBERS_LISTED, and how many there are."""
    at = next((i for i, row in enumerate(outline) if row.chunk_id == chunk_id), None)
    if at is None:
        return (), 0
    header = outline[at]
    if header.symbol is None:
        return (), 0
    name = f"{header.scope}.{header.symbol}" if header.scope else header.symbol
    nested = name + "."
    inside: list[MemberRow] = []
    anywhere: list[MemberRow] = []
    within = True  # not yet past the container's first chunk outside it
    for row in outline[at + 1 :]:
        if row.start_line <= header.end_line:
            continue
        if row.scope != name and not (row.scope or "").startswith(nested):
            within = False
        if row.scope != name or row.symbol is None or row.kind == "preamble":
            continue
        member = MemberRow(row.symbol, row.kind, row.start_line, row.end_line, row.names_clean)
        anywhere.append(member)
        if within:
            inside.append(member)
    chosen = inside or anywhere
    return tuple(chosen[:MAX_MEMBERS_LISTED]), len(chosen)


def members_tokens(members: Sequence[MemberRow]) -> int:
    """What a container's member list costs an answer: a name and two line numbers each."""
    return sum(estimate_tokens(m.symbol) + 4 for m in members)
