"""A search's read of its hits' rows, A/B on two builds of the same index (a change to how the
chunks table is stored, m047's column order):

    uv run python bench/bench_row_read.py --cache /tmp/A-cache --b-cache /tmp/B-cache \
        [--corpus pytest,click] [--rounds 5]

Each cache is a `../shared/bench/retrieval/run.py --cache DIR` build (A's by the server
before the change, B's by this checkout). The hits are this checkout's searches of the
corpus's queries over B's index (k=20, their chunk ids found by path and lines, the same ids
in A's: both builds index the same files alike). Each round opens both databases anew as a
search's reader does (read-only, mapped: `workspace_state`), so every row is read for the
first time in the round, then reads each query's hits not read before in the round (as a
server's snapshot keeps the rows it answered with) with search.py's statement, A and B in
turn (which first alternates), timing CPU (`time.process_time`) and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from bench_search_latency import CORPORA, _queries

from ocp_server.index.chunk_columns import READ_MMAP_BYTES
from ocp_server.index.clean_text import RULES_DIGEST, RULES_KEY
from ocp_server.index.workspace import WorkspaceIndex

# search.py `_rows`' statement
ROWS_SQL = (
    "SELECT c.id, c.start_line, c.end_line, c.symbol, c.kind, c.scope, c.text, c.tokens, "
    "c.line_from, c.clean, c.named, (SELECT value FROM meta WHERE key = ?) = ?, f.path "
    "FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})"
)


async def _hit_ids(root: Path, built: Path) -> list[list[int]]:
    """Per query of the corpus: the chunk ids of its 20 hits in `built` (a copy searched)."""
    with tempfile.TemporaryDirectory(prefix="ocp-rows-") as tmp:
        db = Path(tmp) / "ocp.db"
        shutil.copy(built, db)
        index = await WorkspaceIndex.open(root, db)
        try:
            out = []
            for query in _queries(root.name):
                hits = (await index.search(query, k=20, refresh=False)).results
                ids = []
                for h in hits:
                    rows = await index.db.execute_fetchall(
                        "SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id "
                        "WHERE f.path = ? AND c.start_line = ? AND c.end_line = ?",
                        (h.path, h.start_line, h.end_line),
                    )
                    ids += [int(r[0]) for r in rows]
                out.append(ids)
            return out
        finally:
            await index.close()


def _reader(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
    return conn


def _read(
    conn: sqlite3.Connection, ids: list[int]
) -> tuple[float, float, list[tuple[object, ...]]]:
    cpu, wall = time.process_time(), time.perf_counter()
    rows = conn.execute(
        ROWS_SQL.format(marks=",".join("?" * len(ids))), [RULES_KEY, RULES_DIGEST, *ids]
    ).fetchall()
    return time.process_time() - cpu, time.perf_counter() - wall, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="A's run.py cache")
    parser.add_argument("--b-cache", type=Path, required=True, help="B's run.py cache")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(
        "| corpus | queries | rows read a round | A CPU µs/query | B CPU µs/query "
        "| A CPU µs/row | B CPU µs/row | A wall µs/query | B wall µs/query | same rows |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.corpus.split(","):
        dbs = [c / "work" / "ocp" / name / "ocp.db" for c in (args.cache, args.b_cache)]
        hits = asyncio.run(_hit_ids(args.b_cache / "corpora" / name, dbs[1]))
        cpu: list[list[float]] = [[], []]
        wall: list[list[float]] = [[], []]
        same = True
        for r in range(args.rounds):
            readers = [_reader(db) for db in dbs]
            seen: set[int] = set()
            for i, query_ids in enumerate(hits):
                # as the server reads them: only rows not read before (snapshot.answers)
                ids = [c for c in query_ids if c not in seen]
                seen.update(ids)
                if not ids:
                    continue
                got: list[list[tuple[object, ...]]] = [[], []]
                for j in (0, 1) if (i + r) % 2 == 0 else (1, 0):
                    c, w, got[j] = _read(readers[j], ids)
                    cpu[j].append(c)
                    wall[j].append(w)
                same = same and sorted(got[0]) == sorted(got[1])
            for conn in readers:
                conn.close()
        rows = len({c for ids in hits for c in ids})
        per_query = [sum(x) / args.rounds / len(hits) * 1e6 for x in (*cpu, *wall)]
        per_row = [sum(x) / args.rounds / rows * 1e6 for x in cpu]
        print(
            f"| {name} | {len(hits)} | {rows} | {per_query[0]:.0f} | {per_query[1]:.0f} | "
            f"{per_row[0]:.1f} | {per_row[1]:.1f} | {per_query[2]:.0f} | {per_query[3]:.0f} | "
            f"{'yes' if same else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
