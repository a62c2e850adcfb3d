"""Citations: memories tied to the code they cite, and checked against it.

A citation names code as `path:start-end` (also `path:line` and `path#L6-L8`), as
`path:symbol`, or as a bare symbol (`verify_token`, `SessionStore.rotate_session`). Saving
resolves it against the workspace index and the file on disk, and keeps the lines' content
hash, their text (redacted, as memory keeps every text: at_rest.py) and the definition they
belong to. Checking finds the lines again:

- valid: the same lines at the same place;
- moved: the same lines elsewhere in the file, or in another indexed file that defines the
  same symbol, or, when the file is gone, in one it may have been renamed to (the same name
  elsewhere, or the same folder and extension): the citation follows them;
- stale: not found; `change` says what happened (a short diff against what is there now).

Lines compare dedented with trailing blanks dropped: re-indenting a function (moving it into a
class) is a move, not a change. They compare by the hash of the lines as they were; the kept
text, which hides secrets, serves to find them elsewhere and to say what changed. Only files
the index holds are read, so a secret or ignored file can never be cited, and every text
handed out is redacted. Files are read up to OCP_MAX_FILE_BYTES, as the index reads them: the
citations of a file grown past that are stale until it shrinks.

Over 600 lines (about 750): parsing, resolving and checking a citation share the same location
types.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import os
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

import aiosqlite
import pathspec

from ocp_router.redact import MARKER_OPEN, redact
from ocp_server.at_rest import redacted
from ocp_server.errors import CitationError
from ocp_server.index.chunking import chunk_text
from ocp_server.index.files import load_ocpignore, path_exclusion, read_regular
from ocp_server.index.languages import detect_language
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES

__all__ = [
    "Check",
    "CitationError",
    "CodeView",
    "Definition",
    "Located",
    "Stored",
    "Suggestion",
    "content_hash",
    "diff_summary",
    "parse_citation",
]

MAX_CONTENT = 16_000  # characters of the cited text kept for what-changed summaries
MAX_CITED_LINES = 2_000
MIN_LOOSE_BLOCK = 40  # characters a block needs to be looked for anywhere in its file
CLOSE_ENOUGH = 0.5  # line similarity for "most alike now" in a stale summary
MOST_ALIKE_TRIES = 40
RENAME_TRIES = 20  # files looked in for lines whose file is gone (git mv)
SUGGESTIONS_PER_TEXT = 5
Status = Literal["valid", "moved", "stale"]

_RANGE = re.compile(r"^(?P<path>.+?)(?::|#L)(?P<start>\d+)(?:-L?(?P<end>\d+))?$")
_SYMBOL = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*(?:\(\))?$")
_OVERLOAD = re.compile(r"\s*@(?:\w+\.)*overload\b")
_IDENT = re.compile(r"`([^`\s]{2,120})`|\b([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(\(\))?")


# ---- values ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Located:
    """Cited lines found in the workspace."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None  # the smallest definition holding the lines, qualified (Class.method)
    whole: bool  # the lines are that whole definition
    content_hash: str
    content: str  # the lines, capped at MAX_CONTENT characters

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True, slots=True)
class Stored:
    """A citation as saved, to be checked."""

    id: int
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    whole: bool
    content_hash: str  # of the lines as they were, secrets included
    content: str  # the lines as memory keeps them: redacted, capped at MAX_CONTENT characters

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True, slots=True)
class Check:
    """What a check found. `where`: the lines' place now (valid, moved); for stale, the place
    of what replaced them when known. `change`: for stale, what happened, in short."""

    status: Status
    where: Located | None = None
    change: str | None = None


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition in a file: its whole span, members included."""

    name: str  # qualified: Class.method; markdown sections: Parent > Section
    symbol: str  # the bare name
    kind: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A citation the text of a memory seems to be about (returned, never added)."""

    citation: str
    symbol: str
    kind: str


