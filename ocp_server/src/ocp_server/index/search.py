"""Search: rank files (`ranking`), choose what to show of each, cite it, fit it in a budget.

Results are chunks with `path:start-end` citations. The default shape puts the best chunk of
each of the best files first, then further chunks of those files: an agent sees more files in
the same number of results, and the files come in the ranker's order. One exception: when there
are as many files as results, a chunk of the best file that answers nearly as well as its best
chunk comes second (`CLOSE_SECOND`; its score may be below the next file's), so that of two
look-alike neighbours (cobra's AddGroup and AddCommand) the agent sees both. With fewer files it
comes after every file's first chunk, as further chunks do.
`group_by="file"` returns the same as files, each with its best chunks.

Path rules (secret files, `.ocpignore`) are checked again on every result: a file that became
secret or ignored after it was indexed is never returned.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_router.redact import named_values
from ocp_router.tokens import estimate_tokens
from ocp_server.index.clean_text import NAMES_CLEAN, RULES_DIGEST, RULES_KEY, TEXT_CLEAN
from ocp_server.index.file_secrets import known_in
from ocp_server.index.files import path_exclusion
from ocp_server.index.globs import HINT, HINT_SCOPED, glob_matcher, scoped_glob
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.lexical import ChunkRow, Snapshot
from ocp_server.index.lexicon import unpack_text
from ocp_server.index.literal_text import lifted, literal_chunks
from ocp_server.index.members import CONTAINERS, Listed
from ocp_server.index.models import SearchResult
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import Ranked, rank
from ocp_server.index.real_paths import real_relative
from ocp_wire.search import DEFAULT_SEARCH_RESULTS, LinePart

__all__ = ["CHUNKS_PER_FILE", "search_chunks", "unmatched_filters"]

#: With `group_by="file"`: at most this many chunks of each file.
CHUNKS_PER_FILE = 3

#: A chunk of the best file scoring at least this share of its best chunk's is shown second.
#: With as many files as results, one chunk each, it would not be shown at all, and the best
#: file's two best chunks are often look-alikes (two functions whose doc comments differ by a
#: word); the share is the highest that shows them (README: "Search quality and speed").
CLOSE_SECOND = 0.85

#: Runs a read-only query on the index database: (sql, parameters) -> rows.
Reader = Callable[[str, Sequence[object]], Awaitable[Iterable[sqlite3.Row]]]


#: Tokens left in the budget under which the next result is left out rather than cut.
_MIN_ROOM = 40

#: Files beyond the k best whose best chunks are found with theirs, for the files skipped.
_SPARE = 4


class _Pick(NamedTuple):  # a tuple: twenty are made on every search
    chunk: int  # index into the snapshot's chunks
    score: float


def _allowed(
    snap: Snapshot, path_glob: str | None, language: str | None
) -> npt.NDArray[np.bool_] | None:
    """The files `path_glob` and `language` keep (None: no filter), each filter's mask built
    on its first search of this snapshot (`FilterMasks`); read-only."""
    masks = []
    if language:
        wanted = language.strip().lower()
        masks.append(snap.filters.get(("language", wanted), lambda: _by_language(snap, wanted)))
    if path_glob:
        pattern = _glob_pattern(path_glob)
        masks.append(snap.filters.get(("path_glob", pattern), lambda: _by_glob(snap, pattern)))
    if len(masks) < 2:
        return masks[0] if masks else None
    return masks[0] & masks[1]


def _glob_pattern(path_glob: str) -> str:
    # a glob without wildcards is a prefix: `src/` holds all of src
    return path_glob if any(ch in path_glob for ch in "*?[") else f"{path_glob}*"


def _by_language(snap: Snapshot, wanted: str) -> npt.NDArray[np.bool_]:
    return np.array([lang == wanted for lang in snap.languages], dtype=bool)


def _by_glob(snap: Snapshot, pattern: str) -> npt.NDArray[np.bool_]:
    matches = glob_matcher(pattern)
    return np.array([matches(p) for p in snap.paths], dtype=bool)


def unmatched_filters(
    snap: Snapshot, path_glob: str | None, language: str | None, scope: str | None = None
) -> str | None:
    """Why a filtered search found nothing, when no indexed file passes its filters: a
    `path_glob` or `language` that keeps no file reads otherwise as no such code (a
    `language` alone is answered with the languages the files searched hold). With a
    `scope` (the sub-folder a `workspace` argument names; `path_glob` is then the caller's,
    relative to it) the files counted are its own, its globs are relative to it, and a
    sub-folder holding no indexed file is named as what kept them all out (not a glob the
    caller never gave)."""
    in_scope = None if scope is None else _allowed(snap, scoped_glob(scope, None), None)
    n = snap.n_files if in_scope is None else int(in_scope.sum())
    if scope is not None and n == 0:
        return (
            f"no indexed file is in {scope}/, the folder searched (`workspace`; the "
            f"workspace has {snap.n_files}): it holds none, or only files the index "
            "leaves out (ignored, vendored, generated, secret or binary; `ocp-server "
            "status` counts them)"
        )
    # each filter as the caller gave it, inside the folder searched
    glob = scoped_glob(scope, path_glob) if path_glob else None
    by_glob = _allowed(snap, glob, None)
    by_language = _allowed(snap, scoped_glob(scope, None), language) if language else None
    both = _allowed(snap, glob, language) if glob and language else None
    if by_glob is not None and not by_glob.any():
        named = "`path_glob`"
    elif by_language is not None and not by_language.any():
        named = "`language`"
    elif both is not None and not both.any():
        named = "`path_glob` and `language` together"
    else:
        return None
    files = f"{n:,} file{'' if n == 1 else 's'}" + ("" if scope is None else f" in {scope}/")
    if named == "`language`":  # what the files do hold, not a glob the caller never gave
        held = sorted(
            {
                lang
                for i, lang in enumerate(snap.languages)
                if lang and (in_scope is None or in_scope[i])
            }
        )
        return (
            f"no indexed file matches {named} (of {files}; languages indexed here: "
            f"{', '.join(held) or 'none'})"
        )
    hint = HINT if scope is None else HINT_SCOPED
    return f"no indexed file matches {named} (of {files}; a glob is {hint})"


def _ignored_target(root: str | None, rel: str, ocpignore: IgnoreRules | None) -> bool:
    """Whether a symlink (or a path through a symlinked folder) leads where the .ocpignore
    ignores, or out of the workspace (`root`, resolved): the listing judges it so, and an
    .ocpignore written since the last update is read at search time. Looked up only when
    there is an .ocpignore: a few stats per result."""
    if ocpignore is None or root is None:
        return False
    real = real_relative(root, rel)
    return real is None or (real != rel and path_exclusion(real, ocpignore) is not None)


def _picks(
    snap: Snapshot,
    ranked: Ranked,
    k: int,
    per_file: int,
    ocpignore: IgnoreRules | None,
    root: str | None = None,
) -> list[list[_Pick]]:
    """For the best `k` files in order: their best chunks, at most `per_file` each. A chunk
    scores as its file, less how far it is behind the file's best chunk."""
    out: list[list[_Pick]] = []
    best_chunks: list[int] = []
    # the first files' chunk ranges at once, a few spare for skipped ones
    head = ranked.files[: k + _SPARE]
    head_lo, head_hi = snap.file_chunks[head], snap.file_chunks[head + 1]
    bounds = list(zip(head_lo.tolist(), head_hi.tolist(), strict=True))
    if per_file == 1:  # and their best chunks
        best_chunks = ranked.chunk_scores.best_of_files(head_lo, head_hi).tolist()
    for at, (file, score) in enumerate(
        zip(ranked.files.tolist(), ranked.scores.tolist(), strict=True)
    ):
        if len(out) >= k:
            break
        if path_exclusion(snap.paths[file], ocpignore) is not None or _ignored_target(
            root, snap.paths[file], ocpignore
        ):
            continue  # became secret or ignored after it was indexed: never returned
        if at < len(bounds):
            lo, hi = bounds[at]
        else:
            lo, hi = int(snap.file_chunks[file]), int(snap.file_chunks[file + 1])
        if lo == hi:
            continue
        if per_file == 1:
            # the best chunk alone scores as its file (the formula below, with nothing behind)
            chunk = (
                best_chunks[at]
                if at < len(best_chunks)
                else ranked.chunk_scores.best_of_file(lo, hi)
            )
            group = [_Pick(chunk, score)]
            if not out:
                group += _close_second(ranked, lo, hi, chunk, score)
            out.append(group)
            continue
        own = ranked.chunk_scores.of_file(lo, hi)
        order = np.argsort(-own, kind="stable")[:per_file]
        values = own[order]
        keep = 1 + int(np.count_nonzero(values[1:] > 0))
        best = float(values[0])
        relative = values[:keep] / best if best > 0 else np.ones(keep)
        scores = score + np.log(np.maximum(relative, 1e-3))
        out.append(
            [_Pick(lo + i, s) for i, s in zip(order[:keep].tolist(), scores.tolist(), strict=True)]
        )
    return out


