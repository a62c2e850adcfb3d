"""A save's citations: resolved against the index and the files (and citations suggested
for the identifiers a text names), stored with their memory, redacted and signed as each
file was read; and the text a memory is indexed by, which names the code it cites."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence

from ocp_server.argument_errors import field_problem
from ocp_server.at_rest import redacted
from ocp_server.citations import CitationError, CodeView, Located
from ocp_server.citations.suggestions import names_in
from ocp_server.errors import InputError
from ocp_server.memory.forget import MemoryForgets
from ocp_server.memory.values import DecisionIn, NoteIn, SuggestedCitation

#: What a citation that cannot be resolved was expected to be, as its error says it.
CITABLE = "expected code in the workspace index: path:start-end, path:symbol or a symbol"


def _why(raw: str, exc: CitationError) -> str:
    """Why a citation failed, without the citation itself where it starts the message (the
    error says it as what was given)."""
    said = str(exc).removeprefix(f"{raw!r}: ")
    return f"it {said.removeprefix(f'{raw!r} ')}" if said.startswith(f"{raw!r} ") else said


class MemoryCites(MemoryForgets):
    """Resolving, suggesting and storing the citations of a save's memories."""

    async def _cite(
        self, decisions: Sequence[DecisionIn], notes: Sequence[NoteIn], scope: str | None = None
    ) -> tuple[dict[str, tuple[Located, ...]], list[SuggestedCitation], dict[str, tuple[int, int]]]:
        """Resolve every citation (ValueError naming the first that fails; a path also under
        `scope`, the sub-folder a scoped save names) and suggest citations for identifiers the
        texts name; both read the index and the files. Also each cited file's signature as it
        was read (`CodeView.signature`)."""
        wanted = [
            (f"decisions[{n}]", d.citations, f"{d.title}\n{d.decision}\n{d.rationale or ''}")
            for n, d in enumerate(decisions)
        ] + [(f"notes[{n}]", note.citations, note.text) for n, note in enumerate(notes)]
        if not any(c for _, c, _ in wanted) and self.workspace is None:
            return {}, [], {}
        if self.workspace is None:
            field = next(f for f, c, _ in wanted if c)
            raise InputError(
                field_problem(
                    f"{field}.citations",
                    "expected none: this memory has no workspace to cite from",
                )
            )
        view = await CodeView.open(self.db, self.workspace, self.max_file_bytes)
        cited: dict[str, tuple[Located, ...]] = {}
        suggested: list[SuggestedCitation] = []
        # Reading every word of up to 150 long texts for identifiers is CPU only: done in a
        # worker thread, as comparing them is (_similarities), not on the event loop.
        named = await asyncio.to_thread(_names_in_all, [text for _, _, text in wanted])
        async with self._lock:
            for (field, raws, text), names in zip(wanted, named, strict=True):
                found: dict[tuple[str, int, int], Located] = {}
                for k, raw in enumerate(raws):
                    try:
                        located = await view.resolve(raw, scope)
                    except CitationError as exc:
                        said = field_problem(
                            f"{field}.citations[{k}]", CITABLE, raw, hint=_why(raw, exc)
                        )
                        raise CitationError(said, not_indexed=exc.not_indexed) from None
                    found.setdefault((located.path, located.start_line, located.end_line), located)
                if found:
                    cited[field] = tuple(found.values())
                symbols = [c.symbol or "" for c in found.values()]
                spans = {c.citation for c in found.values()}
                for s in await view.suggest(text, symbols, names):
                    if s.citation not in spans:
                        suggested.append(SuggestedCitation(field, s.citation, s.symbol, s.kind))
        signed = {c.path: view.signature(c.path) for cs in cited.values() for c in cs}
        return cited, suggested, signed

    async def _reindex(self, kind: str, owner: str, row_id: int, text: str) -> None:
        """Index a merged memory again as it now reads, with every code it cites."""
        rows = await self._fetch(
            f"SELECT path, symbol FROM memory_citations WHERE {owner}_id = ? AND active = 1",
            (row_id,),
        )
        await self._unindex(kind, row_id)
        await self._index(kind, row_id, indexed_text(text, [(str(p), s) for p, s in rows]))

    async def _add_citations(
        self,
        kind: str,
        owner: int,
        citations: Sequence[Located],
        now: float,
        signed: Mapping[str, tuple[int, int]],
    ) -> int:
        """Store citations not already on this memory; how many were new. `signed`: each
        cited file's signature as it was read when the citation was resolved."""
        column = "decision_id" if kind == "decision" else "note_id"
        have = {
            (str(r[0]), int(r[1]), int(r[2]))
            for r in await self._fetch(
                f"SELECT path, start_line, end_line FROM memory_citations WHERE {column} = ? "
                "AND active = 1",
                (owner,),
            )
        }
        new = [c for c in citations if (c.path, c.start_line, c.end_line) not in have]
        if not new:
            return 0
        assert self.workspace is not None
        seen = await self._index_seen()
        view = await CodeView.open(self.db, self.workspace, self.max_file_bytes)
        # a cited stretch may quote a value its file names outside it: kept hidden too
        known = {c.path: await view.known(c.path) for c in new}
        await self.db.executemany(
            f"INSERT INTO memory_citations ({column}, cited, path, start_line, end_line, symbol, "
            "whole, content_hash, content, index_seen, checked_at, namesakes, context) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    owner,
                    c.citation,
                    c.path,
                    c.start_line,
                    c.end_line,
                    c.symbol,
                    int(c.whole),
                    c.content_hash,
                    # kept redacted; the hash is what checks compare
                    redacted(c.content, known[c.path]),
                    seen,
                    now,
                    c.namesakes,
                    c.context,
                )
                for c in new
            ],
        )
        # as read: a file edited since is checked again at the next restore
        await self._sign([(c.path, signed.get(c.path) or view.stat(c.path)) for c in new])
        return len(new)


def _names_in_all(texts: Sequence[str]) -> list[list[str]]:
    """`names_in` of each text: the seam that runs in a worker thread (`_cite`)."""
    return [names_in(text) for text in texts]


def indexed_text(text: str, cited_code: Iterable[tuple[str, str | None]]) -> str:
    """A memory is found by what it says and by the code it cites (path, symbol). (m036 too.)"""
    cited = " ".join(f"{path} {symbol or ''}" for path, symbol in cited_code)
    return f"{text}\n{cited}" if cited else text