# ---- lines and hashes ----------------------------------------------------------------------
def split_lines(text: str) -> list[str]:
    """Lines as the chunker and editors count them (\\n, \\r\\n and a lone \\r)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def normalized(lines: Sequence[str]) -> str:
    """Dedented, trailing blanks dropped, blank lines at both ends dropped."""
    body = [ln.rstrip() for ln in lines]
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    return textwrap.dedent("\n".join(body))


def content_hash(lines: Sequence[str]) -> str:
    return hashlib.blake2b(normalized(lines).encode(), digest_size=16).hexdigest()


def _trimmed(lines: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """`start`..`end` (1-based) without blank lines at either end; unchanged if all blank."""
    s, e = start, end
    while s < e and not lines[s - 1].strip():
        s += 1
    while e > s and not lines[e - 1].strip():
        e -= 1
    return (s, e) if lines[s - 1].strip() else (start, end)


def diff_summary(old: str, new: str, limit: int = 2) -> str:
    """The first changed lines, `-old` and `+new`, each cut short; redacted."""
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        text = " ".join(line[1:].split())
        if not text:
            continue
        (removed if line[0] == "-" else added).append(text)
    if not removed and not added:
        return "only blank lines changed"
    shown = [f"-`{_cut(t)}`" for t in removed[:limit]] + [f"+`{_cut(t)}`" for t in added[:limit]]
    more = max(0, len(removed) - limit) + max(0, len(added) - limit)
    tail = f" (+{more} more changed line{'s' * (more != 1)})" if more else ""
    return redact(" ".join(shown) + tail).text


def _change(old: str, now: str) -> str:
    """What changed from the kept text to `now`, compared as memory keeps texts (redacted): a
    line with a secret in it has not changed while its secret has not."""
    shown = redacted(now)
    if shown == old and MARKER_OPEN in old:
        return "only a value that is kept redacted changed"
    return diff_summary(old, shown)


def _cut(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- definitions in a file -----------------------------------------------------------------
@dataclass(slots=True)
class _Span:
    name: str
    symbol: str
    kind: str
    start: int
    end: int


def definitions(path: str, text: str) -> list[Definition]:
    """Every named definition of a file, with its full span (a class with its methods)."""
    return list(_definitions(path, text))


@lru_cache(maxsize=64)  # saves and checks parse the same few files again and again
def _definitions(path: str, text: str) -> tuple[Definition, ...]:
    spans: list[_Span] = []
    last: dict[str, _Span] = {}
    scope_end: dict[str, int] = {}
    for c in chunk_text(path, text, detect_language(path)):
        if c.scope:
            scope_end[c.scope] = max(scope_end.get(c.scope, 0), c.end_line)
        if not c.symbol:
            continue
        joiner = " > " if c.kind == "section" else "."
        name = f"{c.scope}{joiner}{c.symbol}" if c.scope else c.symbol
        prev = last.get(name)
        # Parts of one long definition share a name and kind, and touch or overlap.
        if prev is not None and prev.kind == c.kind and c.start_line <= prev.end + 1:
            prev.end = max(prev.end, c.end_line)
            continue
        last[name] = _Span(name, c.symbol, c.kind, c.start_line, c.end_line)
        spans.append(last[name])
    out = []
    for s in spans:
        end = s.end
        for scope, scope_stop in scope_end.items():  # a container ends with its members
            if scope == s.name or scope.startswith((f"{s.name}.", f"{s.name} > ")):
                end = max(end, scope_stop)
        out.append(Definition(s.name, s.symbol, s.kind, s.start, end))
    return tuple(out)


def _matches(d: Definition, symbol: str) -> int:
    """2: the qualified name; 1: the bare name (a function moved into a class); 0: no."""
    if d.name == symbol or d.name.endswith(f".{symbol}"):
        return 2
    return 1 if d.symbol == symbol.rsplit(".", 1)[-1].rsplit(" > ", 1)[-1] else 0


def _bare(symbol: str) -> str:
    return symbol.rsplit(".", 1)[-1].rsplit(" > ", 1)[-1]


# ---- parsing -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Parsed:
    path: str | None
    start: int | None = None
    end: int | None = None
    symbol: str | None = None


def parse_citation(raw: str, workspace: Path | None = None) -> _Parsed:
    """`path:6-8`, `path:6`, `path#L6-L8`, `path:symbol` or `symbol` (CitationError if none)."""
    text = raw.strip()
    if not text:
        raise CitationError("empty citation: expected path:start-end or a symbol name")
    if "\0" in text:  # no path or name holds one (and the file system refuses it)
        raise CitationError(f"{raw!r} is not a citation: it holds a NUL character")
    if m := _RANGE.match(text):
        start = int(m["start"])
        end = int(m["end"]) if m["end"] else start
        if start < 1 or end < start:
            raise CitationError(f"{raw!r}: lines must be start-end with 1 <= start <= end")
        return _Parsed(_relative(m["path"], workspace), start, end)
    if _SYMBOL.match(text):
        return _Parsed(None, symbol=_symbol(text))
    head, sep, tail = text.partition(":")
    if sep and tail and not tail.startswith(":") and _SYMBOL.match(tail):
        return _Parsed(_relative(head, workspace), symbol=_symbol(tail))
    raise CitationError(
        f"{raw!r} is not a citation: expected path:start-end (src/auth.py:6-8), path:symbol "
        "(src/auth.py:verify_token) or a symbol (verify_token, SessionStore.rotate_session)"
    )


def _symbol(text: str) -> str:
    return text.removesuffix("()").replace("::", ".").replace("#", ".")


def _relative(path: str, workspace: Path | None) -> str:
    p = path.strip().replace("\\", "/")
    if workspace is not None and os.path.isabs(p):
        try:
            p = Path(p).resolve().relative_to(workspace.resolve()).as_posix()
        except ValueError:
            raise CitationError(f"{path!r} is outside the workspace {workspace}") from None
        except RuntimeError:  # raised for a symlink loop before Python 3.13
            raise CitationError(f"{path!r} cannot be resolved: a symlink loop") from None
    p = p.removeprefix("./")
    if not p or p.startswith("/") or ".." in PurePosixPath(p).parts:
        raise CitationError(f"{path!r}: expected a path inside the workspace")
    return p


# ---- reading the workspace -----------------------------------------------------------------
class CodeView:
    """The workspace's code as the index allows it to be read, cached for one save or restore.

    Files are read from disk (the truth, even when the index is a second behind); the index
    says which files may be read and which files define a symbol.
    """

    def __init__(
        self,
        db: aiosqlite.Connection,
        workspace: Path,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.db = db
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes  # OCP_MAX_FILE_BYTES: larger files are not read
        self._root = workspace.resolve()
        self._base = str(workspace)
        self._ignore: pathspec.GitIgnoreSpec | None = load_ocpignore(workspace)
        self._indexed: dict[str, bool] = {}
        self._lines: dict[str, list[str] | None] = {}
        self._defs: dict[str, list[Definition]] = {}
        self._defining: dict[str, list[str]] = {}
        self._renamed: dict[str, list[str]] = {}

    # -- access -------------------------------------------------------------------------
    async def indexed(self, path: str) -> bool:
        if path not in self._indexed:
            rows = await self.db.execute_fetchall(
                "SELECT 1 FROM files WHERE path = ? AND skip_reason IS NULL", (path,)
            )
            self._indexed[path] = bool(list(rows)) and path_exclusion(path, self._ignore) is None
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

    async def lines(self, path: str) -> list[str] | None:
        """The file's lines, or None when it is gone, unreadable or not indexed."""
        if path not in self._lines:
            self._lines[path] = await self._read(path) if await self.indexed(path) else None
        return self._lines[path]

    async def _read(self, path: str) -> list[str] | None:
        full = self.workspace / path
        try:
            if not full.resolve().is_relative_to(self._root):
                return None  # a symlink swapped to point outside the workspace
            data = read_regular(full, self.max_file_bytes)
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
            return None
        if len(data) > self.max_file_bytes:
            return None  # grown past the limit since the index read it
        return split_lines(data.decode("utf-8", errors="replace"))

    async def definitions(self, path: str) -> list[Definition]:
        if path not in self._defs:
            lines = await self.lines(path)
            self._defs[path] = definitions(path, "\n".join(lines)) if lines else []
        return self._defs[path]

    async def files_defining(self, symbol: str) -> list[str]:
        """Indexed files whose chunks define `symbol` (by its bare name), best guess first."""
        bare = _bare(symbol)
        if bare not in self._defining:
            rows = await self.db.execute_fetchall(
                "SELECT DISTINCT f.path FROM chunks c JOIN files f ON f.id = c.file_id "
                "WHERE c.symbol = ? AND f.skip_reason IS NULL ORDER BY f.path LIMIT 50",
                (bare,),
            )
            self._defining[bare] = [str(r[0]) for r in rows]
        return self._defining[bare]

    async def renamed_to(self, path: str) -> list[str]:
        """Indexed files that may be `path` renamed (`git mv` keeps the name or the folder):
        the same name in another folder first, then the same folder and extension, newest
        first; at most RENAME_TRIES."""
        if path in self._renamed:
            return self._renamed[path]
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
        self._renamed[path] = [p.as_posix() for p in (same_name + same_folder)[:RENAME_TRIES]]
        return self._renamed[path]

    # -- resolving ----------------------------------------------------------------------
    async def resolve(self, raw: str) -> Located:
        """The cited code now, or CitationError saying why not."""
        parsed = parse_citation(raw, self.workspace)
        if parsed.path is not None:
            await self._require_indexed(parsed.path)
        if parsed.start is not None:
            assert parsed.path is not None and parsed.end is not None
            return await self._resolve_lines(parsed.path, parsed.start, parsed.end)
        assert parsed.symbol is not None
        if parsed.path is not None:
            found = await self._defined_in(parsed.path, parsed.symbol)
        else:
            found = []
            for path in await self.files_defining(parsed.symbol):
                found += await self._defined_in(path, parsed.symbol)
        if not found:
            where = f"in {parsed.path}" if parsed.path else "in the index"
            raise CitationError(
                f"{raw!r}: no definition named {parsed.symbol!r} {where} "
                "(cite path:start-end for lines that are not a definition)"
            )
        if len(found) > 1:  # typing's @overload stubs name what the implementation does
            found = [f for f in found if not await self._overload(*f)] or found
        if len(found) > 1:
            places = ", ".join(f"{p}:{d.name} ({p}:{d.start_line}-{d.end_line})" for p, d in found)
            raise CitationError(f"{raw!r} is ambiguous: {places[:600]}; cite one of them")
        path, d = found[0]
        lines = await self.lines(path)
        assert lines is not None
        return _located(path, lines, d.start_line, d.end_line, d.name, True)

    async def _overload(self, path: str, d: Definition) -> bool:
        """The definition is an `@overload` stub (its decorators, before its `def`, say so)."""
        for line in (await self.lines(path) or [])[d.start_line - 1 : d.end_line]:
            if not line.lstrip().startswith("@"):
                return False
            if _OVERLOAD.match(line):
                return True
        return False

    async def _require_indexed(self, path: str) -> None:
        if self.too_large(path) and self._by_its_name_indexable(path):  # skipped, or will be
            raise CitationError(self._unreadable(path))
        if not await self.indexed(path):
            raise CitationError(
                f"{path!r} is not in the workspace index (a file that does not exist, is "
                "ignored or secret, or is not indexed yet): cite an indexed file"
            )

    async def _resolve_lines(self, path: str, start: int, end: int) -> Located:
        lines = await self.lines(path)
        if lines is None:
            raise CitationError(self._unreadable(path))
        if end > len(lines):
            raise CitationError(f"{path}:{start}-{end}: the file has {len(lines)} lines")
        if end - start + 1 > MAX_CITED_LINES:
            raise CitationError(f"{path}:{start}-{end}: cite at most {MAX_CITED_LINES} lines")
        start, end = _trimmed(lines, start, end)
        holder = None
        for d in await self.definitions(path):
            inside = d.start_line <= start and end <= d.end_line
            if inside and (holder is None or d.end_line - d.start_line < holder[1] - holder[0]):
                holder = (d.start_line, d.end_line, d.name)
        whole = holder is not None and (holder[0], holder[1]) == (start, end)
        return _located(path, lines, start, end, holder[2] if holder else None, whole)

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
        return all(path_exclusion(p, self._ignore) is None for p in (path, target))

    def _unreadable(self, path: str) -> str:
        if self.too_large(path):
            limit = f"OCP_MAX_FILE_BYTES ({self.max_file_bytes:,} bytes)"
            return f"{path} is larger than {limit}: not read"
        return f"{path!r} cannot be read"

    async def _defined_in(self, path: str, symbol: str) -> list[tuple[str, Definition]]:
        defs = await self.definitions(path)
        exact = [d for d in defs if _matches(d, symbol) == 2]
        return [(path, d) for d in exact]

    # -- checking -----------------------------------------------------------------------
    async def check(self, c: Stored) -> Check:
        """Where the cited lines are now: valid, moved (with the new place) or stale."""
        lines = await self.lines(c.path)
        if lines is not None:
            if c.end_line <= len(lines):
                if content_hash(lines[c.start_line - 1 : c.end_line]) == c.content_hash:
                    return Check("valid", _located(c.path, lines, c.start_line, c.end_line,
                                                   c.symbol, c.whole))  # fmt: skip
            found = await self._find(c, c.path, lines)
            if found is not None:
                return Check("moved", found)
        if c.symbol:
            for path in await self.files_defining(c.symbol):
                other = await self.lines(path) if path != c.path else None
                if other is not None and (found := await self._find(c, path, other)) is not None:
                    return Check("moved", found)
        # A whole definition is only ever the whole definition (found through its symbol
        # above): its lines at the start of a grown one are not it.
        if lines is None and not c.whole and self.stat(c.path) == (-1, -1):
            for path in await self.renamed_to(c.path):
                other = await self.lines(path)
                if other is not None and (found := await self._find_loose(c, path, other)):
                    return Check("moved", found)
        where, change = await self._what_changed(c, lines)
        return Check("stale", where, change)

    async def _find(self, c: Stored, path: str, lines: list[str]) -> Located | None:
        """The cited lines in this file, at another place."""
        defs = await self.definitions(path)
        if c.symbol:
            holders = sorted(
                (d for d in defs if _matches(d, c.symbol)),
                key=lambda d: (-_matches(d, c.symbol or ""), abs(d.start_line - c.start_line)),
            )
            for d in holders:
                if c.whole:
                    if content_hash(lines[d.start_line - 1 : d.end_line]) == c.content_hash:
                        return _located(path, lines, d.start_line, d.end_line, d.name, True)
                elif (at := _block(lines, c, d.start_line, d.end_line)) is not None:
                    return _located(path, lines, at[0], at[1], d.name, False)
            if c.whole or path != c.path:
                return None
        return await self._find_loose(c, path, lines) if path == c.path else None

    async def _find_loose(self, c: Stored, path: str, lines: list[str]) -> Located | None:
        """The cited block anywhere in this file (its own, or the one it was renamed to)."""
        if len(normalized(c.content.splitlines())) < MIN_LOOSE_BLOCK:
            return None  # a short block found anywhere else proves nothing
        at = _block(lines, c, 1, len(lines))
        if at is None:
            return None
        holder = _holder(await self.definitions(path), at[0], at[1])
        return _located(path, lines, at[0], at[1], holder.name if holder else None, False)

    async def _what_changed(self, c: Stored, lines: list[str] | None) -> tuple[Located | None, str]:
        old = normalized(c.content.splitlines())
        if lines is None:
            if self.stat(c.path) == (-1, -1):
                gone = f"{c.path} was deleted"
            elif self.too_large(c.path):
                gone = self._unreadable(c.path)
            else:
                gone = f"{c.path} is no longer indexed"
            # A file renamed (git mv) in the same change as an edit: say where it went.
            moved = await self._changed_elsewhere(c, old) if c.symbol else None
            return (moved[0], f"{gone}; {moved[1]}") if moved else (None, gone)
        if c.symbol:
            defs = await self.definitions(c.path)
            same = sorted(
                (d for d in defs if _matches(d, c.symbol) == 2),
                key=lambda d: abs(d.start_line - c.start_line),
            )
            if same:
                d = same[0]
                now = _located(c.path, lines, d.start_line, d.end_line, d.name, True)
                what = "its lines" if not c.whole else f"`{c.symbol}`"
                return now, f"{what} changed: " + _change(old, _region(lines, d, c))
            if (moved := await self._changed_elsewhere(c, old)) is not None:
                return moved
            elsewhere = [p for p in await self.files_defining(c.symbol) if p != c.path]
            alike = _most_alike(defs, lines, old)
            gone = f"`{c.symbol}` is no longer defined in {c.path}" + (
                f" (one in {elsewhere[0]} is not alike)"
                if elsewhere
                else " or elsewhere in the index"
            )
            if alike is None:
                return None, gone
            now = _located(c.path, lines, alike.start_line, alike.end_line, alike.name, True)
            text = normalized(lines[alike.start_line - 1 : alike.end_line])
            return now, (
                f"{gone}; most alike now: `{alike.name}` at {now.citation}: " + _change(old, text)
            )
        if c.start_line > len(lines):
            return None, f"{c.path} now has {len(lines)} lines; lines {c.start_line}- are gone"
        end = min(c.end_line, len(lines))
        text = normalized(lines[c.start_line - 1 : end])
        return None, f"lines {c.start_line}-{end} changed: " + _change(old, text)

    async def _changed_elsewhere(self, c: Stored, old: str) -> tuple[Located, str] | None:
        """Moved and changed: a definition of the cited symbol in another file, still much
        like the cited code (a same-named function in another file is not enough)."""
        assert c.symbol is not None
        elsewhere = [p for p in await self.files_defining(c.symbol) if p != c.path]
        for path in elsewhere[:10]:
            other = await self.lines(path)
            if other is None:
                continue
            named = [d for d in await self.definitions(path) if _matches(d, c.symbol) == 2]
            if (moved := _most_alike(named, other, old)) is not None:
                now = _located(path, other, moved.start_line, moved.end_line, moved.name, True)
                return now, (
                    f"`{c.symbol}` is now in {now.citation}, changed: "
                    + _change(old, _region(other, moved, c))
                )
        return None

    # -- suggestions --------------------------------------------------------------------
    async def suggest(self, text: str, cited: Iterable[str] = ()) -> list[Suggestion]:
        """Citations for the identifiers a text names that the index defines exactly once."""
        skip = {_bare(s) for s in cited if s}
        names: dict[str, None] = {}
        seen: set[tuple[str, bool]] = set()  # prose repeats its words: each is read once
        for m in _IDENT.finditer(text):
            token, marked = m[1] or m[2], bool(m[1] or m[3])
            if not token or (token, marked) in seen:
                continue
            seen.add((token, marked))
            if marked or _identifier_shaped(token):
                name = _symbol(token.strip("`"))
                if _SYMBOL.match(name) and _bare(name) not in skip:
                    names[name] = None
        await asyncio.sleep(0)  # a save of 150 long texts: other calls go between them
        out: list[Suggestion] = []
        for name in list(names)[:20]:
            found: list[tuple[str, Definition]] = []
            for path in (await self.files_defining(name))[:5]:
                found += [(path, d) for d in await self.definitions(path) if _matches(d, name)]
            exact = [(p, d) for p, d in found if _matches(d, name) == 2] or found
            if len(exact) == 1:
                path, d = exact[0]
                out.append(Suggestion(f"{path}:{d.start_line}-{d.end_line}", d.name, d.kind))
            if len(out) >= SUGGESTIONS_PER_TEXT:
                break
        return out


