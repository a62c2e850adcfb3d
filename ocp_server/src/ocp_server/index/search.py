"""Ranking: FTS5 bm25 over the three term columns, then code-aware re-ranking in Python.

bm25 weighs symbol terms 8x and path terms 4x above the body. The top candidates are then
re-scored: an exact definition of an identifier in the query ranks first, definitions
outrank mentions, more of the query's terms matched beats fewer, files named in the query are
boosted, and tests, vendored and generated code are down-weighted.
"""

from __future__ import annotations

import re
from dataclasses import replace

import aiosqlite
import pathspec

from ocp_router._tokens import estimate_tokens
from ocp_server.index.files import path_exclusion
from ocp_server.index.models import SearchResult
from ocp_server.index.terms import fts_query, query_terms, split_identifier

CANDIDATES = 150
COMMON_SHARE = 0.04
DEFINITION_KINDS = frozenset(
    {
        "function",
        "method",
        "class",
        "struct",
        "interface",
        "enum",
        "trait",
        "impl",
        "module",
        "type",
        "constant",
        "macro",
    }
)
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs|testing)/|(?:^|/)test_[^/]*$|"
    r"_test\.\w+$|\.(?:test|spec)\.\w+$|(?:^|/)conftest\.py$"
)
_LOW_VALUE = re.compile(r"(?:^|/)(?:vendor|third_party|generated|gen|migrations)/|\.min\.|_pb2")
_QUERY_FILE = re.compile(r"[\w./-]*\w\.\w{1,8}\b|[\w-]+/[\w./-]+")


def _identifiers(query: str) -> set[str]:
    """Identifier spellings the query names, normalised: `verifyToken` -> `verify_token`."""
    out = set()
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", query):
        parts = split_identifier(token)
        if parts:
            out.add("_".join(parts))
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", query)]
    for a, b in zip(words, words[1:], strict=False):
        out.add(f"{a}_{b}")
    return out


async def _selective_terms(
    db: aiosqlite.Connection, terms: list[str], cache: dict[str, int] | None
) -> list[str]:
    """The terms worth matching on. Terms found in more than COMMON_SHARE of all chunks
    (`self`, `return`, `model` in a Django tree) make FTS5 score most of the index for
    little signal; they are left to re-ranking, unless nothing rarer is in the query."""
    cache = {} if cache is None else cache
    missing = [t for t in terms if t not in cache]
    if missing:
        marks = ",".join("?" * len(missing))
        found: dict[str, int] = {
            str(row[0]): int(row[1])
            for row in await db.execute_fetchall(
                f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", missing
            )
        }
        for t in missing:
            cache[t] = int(found.get(t, 0))
        if "\0total" not in cache:
            cache["\0total"] = next(iter(await db.execute_fetchall("SELECT count(*) FROM chunks")))[
                0
            ]
    total = max(cache.get("\0total", 1), 1)
    present = [t for t in terms if cache[t] > 0]
    rare = [t for t in present if cache[t] <= total * COMMON_SHARE]
    return rare or present or terms


def _normalised(symbol: str) -> str:
    return "_".join(split_identifier(symbol))


async def search_chunks(
    db: aiosqlite.Connection,
    query: str,
    *,
    k: int = 8,
    path_glob: str | None = None,
    language: str | None = None,
    max_tokens: int | None = None,
    ocpignore: pathspec.GitIgnoreSpec | None = None,
    df_cache: dict[str, int] | None = None,
) -> tuple[list[SearchResult], list[str]]:
    terms = query_terms(query)
    if not terms:
        return [], []
    match_terms = await _selective_terms(db, terms, df_cache)
    sql = (
        "SELECT c.id, f.path, c.start_line, c.end_line, c.symbol, c.kind, c.scope, c.text, "
        "f.language, bm25(chunks_fts, 8.0, 4.0, 1.0) AS rank "
        "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
        "JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ?"
    )
    args: list[object] = [fts_query(match_terms)]
    if language:
        sql += " AND f.language = ?"
        args.append(language.lower())
    if path_glob:
        sql += " AND f.path GLOB ?"
        args.append(path_glob if any(ch in path_glob for ch in "*?[") else f"{path_glob}*")
    sql += f" ORDER BY rank LIMIT {CANDIDATES}"
    rows = await db.execute_fetchall(sql, args)

    idents = _identifiers(query)
    raw_tokens = set(re.findall(r"\w+", query))
    named_files = [m.lower().strip("./") for m in _QUERY_FILE.findall(query)]
    content_terms = [t for t in terms if "_" not in t or t in idents]
    scored: list[SearchResult] = []
    for _cid, path, start, end, symbol, kind, scope, text, lang, rank in rows:
        if path_exclusion(path, ocpignore) is not None:
            continue  # became secret/ignored after indexing: never returned
        lower = text.lower()
        matched = tuple(t for t in content_terms if t in lower or t in path.lower())
        coverage = len({m for m in matched if "_" not in m}) / max(
            1, len({t for t in content_terms if "_" not in t})
        )
        # bm25 is near zero in tiny corpora (every term is common): the constant keeps the
        # code-aware boosts below meaningful there.
        score = -float(rank) + 1.0
        score *= 0.5 + coverage
        if symbol:
            norm = _normalised(symbol)
            if norm in idents or symbol.lower() in idents:
                score *= 4.5 if symbol in raw_tokens else 3.0
            elif any(part in norm.split("_") for part in terms if len(part) > 2):
                score *= 1.3
        score *= 1.25 if kind in DEFINITION_KINDS else 1.0
        lower_path = path.lower()
        if any(lower_path.endswith(f) or f in lower_path for f in named_files):
            score *= 2.0
        stem = lower_path.rsplit("/", 1)[-1].split(".", 1)[0]
        if stem in terms:
            score *= 1.3
        if _TEST_PATH.search(lower_path):
            score *= 0.6
        if _LOW_VALUE.search(lower_path):
            score *= 0.6
        scored.append(
            SearchResult(
                path, start, end, symbol, kind, round(score, 4), text, lang, scope, matched
            )
        )
    scored.sort(key=lambda r: -r.score)
    return _pack(_dedupe(scored), k, max_tokens), terms


def _dedupe(results: list[SearchResult]) -> list[SearchResult]:
    """Drop results whose lines are inside a better result of the same file."""
    kept: list[SearchResult] = []
    for r in results:
        if any(
            o.path == r.path and o.start_line <= r.start_line and r.end_line <= o.end_line
            for o in kept
        ):
            continue
        kept.append(r)
    return kept


def _pack(results: list[SearchResult], k: int, max_tokens: int | None) -> list[SearchResult]:
    """The best k results; with a token budget, as many as fit, trimming the last to fit."""
    top = results[:k]
    if max_tokens is None:
        return top
    packed: list[SearchResult] = []
    used = 0
    for r in top:
        cost = estimate_tokens(r.text) + 20
        if used + cost <= max_tokens:
            packed.append(r)
            used += cost
            continue
        room = max_tokens - used - 20
        if room >= 40:
            lines = r.text.split("\n")
            kept: list[str] = []
            for line in lines:
                if estimate_tokens("\n".join([*kept, line])) > room:
                    break
                kept.append(line)
            if kept:
                packed.append(
                    replace(
                        r,
                        text="\n".join(kept),
                        end_line=r.start_line + len(kept) - 1,
                        truncated=True,
                    )
                )
        break
    return packed
