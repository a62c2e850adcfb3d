"""Reading the workspace's code as the index allows, resolving citations and checking them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import aiosqlite

from ocp_router.redact_names import redact_name_head
from ocp_server.citations.blocks import (
    MIN_LOOSE_BLOCK,
    a_copy,
    edited_in_place,
    find_block,
    holder_of,
    located,
    loose_place,
    most_alike,
    most_alike_stretch,
    region,
)
from ocp_server.citations.definitions import bare_name, definitions, matches, overload_stub
from ocp_server.citations.lines import (
    content_hash,
    describe_change,
    normalized,
    split_lines,
    trimmed,
)
from ocp_server.citations.namesakes import changed_namesake, count_namesakes
from ocp_server.citations.nested import defining_lines, nested_definitions
from ocp_server.citations.parsing import parse_citation
from ocp_server.citations.relative_to import files_ending_in, not_indexed, places
from ocp_server.citations.renames import Renames
from ocp_server.citations.suggestions import suggest
from ocp_server.citations.values import Check, Definition, FileLines, Located, Stored, Suggestion
from ocp_server.errors import CitationError
from ocp_server.index.file_secrets import known_in_file
from ocp_server.index.files import load_ocpignore, path_exclusion
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES
from ocp_server.index.regular_file import read_failure, read_regular
from ocp_server.index.source_text import source_text

__all__ = ["CodeView"]

MAX_CITED_LINES = 2_000
FUNCTION_KINDS = frozenset({"function", "method"})  # what the index does not look into
FILES_NAMING = 50  # files looked in for a definition the index names (as files_defining)
RENAME_TRIES = 20  # files looked in for lines whose file is gone (git mv)
# Then, for a plain `mv` git was not told of (a new name in a new folder): the files of its
# extension indexed last (a moved file is indexed when it appears), this many, this many bytes.
NEWEST_TRIES = 20
NEWEST_BYTES = 4_000_000
NEWEST_SEARCHES = 40  # citations looked for so in one save or restore (a folder deleted whole)


class CodeView:
    """The workspace's code as the index allows it to be read, cached for one save or restore.

    Files are read from disk (the truth, even when the index is a second behind); the index
    says which files may be read and which files define a symbol.
    """

    def __init__(
        self,
        db: aiosqlite.Connection,
        workspace: Path,
        max_file_bytes: int,
        *,
        ocpignore: IgnoreRules | None,
    ) -> None:
        self.db = db
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes  # OCP_MAX_FILE_BYTES: larger files are not read
        self._root = workspace.resolve()
        self._base = str(workspace)
        self.ocpignore = ocpignore  # the workspace's .ocpignore, as this view was opened
        self._indexed: dict[str, bool] = {}
        self._lines: dict[str, list[str] | None] = {}
        self._read_at: dict[str, tuple[int, int]] = {}  # path -> its stat just before the read
        self._defs: dict[str, list[Definition]] = {}
        self._defining: dict[str, list[str]] = {}
        self._renamed: dict[str, list[str]] = {}
        self._newest: dict[str, list[str]] = {}
        self._nested: dict[tuple[str, str], list[Definition]] = {}
        self._known: dict[str, dict[str, str]] = {}
        self._newest_searches = 0
        self.moves = Renames(workspace, db)  # where git, or the index, says a gone file went

    @classmethod
    async def open(
        cls,
        db: aiosqlite.Connection,
        workspace: Path,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> CodeView:
        """A view of `workspace`, its .ocpignore read in a worker thread: matching it as git
        would asks git for core.ignoreCase (`git config`, a subprocess of up to 10 s), which
        on the event loop held up every other call of the server."""
        ocpignore = await asyncio.to_thread(load_ocpignore, workspace)
        return cls(db, workspace, max_file_bytes, ocpignore=ocpignore)

    # -- access -------------------------------------------------------------------------
    async def indexed(self, path: str) -> bool:
        if path not in self._indexed:
            rows = await self.db.execute_fetchall(
                "SELECT 1 FROM files WHERE path = ? AND skip_reason IS NULL", (path,)
            )
            self._indexed[path] = bool(list(rows)) and path_exclusion(path, self.ocpignore) is None
        return self._indexed[path]

    def too_large(self, path: str) -> bool:
        """The file is over OCP_MAX_FILE_BYTES now, whether the index has seen it grow or not."""
        return self.stat(path)[0] > self.max_file_bytes

    def stat(self, path: str) -> tuple[int, int]:
        """(size, mtime_ns), or (-1, -1) when the file is gone."""
        try:
            st = os.stat(os.path.join(self._base, path))  # pathlib costs more than the stat
        except OSError:
            return (-1, -1)
        return (st.st_size, st.st_mtime_ns)

    def signature(self, path: str) -> tuple[int, int]:
        """The file's (size, mtime_ns) as it was just before its lines were read (`stat` now
        when they were not): what a memory records as checked. A stat taken after the read
        would hide an edit made in between, and the file would not be checked again."""
        return self._read_at.get(path) or self.stat(path)

    async def lines(self, path: str) -> list[str] | None:
        """The file's lines, or None when it is gone, unreadable or not indexed."""
        if path not in self._lines:
            self._read_at[path] = self.stat(path)
            self._lines[path] = await self._read(path) if await self.indexed(path) else None
        return self._lines[path]

    async def _read(self, path: str) -> list[str] | None:
        full = self.workspace / path
        try:
            real = full.resolve()
            if not real.is_relative_to(self._root):
                return None  # a symlink swapped to point outside the workspace
            target = real.relative_to(self._root).as_posix()
            if target != path and path_exclusion(target, self.ocpignore) is not None:
                return None  # swapped for a link to a file never indexed (a secret, ignored)
            data = read_regular(full, self.max_file_bytes)
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
            return None
        if len(data) > self.max_file_bytes:
            return None  # grown past the limit since the index read it
        return FileLines(split_lines(source_text(data)), await self.known(path))  # as indexed

    async def known(self, *paths: str) -> dict[str, str]:
        """The values the indexed files `paths` name as secrets, with their kinds, as their
        chunks keep them (index/file_secrets.py): hidden wherever their lines are shown."""
        out: dict[str, str] = {}
        for path in paths:
            if path not in self._known:
                self._known[path] = await known_in_file(self.db, path)
            for value, kind in self._known[path].items():
                out.setdefault(value, kind)
        return out

    async def definitions(self, path: str) -> list[Definition]:
        if path not in self._defs:
            lines = await self.lines(path)
            self._defs[path] = definitions(path, "\n".join(lines)) if lines else []
        return self._defs[path]

    async def definitions_of(self, path: str, symbol: str | None) -> list[Definition]:
        """The file's definitions, with those nested in functions when `symbol` names one
        the index does not: by its full name (`outer.inner`) or its short one (`inner`,
        `Local.method`, the tail of a nested name). Only then are functions walked for
        them, and only those the name leads into: `outer` of `outer.inner`, or those whose
        lines define the short name's first part (`def inner`, `class Local`)."""
        defs = await self.definitions(path)
        if not symbol or any(matches(d, symbol) == 2 for d in defs):
            return defs
        if (path, symbol) in self._nested:  # a stale citation asks again for each place
            return self._nested[path, symbol]
        found = defs
        lines = await self.lines(path)
        functions = [d for d in defs if d.kind in FUNCTION_KINDS]
        if lines and functions:
            text = "\n".join(lines)
            defining = defining_lines(text, symbol.split(".", 1)[0])
            outer = tuple(
                (d.start_line, d.end_line)
                for d in functions
                if symbol.startswith(f"{d.name}.")
                or (defining and any(d.start_line < n <= d.end_line for n in defining))
            )
            if outer:
                known = frozenset(d.name for d in defs)
                found = defs + nested_definitions(path, text, known, outer)
        self._nested[path, symbol] = found
        return found

    async def files_naming(self, symbol: str, *, parts: bool = False) -> list[str]:
        """Indexed files that may define `symbol`: those whose chunks define its name, then,
        for a dotted one, those defining a part of it (`outer` of `outer.inner`, whose body
        the index does not name): when no file defines its name, or `parts` asks always."""
        paths = list(await self.files_defining(symbol))
        if parts or not paths:
            for part in symbol.split(".")[:-1]:
                paths += [p for p in await self.files_defining(part) if p not in paths]
        return paths[:FILES_NAMING]

    async def files_defining(self, symbol: str) -> list[str]:
        """Indexed files whose chunks define `symbol` (by its bare name), best guess first."""
        bare = bare_name(symbol)
        if bare not in self._defining:
            rows = await self.db.execute_fetchall(
                "SELECT DISTINCT f.path FROM chunks c JOIN files f ON f.id = c.file_id "
                "WHERE c.symbol = ? AND f.skip_reason IS NULL ORDER BY f.path LIMIT 50",
                (bare,),
            )
            self._defining[bare] = [str(r[0]) for r in rows]
        return self._defining[bare]

    async def renamed_to(self, path: str) -> list[str]:
        """Files that may be `path` renamed: where git says it went (a rename staged or
        committed, into any folder) or the index saw it go (a plain `mv`), then, guessed by
        name (`mv` keeps the name or the folder), indexed files of the same name in another
        folder, then of the same folder and extension, newest first; at most RENAME_TRIES."""
        if path in self._renamed:
            return self._renamed[path]
        went = await self.moves.renamed_to(path)
        old = PurePosixPath(path)
        folder = "" if old.parent == PurePosixPath(".") else f"{old.parent}/"
        rows = await self.db.execute_fetchall(
            "SELECT path FROM files WHERE skip_reason IS NULL AND path != ? "
            "AND (path LIKE ? ESCAPE '\\' OR path LIKE ? ESCAPE '\\') "
            "ORDER BY indexed_at DESC LIMIT 2000",
            (path, f"%{_like(old.name)}", f"{_like(folder)}%{_like(old.suffix)}"),
        )
        paths = [PurePosixPath(str(r[0])) for r in rows]
        same_name = [p for p in paths if p.name == old.name]
        same_folder = [
            p
            for p in paths
            if p.name != old.name and (p.parent, p.suffix) == (old.parent, old.suffix)
        ]
        guessed = [p.as_posix() for p in (same_name + same_folder)[:RENAME_TRIES]]
        self._renamed[path] = went + [p for p in guessed if p not in went]
        return self._renamed[path]

    async def newest_like(self, path: str) -> list[str]:
        """Indexed files of `path`'s extension, the last indexed first, other than those
        `renamed_to` guessed: where a file moved by a plain `mv` may be, which git does not
        know of (not staged, or never added) and whose name and folder may both be new. At
        most NEWEST_TRIES files, NEWEST_BYTES in all: their content is what tells."""
        if path not in self._newest:
            suffix = PurePosixPath(path).suffix
            rows = await self.db.execute_fetchall(
                "SELECT path, size FROM files WHERE skip_reason IS NULL AND path != ? "
                "AND path LIKE ? ESCAPE '\\' ORDER BY indexed_at DESC, id DESC LIMIT ?",
                (path, f"%{_like(suffix)}" if suffix else "%", 2 * NEWEST_TRIES),
            )
            guessed = set(await self.renamed_to(path))
            found: list[str] = []
            spent = 0
            for other, size in rows:
                if str(other) in guessed or PurePosixPath(str(other)).suffix != suffix:
                    continue
                spent += int(size)
                if spent > NEWEST_BYTES or len(found) >= NEWEST_TRIES:
                    break
                found.append(str(other))
            self._newest[path] = found
        return self._newest[path]

    # -- resolving ----------------------------------------------------------------------
    async def resolve(self, raw: str, scope: str | None = None) -> Located:
        """The cited code now, or CitationError saying why not (`scope`: as `places`)."""
        parsed = parse_citation(raw, self.workspace)
        cited = None if parsed.path is None else await self._indexed_path(raw, parsed.path, scope)
        if parsed.start is not None:
            assert cited is not None and parsed.end is not None
            return await self._resolve_lines(cited, parsed.start, parsed.end)
        assert parsed.symbol is not None
        if cited is not None:
            found = await self._defined_in(cited, parsed.symbol)
        else:
            found = []
            for path in await self.files_naming(parsed.symbol, parts=True):
                found += await self._defined_in(path, parsed.symbol)
        if not found:
            where = f"in {cited}" if cited else "in the index"
            # The index names no definition nested in a function: only its file is walked.
            nested = "" if parsed.path else f"; one nested in a function: path:{parsed.symbol}"
            raise CitationError(
                f"{raw!r}: no definition named {parsed.symbol!r} {where} "
                f"(cite path:start-end for lines that are not a definition{nested})"
            )
        if len(found) > 1:  # typing's @overload stubs name what the implementation does
            found = [f for f in found if not await self.overload_stub(*f)] or found
        if len(found) > 1:
            places = ", ".join(f"{p}:{d.name} ({p}:{d.start_line}-{d.end_line})" for p, d in found)
            # redacted whole, then cut: a name holding a token cut at 600 keeps its head
            shown = redact_name_head(places, 600)
            raise CitationError(f"{raw!r} is ambiguous: {shown}; cite one of them")
        path, d = found[0]
        lines = await self.lines(path)
        assert lines is not None
        return await self.counted(located(path, lines, d.start_line, d.end_line, d.name, True))

    async def counted(self, at: Located) -> Located:
        """`at` with how many definitions of its file bear its symbol (namesakes.py)."""
        defs = await self.definitions_of(at.path, at.symbol) if at.symbol else []
        return replace(at, namesakes=count_namesakes(defs, at.symbol))

    async def overload_stub(self, path: str, d: Definition) -> bool:
        """The definition is an `@overload` stub (its decorators, before its `def`, say so)."""
        return overload_stub(await self.lines(path) or [], d)

    async def _indexed_path(self, raw: str, path: str, scope: str | None) -> str:
        """The indexed file a citation's `path` names, at the first of its `places`."""
        for candidate in (tried := places(raw, path, scope)):
            if self.too_large(candidate) and self._by_its_name_indexable(candidate):
                raise CitationError(self._unreadable(candidate))  # skipped, or will be
            if await self.indexed(candidate):
                return candidate
        meant = await files_ending_in(self.db, path, self.ocpignore)
        raise CitationError(not_indexed(path, self.workspace, tried, meant))

    async def _resolve_lines(self, path: str, start: int, end: int) -> Located:
        lines = await self.lines(path)
        if lines is None:
            raise CitationError(self._unreadable(path))
        if end > len(lines):
            raise CitationError(f"{path}:{start}-{end}: the file has {len(lines)} lines")
        if end - start + 1 > MAX_CITED_LINES:
            raise CitationError(f"{path}:{start}-{end}: cite at most {MAX_CITED_LINES} lines")
        start, end = trimmed(lines, start, end)
        holder = None
        for d in await self.definitions(path):
            inside = d.start_line <= start and end <= d.end_line
            if inside and (holder is None or d.end_line - d.start_line < holder[1] - holder[0]):
                holder = (d.start_line, d.end_line, d.name)
        whole = holder is not None and (holder[0], holder[1]) == (start, end)
        return await self.counted(
            located(path, lines, start, end, holder[2] if holder else None, whole)
        )

    def _by_its_name_indexable(self, path: str) -> bool:
        """The path, and where it leads, are inside the workspace and not excluded by name (a
        secret, vendored, .ocpignore): only of such a file may a refusal tell its size."""
        try:
            real = (self.workspace / path).resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
            return False
        if not real.is_relative_to(self._root):
            return False
        target = real.relative_to(self._root).as_posix()
        return all(path_exclusion(p, self.ocpignore) is None for p in (path, target))

    def _unreadable(self, path: str) -> str:
        if self.too_large(path):
            limit = f"OCP_MAX_FILE_BYTES ({self.max_file_bytes:,} bytes)"
            return f"{path} is larger than {limit}: not read"
        why = self._by_its_name_indexable(path) and read_failure(self.workspace / path)
        return f"{path!r} cannot be read" + (f" ({why})" if why else "")

    async def _defined_in(self, path: str, symbol: str) -> list[tuple[str, Definition]]:
        defs = await self.definitions_of(path, symbol)
        exact = [d for d in defs if matches(d, symbol) == 2]
        return [(path, d) for d in exact]

    # -- checking -----------------------------------------------------------------------
    async def check(self, c: Stored) -> Check:
        """Where the cited lines are now: valid, moved (with the new place) or stale."""
        lines = await self.lines(c.path)
        if lines is not None:
            if c.end_line <= len(lines):
                if content_hash(
                    lines[c.start_line - 1 : c.end_line]
                ) == c.content_hash and not await self._a_copy(c, lines, c.start_line, c.end_line):
                    at = located(c.path, lines, c.start_line, c.end_line, c.symbol, c.whole)
                    return await self._namesake_changed(c, lines, at) or Check("valid", at)
            found = await self._find(c, c.path, lines)
            if (
                found is not None
                and (c.whole or not edited_in_place(lines, c))
                and not await self._a_copy(c, lines, found.start_line, found.end_line)
            ):
                return await self._namesake_changed(c, lines, found) or Check("moved", found)
        # Another file's copy of the cited code is where it went only when its own file no
        # longer defines it: changed where it still is, it is stale (a vendored or legacy
        # copy that still reads as cited is not the code the memory is about).
        if c.symbol and (lines is None or not await self._defined_in(c.path, c.symbol)):
            for path in await self.files_naming(c.symbol):
                other = await self.lines(path) if path != c.path else None
                if other is not None and (found := await self._find(c, path, other)) is not None:
                    return Check("moved", found)
        # A whole definition is only the whole one (by its symbol), never a grown one's start.
        if lines is None and not c.whole and self.stat(c.path) == (-1, -1):
            # Its content tells where it went: first where git or the name says, then, for
            # lines no definition holds (those in one follow its name, above), in the files
            # indexed last (a plain `mv` into a new folder under a new name).
            if len(normalized(c.content.splitlines())) >= MIN_LOOSE_BLOCK:
                tries = await self.renamed_to(c.path)
                if not c.symbol and self._newest_searches < NEWEST_SEARCHES:
                    self._newest_searches += 1
                    tries = [*tries, *await self.newest_like(c.path)]
                for path in tries:
                    other = await self.lines(path)
                    if other is not None and (found := await self._find_loose(c, path, other)):
                        return Check("moved", found)
            elif (found := await self._find_short(c)) is not None:
                return Check("moved", found)
        where, change = await self._what_changed(c, lines)
        return Check("stale", where, change)

    async def _namesake_changed(self, c: Stored, lines: list[str], at: Located) -> Check | None:
        """Stale, when the cited code found unchanged at `at` is a copy under the cited name
        and the namesake added since holds it changed (namesakes.py)."""
        defs = await self.definitions_of(c.path, c.symbol) if c.symbol else []
        if (changed := changed_namesake(defs, lines, c, at.start_line, at.end_line)) is None:
            return None
        d, text = changed
        now = located(c.path, lines, d.start_line, d.end_line, d.name, True)
        diff = describe_change(normalized(c.content.splitlines()), text, await self.known(c.path))
        what = f"`{c.symbol}`" if c.whole else "its lines"
        copy = f"`{c.symbol}` is defined more often than when cited; {at.citation} reads as cited"
        return Check("stale", now, f"{what} changed: {diff} ({copy})")

    async def _a_copy(self, c: Stored, lines: list[str], start: int, end: int) -> bool:
        """`a_copy`, for lines cited within a definition (only they name what they copy)."""
        if not c.symbol or c.whole:
            return False
        return a_copy(await self.definitions(c.path), lines, c, c.symbol, start, end)

    async def _find(self, c: Stored, path: str, lines: list[str]) -> Located | None:
        """The cited lines in this file, at another place."""
        defs = await self.definitions_of(path, c.symbol)
        if c.symbol:
            holders = sorted(
                (d for d in defs if matches(d, c.symbol)),
                key=lambda d: (-matches(d, c.symbol or ""), abs(d.start_line - c.start_line)),
            )
            for d in holders:
                if c.whole:
                    if content_hash(lines[d.start_line - 1 : d.end_line]) == c.content_hash:
                        return located(path, lines, d.start_line, d.end_line, d.name, True)
                elif (at := find_block(lines, c, d.start_line, d.end_line)) is not None:
                    return located(path, lines, at[0], at[1], d.name, False)
            if c.whole or path != c.path:
                return None
        return await self._find_loose(c, path, lines) if path == c.path else None

    async def _find_short(self, c: Stored) -> Located | None:
        """A short block of a file that is gone (found just anywhere it proves nothing), where
        its file went: in the file git or the index says it became, nearest its old place; in a
        file of its name in another folder (a plain `mv`), at its very lines."""
        went = await self.moves.renamed_to(c.path)
        name = PurePosixPath(c.path).name
        same_name = [p for p in await self.renamed_to(c.path) if PurePosixPath(p).name == name]
        for path in dict.fromkeys([*went[:1], *same_name]):
            lines = await self.lines(path)
            if lines is None:
                continue
            if went[:1] == [path]:
                at = find_block(lines, c, 1, len(lines))
            elif content_hash(lines[c.start_line - 1 : c.end_line]) == c.content_hash:
                at = (c.start_line, c.end_line)
            else:
                continue
            if at is not None:
                holder = holder_of(await self.definitions(path), at[0], at[1])
                return located(path, lines, at[0], at[1], holder.name if holder else None, False)
        return None

    async def _find_loose(self, c: Stored, path: str, lines: list[str]) -> Located | None:
        """The cited block anywhere in this file (its own, or the one it was renamed to); a
        short one (found just anywhere it proves nothing) only at its one place in its own."""
        if (at := loose_place(lines, c, own=path == c.path and not c.symbol)) is None:
            return None
        holder = holder_of(await self.definitions(path), at[0], at[1])
        return located(path, lines, at[0], at[1], holder.name if holder else None, False)

    async def _what_changed(self, c: Stored, lines: list[str] | None) -> tuple[Located | None, str]:
        old = normalized(c.content.splitlines())
        if lines is None:
            went: list[str] = []
            if self.stat(c.path) == (-1, -1):
                # a rename known (to git or the index) is no deletion: say where the file went
                went = (await self.moves.renamed_to(c.path))[:1]
                gone = f"{c.path} was " + (f"renamed to {went[0]}" if went else "deleted")
            elif self.too_large(c.path):
                gone = self._unreadable(c.path)
            else:
                gone = f"{c.path} is no longer indexed"
            # A file renamed (git mv, mv) in the same change as an edit: say where it went.
            moved = await self._changed_elsewhere(c, old) if c.symbol else None
            if moved is None and c.symbol and went:
                moved = await self._alike_in(c, went[0], old)
            return (moved[0], f"{gone}; {moved[1]}") if moved else (None, gone)
        if c.symbol:
            defs = await self.definitions_of(c.path, c.symbol)
            same = sorted(
                (d for d in defs if matches(d, c.symbol) == 2),
                key=lambda d: abs(d.start_line - c.start_line),
            )
            if same:
                d = same[0]
                now = located(c.path, lines, d.start_line, d.end_line, d.name, True)
                what = "its lines" if not c.whole else f"`{c.symbol}`"
                known = await self.known(c.path)
                text = region(lines, d, c)
                if not c.whole:  # the lines most like the cited ones, which may have shifted
                    text = most_alike_stretch([d], lines, old)[1] or text
                return now, f"{what} changed: " + describe_change(old, text, known)
            if (moved := await self._changed_elsewhere(c, old)) is not None:
                return moved
            elsewhere = [p for p in await self.files_naming(c.symbol) if p != c.path]
            alike = most_alike(defs, lines, old)
            gone = f"`{c.symbol}` is no longer defined in {c.path}" + (
                f" (one in {elsewhere[0]} is not alike)"
                if elsewhere
                else " or elsewhere in the index"
            )
            if alike is None:
                return None, gone
            now = located(c.path, lines, alike.start_line, alike.end_line, alike.name, True)
            text = normalized(lines[alike.start_line - 1 : alike.end_line])
            return now, (
                f"{gone}; most alike now: `{alike.name}` at {now.citation}: "
                + describe_change(old, text, await self.known(c.path))
            )
        if c.start_line > len(lines):
            return None, f"{c.path} now has {len(lines)} lines; lines {c.start_line}- are gone"
        end = min(c.end_line, len(lines))
        text = normalized(lines[c.start_line - 1 : end])
        known = await self.known(c.path)
        return None, f"lines {c.start_line}-{end} changed: " + describe_change(old, text, known)

    async def _alike_in(self, c: Stored, path: str, old: str) -> tuple[Located, str] | None:
        """The definition of `path` (the file the cited one became) most like the cited
        code, under another name: a function renamed in a file renamed."""
        assert c.symbol is not None
        lines = await self.lines(path)
        if lines is None:
            return None
        alike = most_alike(await self.definitions_of(path, c.symbol), lines, old)
        if alike is None:
            return None
        now = located(path, lines, alike.start_line, alike.end_line, alike.name, True)
        text = normalized(lines[alike.start_line - 1 : alike.end_line])
        return now, (
            f"`{c.symbol}` is no longer defined there; most alike now: `{alike.name}` at "
            f"{now.citation}: " + describe_change(old, text, await self.known(path))
        )

    async def _changed_elsewhere(self, c: Stored, old: str) -> tuple[Located, str] | None:
        """Moved and changed: a definition of the cited symbol in another file, still much
        like the cited code (a same-named function in another file is not enough)."""
        assert c.symbol is not None
        # Where git says the file went first (an edited function is found by its name in
        # any file, but the renamed file is where it most likely is).
        gone = self.stat(c.path) == (-1, -1)
        renamed = await self.renamed_to(c.path) if gone else []
        elsewhere = [p for p in await self.files_naming(c.symbol) if p != c.path]
        for path in [*renamed[:1], *(p for p in elsewhere if p not in renamed[:1])][:10]:
            other = await self.lines(path)
            if other is None:
                continue
            defs = await self.definitions_of(path, c.symbol)
            named = [d for d in defs if matches(d, c.symbol) == 2]
            if not c.whole and path in renamed:  # in the file the cited one became: the
                # stretch most like the cited lines, wherever in the definition it is now
                moved, now_text = most_alike_stretch(named, other, old)
            else:
                moved = most_alike(named, other, old)
                now_text = region(other, moved, c) if moved else ""
            if moved is not None:
                now = located(path, other, moved.start_line, moved.end_line, moved.name, True)
                what = "changed" if c.whole else "its lines changed"
                return now, (
                    f"`{c.symbol}` is now in {now.citation}, {what}: "
                    + describe_change(old, now_text, await self.known(c.path, path))
                )
        return None

    async def suggest(
        self, text: str, cited: Iterable[str] = (), names: Sequence[str] | None = None
    ) -> list[Suggestion]:
        """Citations for the identifiers a text names that the index defines exactly once.
        `names`: `names_in(text)` when already worked out (suggestions.py)."""
        return await suggest(self, text, cited, names)


def _like(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
