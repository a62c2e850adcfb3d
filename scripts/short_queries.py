"""Short queries, as agents type them, on the six development corpora: which files does the
ranking put first when a request of a few words names no identifier as code?

    uv run python scripts/short_queries.py

The benchmark's requests are commit messages and doc comments, rarely three words long, so
they barely test the lookup rule (`query.py`: in a request of at most LOOKUP_WORDS words,
files defining what it names go first). These sets are built from the same development queries
(no other repository), each with the files of its source as the answer:

- name: a doc-comment query's function name as written (`memory_map`, `parseBody`);
- name words: that name as lower-case words ("memory map", "parse body");
- doc three: the doc comment's first three content words ("strategy employ memory");
- subject two / three / five: a commit subject's first two, three or five content words
  ("pager temp", "pager temp file"); five are seldom a lookup, a control.

Two rules, MRR@10 of files per corpus: "shipped" puts definitions first only in a lookup that
names code outright (an identifier written as code, or one word: `Query.definitions_first`);
"every lookup" did so for any lookup, each plain word a name (the rule before 2026-12-05).
`--chunks` prints instead, for the sets made from doc comments, how often the search's first
result shows the function itself (its lines overlap the function's): Hit@1 of the chunk.
`--bm25` adds the benchmark's own BM25 baseline (`run.py`'s: 50-line windows of the source
files, bm25s and PyStemmer in a venv it makes once under its cache, which needs the package
index).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from ranker_corpora import BENCH, corpus_parser, corpus_root, indexed_snapshot, manifest_corpora

from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import STOPWORDS
from ocp_server.index.query import Query, parse_query
from ocp_server.index.ranking import rank
from ocp_server.index.workspace import WorkspaceIndex

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

RULES: dict[str, Callable[[Query], Query]] = {
    "shipped": lambda q: q,
    "every lookup": lambda q: q._replace(definitions_first=q.lookup),
}


class Short(NamedTuple):
    text: str
    relevant: set[str]
    span: tuple[str, int, int] | None  # a doc comment's function: (path, first, last line)


def _content(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1]


def query_sets(corpus: str) -> dict[str, list[Short]]:
    sets: dict[str, list[Short]] = {
        "name": [],
        "name words": [],
        "doc three": [],
        "subject two": [],
        "subject three": [],
        "subject five": [],
    }
    for line in (BENCH / "queries" / f"{corpus}.docstrings.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        relevant = set(q["relevant_files"])
        at = q["relevant_span"]
        span = (at["path"], at["start_line"], at["end_line"])
        sets["name"].append(Short(q["function"], relevant, span))
        words = " ".join(p.lower() for p in _NAME_PART.findall(q["function"]))
        sets["name words"].append(Short(words, relevant, span))
        if len(content := _content(q["query"])) >= 2:
            sets["doc three"].append(Short(" ".join(content[:3]), relevant, span))
    for line in (BENCH / "queries" / f"{corpus}.commits.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        if len(content := _content(q["subject"])) >= 2:
            for n, set_name in ((2, "subject two"), (3, "subject three"), (5, "subject five")):
                sets[set_name].append(Short(" ".join(content[:n]), set(q["relevant_files"]), None))
    return sets


def reciprocal_rank(snap: Snapshot, query: Query, relevant: set[str]) -> float:
    ranked = rank(snap, query)
    paths = list(dict.fromkeys(snap.paths[int(i)] for i in ranked.files[:10]))
    return next((1 / (i + 1) for i, p in enumerate(paths) if p in relevant), 0.0)


async def corpus_table(entry: dict[str, object], cache: Path) -> dict[tuple[str, str], float]:
    """(set, rule) -> MRR@10 on one corpus."""
    snap = await indexed_snapshot(corpus_root(entry, cache), [])
    out = {}
    for set_name, queries in query_sets(str(entry["name"])).items():
        parsed = [(parse_query(q.text), q.relevant) for q in queries]
        for rule, apply in RULES.items():
            rr = [reciprocal_rank(snap, apply(q), relevant) for q, relevant in parsed]
            out[set_name, rule] = float(np.mean(rr))
    return out


async def chunk_table(entry: dict[str, object], cache: Path) -> dict[tuple[str, str], float]:
    """(set, "chunk Hit@1") -> how often the first result shows the function, on one corpus."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = await WorkspaceIndex.open(corpus_root(entry, cache), Path(tmp) / "ocp.db")
        try:
            await index.update()
            for set_name, queries in query_sets(str(entry["name"])).items():
                shown = []
                for q in queries:
                    if q.span is None:
                        break
                    results = (await index.search(q.text, k=1, refresh=False)).results
                    path, first, last = q.span
                    shown.append(
                        bool(results)
                        and results[0].path == path
                        and results[0].start_line <= last
                        and results[0].end_line >= first
                    )
                if shown:
                    out[set_name, "chunk Hit@1"] = float(np.mean(shown))
        finally:
            await index.close()
    return out


def bm25_table(entry: dict[str, object]) -> dict[tuple[str, str], float]:
    """(set, "bm25") -> MRR@10 on one corpus, by the benchmark's own BM25 run."""
    spec = importlib.util.spec_from_file_location("retrieval_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cache = Path.home() / ".cache" / "ocp-bench" / "retrieval-dev"
    sets = query_sets(str(entry["name"]))
    jobs = {
        s.replace(" ", "_"): [{"qid": str(i), "query": q.text} for i, q in enumerate(qs)]
        for s, qs in sets.items()
    }
    root = bench.ensure_corpus(entry, cache)
    hits = bench.run_bm25(bench.bm25_python(cache), entry, root, jobs, cache, 60)["hits"]
    out = {}
    for set_name, queries in sets.items():
        rr = []
        for i, q in enumerate(queries):
            paths = bench.ranked_files(hits[set_name.replace(" ", "_")][str(i)])[:10]
            rr.append(next((1 / (j + 1) for j, p in enumerate(paths) if p in q.relevant), 0.0))
        out[set_name, "bm25"] = float(np.mean(rr))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, mirrors=False)
    parser.add_argument("--bm25", action="store_true", help="add the benchmark's BM25")
    parser.add_argument(
        "--chunks", action="store_true", help="Hit@1 of the function's chunk, not of files"
    )
    args = parser.parse_args(argv)
    entries = manifest_corpora()
    names = [str(e["name"]) for e in entries]
    measure = chunk_table if args.chunks else corpus_table
    tables = [asyncio.run(measure(e, args.cache)) for e in entries]
    if args.bm25 and not args.chunks:
        for table, entry in zip(tables, entries, strict=True):
            table.update(bm25_table(entry))
    print(f"| set | rule | {' | '.join(names)} | mean |")
    print("|---|---|" + "---|" * (len(names) + 1))
    set_names = list(dict.fromkeys(set_name for set_name, _ in tables[0]))
    for key in sorted(tables[0], key=lambda key: set_names.index(key[0])):  # stable: rules kept
        values = [t[key] for t in tables]
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {key[0]} | {key[1]} | {cells} | {np.mean(values):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