def _close_second(ranked: Ranked, lo: int, hi: int, best: int, score: float) -> list[_Pick]:
    """The file's (chunks lo..hi-1) next best chunk after `best`, when it scores at least
    CLOSE_SECOND of it, scored as `_picks` scores further chunks; else nothing."""
    own = ranked.chunk_scores.of_file(lo, hi)
    top = float(own[best - lo])
    if top <= 0 or hi - lo < 2:
        return []
    own[best - lo] = -1.0  # the scores are not negative
    second = int(own.argmax())
    value = float(own[second])
    if value < CLOSE_SECOND * top:
        return []
    return [_Pick(lo + second, score + math.log(value / top))]


def _order(groups: list[list[_Pick]], k: int, per_file: int, group_by_file: bool) -> list[_Pick]:
    if group_by_file:
        return [p for group in groups for p in group]
    if per_file == 1:  # one chunk a file, and the best file's close second after its first
        return [*groups[0], *(g[0] for g in groups[1:])][:k] if groups else []
    chosen = [g[0] for g in groups[:k]]
    depth = 1
    while len(chosen) < k and any(len(g) > depth for g in groups):
        chosen.extend(g[depth] for g in groups if len(g) > depth and len(chosen) < k)
        depth += 1
    return chosen[:k]


async def search_chunks(
    read: Reader,
    snap: Snapshot,
    query: str,
    *,
    k: int = DEFAULT_SEARCH_RESULTS,
    path_glob: str | None = None,
    language: str | None = None,
    max_tokens: int | None = None,
    ocpignore: IgnoreRules | None = None,
    group_by_file: bool = False,
    root: str | None = None,
) -> tuple[list[SearchResult], list[str]]:
    """The best chunks for `query` and the query's search terms (empty: nothing to search)."""
    parsed = parse_query(query)
    if parsed.empty:
        return [], []
    allowed = _allowed(snap, path_glob, language)
    ranked = rank(snap, parsed, allowed)

    async def read_chunks(chunks: list[int]) -> dict[int, ChunkRow]:
        ids = snap.chunk_ids[chunks].tolist()
        rows = await _rows(read, snap, chunks)
        return {c: rows[cid] for c, cid in zip(chunks, ids, strict=True) if cid in rows}

    # a message pasted whole: the files whose string literals print it first
    ranked = lifted(snap, ranked, await literal_chunks(snap, ranked, parsed, read_chunks, allowed))
    # one chunk per file first, more of the best files when fewer files than k have any
    per_file = CHUNKS_PER_FILE if group_by_file else (1 if len(ranked.files) >= k else k)
    groups = _picks(snap, ranked, k, per_file, ocpignore, root)
    picks = _order(groups, k, per_file, group_by_file)
    # the best file's close second is an extra: under a budget, whole or not at all
    extra = groups[0][1] if per_file == 1 and groups and len(groups[0]) > 1 else None
    if not picks:
        return [], list(ranked.term_list)
    chunks = [p.chunk for p in picks]
    ids: list[int] = snap.chunk_ids[chunks].tolist()
    files: list[int] = snap.chunk_file[chunks].tolist()
    rows = await _rows(read, snap, chunks)
    matched = _matched_terms(ranked, chunks, parsed.originals, snap.n_chunks)
    # a row gone was deleted since the snapshot was read (or its id is another file's now)
    found = [
        (pick, rows[cid], file, cid)
        for pick, cid, file in zip(picks, ids, files, strict=True)
        if cid in rows
    ]
    if not group_by_file:
        del found[k:]
    members = await _members(read, snap, [(c, f) for _, r, f, c in found if r.kind in CONTAINERS])

    def result(pick: _Pick, row: ChunkRow, file: int, cid: int) -> SearchResult:
        # a piece of a line longer than a chunk: which of the line's characters it is
        at = row.line_from
        part = (
            None
            if at is None
            else LinePart(line=row.start_line, start=at + 1, end=at + len(row.text))
        )
        return SearchResult(
            snap.paths[file],
            row.start_line,
            row.end_line,
            row.symbol,
            row.kind,
            round(pick.score, 4),
            row.text,
            snap.languages[file],
            row.scope,
            matched.get(pick.chunk, ()),
            truncated=part is not None,
            clean=bool(row.clean),
            known=row.known,
            part_of_line=part,
            members=members[cid].members if cid in members else (),
            members_total=members[cid].total if cid in members else 0,
            names_clean=row.names_clean,
        )

    if max_tokens is None:
        return [result(*hit) for hit in found], list(ranked.term_list)
    # The budget is decided on the counts stored at index time.
    packed: list[SearchResult] = []
    used = 0
    for pick, row, file, cid in found:
        tokens = row.tokens
        if tokens is None:  # indexed before counts were stored
            tokens = estimate_tokens(row.text)
        listed = members[cid].tokens if cid in members else 0
        cost = tokens + listed + 20
        if used + cost <= max_tokens:
            packed.append(result(pick, row, file, cid))
            used += cost
            continue
        if pick is extra:
            continue  # not trimmed at the next files' cost
        room = max_tokens - used - listed - 20
        if room >= _MIN_ROOM and (trimmed := _trimmed(result(pick, row, file, cid), room, tokens)):
            packed.append(trimmed)
        break
    return packed, list(ranked.term_list)


