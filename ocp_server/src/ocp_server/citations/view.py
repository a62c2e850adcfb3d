"""Reading the workspace's code as the index allows: the files, their definitions, and the files
a citation may have gone to; resolving (resolving.py) and checking (checking.py) go through it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import aiosqlite

from ocp_server.citations import checking, resolving
from ocp_server.citations.definitions import (
    FUNCTION_KINDS,
    bare_name,
    definitions,
    matches,
    overload_stub,
)
from ocp_server.citations.lines import split_lines
from ocp_server.citations.namesakes import count_namesakes
from ocp_server.citations.nested import defining_lines, nested_definitions
from ocp_server.citations.renames import Renames
from ocp_server.citations.suggestions import suggest
from ocp_server.citations.values import Check, Definition, FileLines, Located, Stored, Suggestion
from ocp_server.index.file_secrets import known_in_file
from ocp_server.index.files import load_ocpignore, path_exclusion
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES
from ocp_server.index.regular_file import read_failure, read_regular
from ocp_server.index.source_text import source_text

__all__ = ["CodeView"]

FILES_NAMING = 50  # files looked in for a definition the index names (as files_defining)
RENAME_TRIES = 20  # files looked in for lines whose file is gone (git mv)
# Then, for a plain `mv` git was not told of (a new name in a new folder): the files of its
# extension indexed last (a moved file is indexed when it appears), this many, this many bytes.
NEWEST_TRIES = 20
NEWEST_BYTES = 4_000_000


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
        self._nested: dict[tuple[str, str], list[Definition]] = {}  # definitions_of
        self._known: dict[str, dict[str, str]] = {}
        self.newest_searches = 0  # looked for in the files indexed last (checking.py)
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
        if not symbol:
            return await self.definitions(path)
        if (path, symbol) in self._nested:  # a check asks again for each step, a stale one
            return self._nested[path, symbol]  # for each place
        defs = await self.definitions(path)
        if any(matches(d, symbol) == 2 for d in defs):
            self._nested[path, symbol] = defs
            return defs
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

    # -- resolving and checking (resolving.py, checking.py) ------------------------------
    async def resolve(self, raw: str, scope: str | None = None) -> Located:
        """The cited code now, or CitationError saying why not (`scope`: as `places`)."""
        return await resolving.resolve(self, raw, scope)

    async def check(self, c: Stored) -> Check:
        """Where the cited lines are now: valid, moved (with the new place) or stale."""
        return await checking.check(self, c)

    async def counted(self, at: Located) -> Located:
        """`at` with how many definitions of its file bear its symbol (namesakes.py)."""
        defs = await self.definitions_of(at.path, at.symbol) if at.symbol else []
        return replace(at, namesakes=count_namesakes(defs, at.symbol))

    async def overload_stub(self, path: str, d: Definition) -> bool:
        """The definition is an `@overload` stub (its decorators, before its `def`, say so)."""
        return overload_stub(await self.lines(path) or [], d)

    def by_its_name_indexable(self, path: str) -> bool:
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

    def unreadable(self, path: str) -> str:
        """Why the file cannot be read: too large, or what reading it failed with."""
        if self.too_large(path):
            limit = f"OCP_MAX_FILE_BYTES ({self.max_file_bytes:,} bytes)"
            return f"{path} is larger than {limit}: not read"
        why = self.by_its_name_indexable(path) and read_failure(self.workspace / path)
        return f"{path!r} cannot be read" + (f" ({why})" if why else "")

    async def defined_in(self, path: str, symbol: str) -> list[tuple[str, Definition]]:
        """The definitions of the file named exactly `symbol`."""
        defs = await self.definitions_of(path, symbol)
        exact = [d for d in defs if matches(d, symbol) == 2]
        return [(path, d) for d in exact]

    async def suggest(
        self, text: str, cited: Iterable[str] = (), names: Sequence[str] | None = None
    ) -> list[Suggestion]:
        """Citations for the identifiers a text names that the index defines exactly once.
        `names`: `names_in(text)` when already worked out (suggestions.py)."""
        return await suggest(self, text, cited, names)


def _like(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
