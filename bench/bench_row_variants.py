"""Ways of reading a query's hits' rows the first time, interleaved on one index:

    uv run python bench/bench_row_variants.py --cache /tmp/X-cache [--corpus pytest,hono]

The cache is a `../shared/bench/retrieval/run.py --cache DIR` build. The hits are this
checkout's searches of the corpus's queries (k=20; bench_row_read.py's `_hit_ids`). Each round
opens the database anew as the searches' reader does (read-only, mapped), then for each query
reads its hits not read before in the round (as a snapshot's kept answers leave them) with
each variant in turn, the order rotated by query; CPU (`time.process_time`) of the statement
with the rows' texts unpacked and their named values looked up, as search.py `_rows` does
before making its row objects. Every variant must give the same rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import zstandard
from bench_row_read import ROWS_SQL, _hit_ids, _reader
from bench_search_latency import CORPORA

from ocp_server.index import lexicon
from ocp_server.index.clean_text import RULES_DIGEST, RULES_KEY
from ocp_server.index.file_secrets import known_in
from ocp_server.index.lexicon import unpack_text

Row = tuple[object, ...]
Variant = Callable[[sqlite3.Connection, list[int]], list[Row]]

_JSON_SQL = ROWS_SQL.replace("IN ({marks})", "IN (SELECT value FROM json_each(?))")
_dec = zstandard.ZstdDecompressor().decompress


def _finish(rows: list[Row], unpack: Callable[[bytes], str] = unpack_text) -> list[Row]:
    out = []
    for cid, start, end, symbol, kind, scope, stored, tokens, at, flag, named, ours, path in rows:
        text = unpack(stored)  # type: ignore[arg-type]
        out.append(
            (
                cid,
                start,
                end,
                symbol,
                kind,
                scope,
                text,
                tokens,
                at,
                flag,
                ours,
                path,
                known_in(text, named),  # type: ignore[arg-type]
            )
        )
    return sorted(out, key=lambda r: r[0])  # type: ignore[arg-type,return-value]


def base(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    marks = ",".join("?" * len(ids))
    return _finish(
        conn.execute(ROWS_SQL.format(marks=marks), [RULES_KEY, RULES_DIGEST, *ids]).fetchall()
    )


def json_each(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    return _finish(conn.execute(_JSON_SQL, [RULES_KEY, RULES_DIGEST, json.dumps(ids)]).fetchall())


def raw_zstd(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    marks = ",".join("?" * len(ids))
    rows = conn.execute(ROWS_SQL.format(marks=marks), [RULES_KEY, RULES_DIGEST, *ids]).fetchall()
    return _finish(rows, lambda b: _dec(b).decode())


def sql_only(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    marks = ",".join("?" * len(ids))
    return conn.execute(ROWS_SQL.format(marks=marks), [RULES_KEY, RULES_DIGEST, *ids]).fetchall()


_NOJOIN_SQL = (
    "SELECT c.id, c.start_line, c.end_line, c.symbol, c.kind, c.scope, c.text, c.tokens, "
    "c.line_from, c.clean, c.named, (SELECT value FROM meta WHERE key = ?) = ?, c.file_id "
    "FROM chunks c WHERE c.id IN ({marks})"
)


def no_meta(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    """The rules' digest not compared in the statement: what the subquery costs."""
    marks = ",".join("?" * len(ids))
    sql = ROWS_SQL.replace("(SELECT value FROM meta WHERE key = ?) = ?", "1").format(marks=marks)
    return conn.execute(sql, ids).fetchall()


def text_only(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    """The ids and texts alone: what the statement costs without the other columns."""
    marks = ",".join("?" * len(ids))
    return conn.execute(f"SELECT id, text FROM chunks WHERE id IN ({marks})", ids).fetchall()


def ids_only(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    """The ids alone (no row's payload read): the statement's own cost."""
    marks = ",".join("?" * len(ids))
    return conn.execute(f"SELECT id FROM chunks WHERE id IN ({marks})", ids).fetchall()


def _unpack_texts(stored: list[bytes]) -> list[str]:
    """`unpack_text` of each, the thread's decompressor looked up once (measured in commit
    e9660639 as lexicon.unpack_texts, not kept)."""
    decompress = lexicon._codec.decompress
    frame = lexicon._ZSTD_FRAME
    return [
        decompress(s).decode("utf-8") if s.startswith(frame) else unpack_text(s) for s in stored
    ]


def batch_unpack(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    """The texts unpacked together (`_unpack_texts`)."""
    marks = ",".join("?" * len(ids))
    rows = conn.execute(ROWS_SQL.format(marks=marks), [RULES_KEY, RULES_DIGEST, *ids]).fetchall()
    texts = iter(_unpack_texts([r[6] for r in rows]))
    return _finish(rows, lambda _: next(texts))


def no_join(conn: sqlite3.Connection, ids: list[int]) -> list[Row]:
    """Not an answer's equal (the file's id for its path): what the join costs."""
    marks = ",".join("?" * len(ids))
    return conn.execute(_NOJOIN_SQL.format(marks=marks), [RULES_KEY, RULES_DIGEST, *ids]).fetchall()


VARIANTS: dict[str, Variant] = {
    "base": base,
    "json_each": json_each,
    "raw_zstd": raw_zstd,
    "batch_unpack": batch_unpack,
    "sql_only": sql_only,
    "no_join": no_join,
    "no_meta": no_meta,
    "text_only": text_only,
    "ids_only": ids_only,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--evict",
        type=int,
        default=16,
        help="MB written before each read (0: none), as a "
        "search's ranking leaves the CPU's caches; untimed",
    )
    args = parser.parse_args()
    names = list(VARIANTS)
    scratch = np.zeros(args.evict * (1 << 20) // 8)
    print("| corpus | queries | " + " | ".join(f"{n} µs/query" for n in names) + " | same |")
    print("|---|---|" + "---|" * len(names) + "---|")
    for name in args.corpus.split(","):
        db = args.cache / "work" / "ocp" / name / "ocp.db"
        hits = asyncio.run(_hit_ids(args.cache / "corpora" / name, db))
        cpu = {n: 0.0 for n in names}
        same = True
        for r in range(args.rounds):
            # one reader per variant, so each reads every row the first time in the round
            readers = {n: _reader(db) for n in names}
            seen: set[int] = set()
            for i, query_ids in enumerate(hits):
                ids = [c for c in query_ids if c not in seen]
                seen.update(ids)
                if not ids:
                    continue
                order = names[(i + r) % len(names) :] + names[: (i + r) % len(names)]
                got = {}
                for n in order:
                    if args.evict:
                        scratch[:] += 1
                    t = time.process_time()
                    got[n] = VARIANTS[n](readers[n], ids)
                    cpu[n] += time.process_time() - t
                same = (
                    same
                    and got["base"] == got["json_each"] == got["raw_zstd"] == got["batch_unpack"]
                )
            for conn in readers.values():
                conn.close()
        per = [cpu[n] / args.rounds / len(hits) * 1e6 for n in names]
        print(
            f"| {name} | {len(hits)} | "
            + " | ".join(f"{p:.0f}" for p in per)
            + f" | {'yes' if same else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