async def _members(
    read: Reader, snap: Snapshot, containers: list[tuple[int, int]]
) -> dict[int, Listed]:
    """Per container hit's chunk id (with its file's snapshot index): its members (members.py)."""
    if not containers:
        return {}
    file_ids: list[int] = snap.file_ids[[f for _, f in containers]].tolist()
    return await snap.outlines.members(read, zip((c for c, _ in containers), file_ids, strict=True))


async def _rows(read: Reader, snap: Snapshot, chunks: list[int]) -> dict[int, ChunkRow]:
    """The rows of `chunks` (snapshot indexes) by chunk id, from the snapshot's kept answers
    or the database; a row gone since the snapshot was read is left out."""
    ids: list[int] = snap.chunk_ids[chunks].tolist()
    files: list[int] = snap.chunk_file[chunks].tolist()
    kept = snap.answers
    rows: dict[int, ChunkRow] = {}
    missing: list[int] = []
    for cid in ids:
        row = kept.get(cid)
        if row is None:
            missing.append(cid)
        else:
            rows[cid] = row
    if missing:
        marks = ",".join("?" * len(missing))
        # A chunk's flag counts only when it was found with this process's redaction rules;
        # a row is kept only with its flag known so (one filled in later has no new generation).
        # An update committed since the snapshot may have given a deleted file's chunk id to
        # another file's chunk (ids follow the largest): a row of another file counts as gone.
        owner = {cid: snap.paths[file] for cid, file in zip(ids, files, strict=True)}
        for cid, start, end, symbol, kind, scope, stored, tokens, at, *flags, path in await read(
            f"SELECT c.id, c.start_line, c.end_line, c.symbol, c.kind, c.scope, c.text, c.tokens, "
            f"c.line_from, c.clean, c.named, "
            f"(SELECT value FROM meta WHERE key = ?) = ?, f.path FROM chunks c "
            f"JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})",
            [RULES_KEY, RULES_DIGEST, *missing],
        ):
            if path != owner[cid]:
                continue
            flag, named, ours = flags
            text = unpack_text(stored)
            known = known_in(text, named)
            # a chunk that repeats a value its file names is not clean, whatever its flag
            clean = int(bool(ours) and flag is not None and flag & TEXT_CLEAN and not known)
            names = bool(ours) and flag is not None and bool(flag & NAMES_CLEAN)
            row = ChunkRow(start, end, symbol, kind, scope, text, tokens, clean, known, at, names)
            rows[cid] = row
            if flag is not None and ours:
                kept.put(cid, row)
    return rows


