"""Where search loses to BM25: per commit query of one development corpus, OCP's files next to
the benchmark's stored BM25 run, worst first, for error analysis.

    uv run python scripts/search_misses.py ripgrep          # the 30 worst queries
    uv run python scripts/search_misses.py hono --show 150  # every query, worst first

Ranks with the shipped weights (`ranking.rank`), on a fresh index of the corpus (unpacked as
`train_ranker.py features` does), without history, as `../shared/bench/retrieval/run.py`
scores it: files in rank order, the first 10 scored by MRR@10. Relevant files carry a `*`.
Note that the in-sample figure it prints is above the leave-one-repository-out one, since the
shipped weights were fitted on this corpus too.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ranker_corpora import BENCH, corpus_parser, corpus_root, manifest_corpora

from ocp_server.index.query import parse_query
from ocp_server.index.ranking import rank
from ocp_server.index.workspace import WorkspaceIndex

TOP = 10


@dataclass(frozen=True)
class Row:
    qid: str
    query: str
    relevant: frozenset[str]
    ours: list[str]
    bm25: list[str]

    def rr(self, files: list[str]) -> float:
        return next((1.0 / (i + 1) for i, f in enumerate(files[:TOP]) if f in self.relevant), 0.0)

    @property
    def gain(self) -> float:
        return self.rr(self.ours) - self.rr(self.bm25)


def _files(hits: list[list[object]]) -> list[str]:
    """Hits collapsed to files in rank order, the first occurrence winning."""
    return list(dict.fromkeys(str(h[0]) for h in hits))[:TOP]


async def _rows(name: str, cache: Path) -> list[Row]:
    entries = manifest_corpora()
    entry = next((e for e in entries if e["name"] == name), None)
    if entry is None:
        raise SystemExit(f"no corpus {name!r} in {BENCH / 'manifest.json'}")
    root = corpus_root(entry, cache)
    with tempfile.TemporaryDirectory() as tmp:
        index = await WorkspaceIndex.open(root, Path(tmp) / "ocp.db", history_commits=0)
        try:
            await index.update()
            snap = await index.snapshot()
        finally:
            await index.close()
    with gzip.open(BENCH / "reference" / "bm25.json.gz", "rt", encoding="utf-8") as f:
        reference = json.load(f)["runs"][name]["hits"]["commits"]
    rows = []
    path = BENCH / "queries" / f"{name}.commits.jsonl"
    for line in path.read_text("utf-8").splitlines():
        q = json.loads(line)
        ranked = rank(snap, parse_query(q["query"]))
        ours = [snap.paths[i] for i in ranked.files[:TOP].tolist()]
        bm25 = _files(reference.get(q["qid"], []))
        rows.append(Row(q["qid"], q["query"], frozenset(q["relevant_files"]), ours, bm25))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, mirrors=False)
    parser.add_argument("corpus", help="a corpus of ../shared/bench/retrieval (e.g. ripgrep)")
    parser.add_argument("--show", type=int, default=30, help="how many queries to print")
    args = parser.parse_args(argv)
    rows = asyncio.run(_rows(args.corpus, args.cache))
    n = max(len(rows), 1)
    ours = sum(r.rr(r.ours) for r in rows) / n
    bm25 = sum(r.rr(r.bm25) for r in rows) / n
    print(f"{args.corpus}: commit MRR@10 ours {ours:.3f} (in sample), BM25 {bm25:.3f}")
    for r in sorted(rows, key=lambda r: r.gain)[: args.show]:

        def mark(files: list[str], row: Row = r) -> str:
            return ", ".join(("*" if f in row.relevant else "") + f for f in files[:5])

        print(f"\n{r.gain:+.2f}  ours {r.rr(r.ours):.2f}  bm25 {r.rr(r.bm25):.2f}  {r.qid}")
        print(f"  query:    {r.query[:200]}")
        print(f"  relevant: {', '.join(sorted(r.relevant)[:5])}")
        print(f"  ours:     {mark(r.ours)}")
        print(f"  bm25:     {mark(r.bm25)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