_CAMEL = re.compile(r"[a-z][A-Z]")
_PASCAL = re.compile(r"[A-Z][a-z]+[A-Z]")


def _identifier_shaped(token: str) -> bool:
    """snake_case, camelCase, PascalCase of two words or more, or dotted: not prose."""
    if "." in token or "_" in token.strip("_"):
        return True
    return _CAMEL.search(token) is not None or _PASCAL.match(token) is not None


def _like(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _located(
    path: str, lines: Sequence[str], start: int, end: int, symbol: str | None, whole: bool
) -> Located:
    cited = lines[start - 1 : end]
    return Located(
        path, start, end, symbol, whole, content_hash(cited), "\n".join(cited)[:MAX_CONTENT]
    )


def _block(lines: Sequence[str], c: Stored, lo: int, hi: int) -> tuple[int, int] | None:
    """Where the cited block is within lines lo..hi, nearest the old place first. Places to
    hash are where its anchor line fits (`_anchor`); every place when it has none."""
    size = c.end_line - c.start_line + 1
    span = range(lo, hi - size + 2)
    anchor = _anchor(c.content, size)
    if anchor is None:
        starts = list(span)
    else:
        k, text, how = anchor
        starts = [i for i in span if _fits(lines[i - 1 + k].strip(), text, how)]
    for i in sorted(starts, key=lambda i: abs(i - c.start_line)):
        if content_hash(lines[i - 1 : i - 1 + size]) == c.content_hash:
            return i, i + size - 1
    return None


def _anchor(kept: str, size: int) -> tuple[int, str, str] | None:
    """The line of the block to find it by: (offset in the block, text, how it fits). It is
    the longest text the kept lines show as it is in the file: a line without a secret, the
    start of a line up to one, or the text after one. (A block whose first line began with a
    secret had every line of the file as a place to hash.)"""
    rows = kept.split("\n")
    # A secret over several lines is one marker: lines after it may sit higher than in the file.
    aligned = len(rows) == size
    best: tuple[int, str, str] | None = None
    for k, row in enumerate(rows[:size]):
        head, *secrets = row.strip().split(MARKER_OPEN)
        cut = k == len(rows) - 1  # the kept text may end within this line (MAX_CONTENT)
        texts = [(head, "start" if secrets or cut else "equal")]
        texts += [(after.partition("]")[2].strip(), "within") for after in secrets]
        for text, how in texts:
            if len(text) > len(best[1] if best else ""):
                best = (k, text, how)
        if secrets and not aligned:
            break
    return best


def _fits(line: str, text: str, how: str) -> bool:
    if how == "equal":
        return line == text
    return line.startswith(text) if how == "start" else text in line


def _holder(defs: Sequence[Definition], start: int, end: int) -> Definition | None:
    inside = [d for d in defs if d.start_line <= start and end <= d.end_line]
    return min(inside, key=lambda d: d.end_line - d.start_line, default=None)


def _region(lines: Sequence[str], d: Definition, c: Stored) -> str:
    """What to compare a changed citation with: the definition, or for a part of one the
    stretch of the same size where the cited lines sat within it."""
    if c.whole:
        return normalized(lines[d.start_line - 1 : d.end_line])
    size = c.end_line - c.start_line + 1
    start = max(d.start_line, min(c.start_line, d.end_line - size + 1))
    return normalized(lines[start - 1 : start - 1 + size])


def _most_alike(defs: Sequence[Definition], lines: Sequence[str], old: str) -> Definition | None:
    """The definition most like the old text (line by line), if alike enough. Only those of
    a comparable size are compared, the nearest in size first, at most MOST_ALIKE_TRIES."""
    want = old.split("\n")
    sized = sorted(
        (d for d in defs if 0.5 <= (d.end_line - d.start_line + 1) / len(want) <= 2.0),
        key=lambda d: abs(d.end_line - d.start_line + 1 - len(want)),
    )
    best, score = None, CLOSE_ENOUGH
    for d in sized[:MOST_ALIKE_TRIES]:
        text = normalized(lines[d.start_line - 1 : d.end_line]).split("\n")
        matcher = difflib.SequenceMatcher(None, want, text, autojunk=False)
        if matcher.real_quick_ratio() > score and matcher.quick_ratio() > score:
            ratio = matcher.ratio()
            if ratio > score:
                best, score = d, ratio
    return best