def _matched_terms(
    ranked: Ranked, chunks: list[int], originals: dict[str, str], n_chunks: int
) -> dict[int, tuple[str, ...]]:
    """Per chosen chunk: the query's words found in it."""
    hits = ranked.chunk_hits
    chosen = np.zeros(n_chunks, dtype=bool)
    chosen[chunks] = True
    wanted = chosen[hits.docs]
    word_of = [originals.get(stem, stem) for stem in ranked.term_list]  # per query term
    out: dict[int, list[str]] = {}
    for doc, term in zip(hits.docs[wanted].tolist(), hits.term[wanted].tolist(), strict=True):
        word = word_of[term]
        found = out.setdefault(doc, [])
        if word not in found:
            found.append(word)
    return {doc: tuple(words) for doc, words in out.items()}


def _trimmed(r: SearchResult, room: int, whole: int | None = None) -> SearchResult | None:
    """`r` cut to its first lines that fit in `room` tokens (None when under 40 tokens are
    left, or not even its first line fits). An estimate only grows as lines are added, so the
    longest prefix that fits is found by a search from a guess (the share of the lines that
    `room` is of `whole`, the whole text's count, when known), doubling its step away from it,
    then bisecting: a few estimates of texts about as long as the answer, not one per line.
    Any guess finds the same prefix."""
    if room < _MIN_ROOM:
        return None
    lines = r.text.split("\n")
    n = len(lines)

    def fits(k: int) -> bool:
        return estimate_tokens("\n".join(lines[:k])) <= room

    guess = min(max(n * room // whole, 1), n) if whole else 1
    # the first lo lines fit; hi lines do not (or hi is n + 1: all of them fit)
    step = 1
    if fits(guess):
        lo, hi = guess, n + 1
        while lo < n:
            probe = min(lo + step, n)
            if not fits(probe):
                hi = probe
                break
            lo, step = probe, 2 * step
    else:
        lo, hi = 0, guess
        while hi > 1:
            probe = max(hi - step, 1)
            if fits(probe):
                lo = probe
                break
            hi, step = probe, 2 * step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    if lo == 0:
        return None
    kept = "\n".join(lines[:lo])
    return r._replace(
        text=kept,
        end_line=r.start_line + lo - 1,
        truncated=True,
        # found for the whole text: a part is redacted again (its first lines may use once a
        # value the whole uses twice, a secret then: tests/router/test_redact_line_prefixes.py)
        clean=False,
        # a value named only in the lines cut off (or elsewhere in the file) is still hidden
        # where it recurs in these
        known=tuple(
            (v, k)
            for v, k in {**dict(r.known), **({} if r.clean else named_values(r.text))}.items()
            if v in kept
        ),
    )
