"""Per query of the retrieval benchmark's commit set: where OCP and BM25 put the first changed
file, from the answers `run.py --json` wrote, for reading the misses.

    uv run python ../shared/bench/retrieval/run.py --cmd .venv/bin/ocp-server --json /tmp/run.json
    uv run python bench/retrieval_ranks.py /tmp/run.json ripgrep            # misses, worst first
    uv run python bench/retrieval_ranks.py /tmp/run.json ripgrep --all      # every query
    uv run python bench/retrieval_ranks.py /tmp/run.json --summary          # every corpus

A query's files are its hits collapsed in rank order (the first occurrence wins), as run.py
scores them; the rank is that of the first relevant file, 0 when none is in the first 10. The
summary counts, per corpus, queries with the first relevant file at 1, at 2-10 and not in the
top 10, for OCP and for the BM25 run in the same file (run.py's reference unless --baseline),
and the queries each wins by reciprocal rank. Each miss prints the request, OCP's files above
the first relevant one, and the relevant files with the kind of each (code, test, doc, config).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import NamedTuple

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "retrieval"
TOP = 10
_TEST = re.compile(
    r"(^|/)(tests?|testdata|__tests__|spec)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$"
)
_DOC = re.compile(r"\.(md|rst|txt|adoc)$|(^|/)(docs?|doc)/|(^|/)(CHANGELOG|README|FAQ|GUIDE)", re.I)
_CONFIG = re.compile(r"\.(toml|json|ya?ml|cfg|ini|lock)$|(^|/)(Makefile|Dockerfile)$", re.I)


def kind(path: str) -> str:
    """A file's kind as read from its path: test, doc, config or code."""
    if _TEST.search(path):
        return "test"
    if _DOC.search(path):
        return "doc"
    if _CONFIG.search(path):
        return "config"
    return "code"


def files(hits: list[list[object]]) -> list[str]:
    """The hits' files in rank order, the first occurrence winning."""
    out: list[str] = []
    for hit in hits:
        path = str(hit[0])
        if path not in out:
            out.append(path)
    return out


def first_rank(ranked: list[str], relevant: set[str]) -> int:
    """1-based rank of the first relevant file among the first TOP, 0 when none is."""
    return next((i + 1 for i, p in enumerate(ranked[:TOP]) if p in relevant), 0)


def load(run_json: Path) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, list[str]]]]:
    """Per system (ocp, bm25), per corpus, per query id, its ranked files."""
    runs = json.loads(run_json.read_text("utf-8"))["runs"]
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    for system, per_corpus in runs.items():
        key = "bm25" if system.startswith("bm25") else "ocp"
        out[key] = {
            corpus: {qid: files(h) for qid, h in run["hits"].get("commits", {}).items()}
            for corpus, run in per_corpus.items()
        }
    return out["ocp"], out["bm25"]


class BenchQuery(NamedTuple):
    qid: str
    text: str
    raw_subject: str
    relevant: tuple[str, ...]


def queries(corpus: str) -> list[BenchQuery]:
    """The corpus's commit queries, in the benchmark's order."""
    path = BENCH / "queries" / f"{corpus}.commits.jsonl"
    out = []
    for line in path.read_text("utf-8").splitlines():
        q = json.loads(line)
        out.append(
            BenchQuery(
                str(q["qid"]),
                str(q["query"]),
                str(q.get("raw_subject", "")),
                tuple(q["relevant_files"]),
            )
        )
    return out


def summary(ocp: dict[str, dict[str, list[str]]], bm25: dict[str, dict[str, list[str]]]) -> None:
    print("| corpus | system | MRR@10 | at 1 | at 2-10 | not in 10 | wins by RR |")
    print("|---|---|---|---|---|---|---|")
    for corpus in ocp:
        ranks = {}
        for name, run in (("ocp", ocp), ("bm25", bm25)):
            ranks[name] = [
                first_rank(run[corpus].get(q.qid, []), set(q.relevant)) for q in queries(corpus)
            ]
        rr = {n: [1 / r if r else 0.0 for r in rs] for n, rs in ranks.items()}
        for name in ("ocp", "bm25"):
            rs = ranks[name]
            other = "bm25" if name == "ocp" else "ocp"
            wins = sum(a > b for a, b in zip(rr[name], rr[other], strict=True))
            print(
                f"| {corpus} | {name} | {sum(rr[name]) / len(rs):.3f} | {rs.count(1)} | "
                f"{sum(1 < r <= TOP for r in rs)} | {rs.count(0)} | {wins} |"
            )


def misses(
    ocp: dict[str, dict[str, list[str]]],
    bm25: dict[str, dict[str, list[str]]],
    corpus: str,
    every: bool,
) -> None:
    rows = []
    for q in queries(corpus):
        relevant = set(q.relevant)
        mine, theirs = ocp[corpus].get(q.qid, []), bm25[corpus].get(q.qid, [])
        r, b = first_rank(mine, relevant), first_rank(theirs, relevant)
        if every or r != 1:
            rows.append((1 / r if r else 0.0, r, b, q, mine, theirs))
    rows.sort(key=lambda row: row[0])
    for _, r, b, q, mine, theirs in rows:
        print(f"\n[ocp {r or '-'} | bm25 {b or '-'}] {q.text[:200]}")
        print(f"   raw: {q.raw_subject}")
        print("   relevant: " + ", ".join(f"{p} ({kind(p)})" for p in q.relevant))
        print("   ocp above: " + ", ".join(mine[: (r - 1) if r else 5]))
        marked = [f"{p}{'*' if p in q.relevant else ''}" for p in theirs[:3]]
        print("   bm25 top3: " + ", ".join(marked))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_json", type=Path)
    parser.add_argument("corpus", nargs="?")
    parser.add_argument("--all", action="store_true", help="every query, not only the misses")
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    ocp, bm25 = load(args.run_json)
    if args.summary or not args.corpus:
        summary(ocp, bm25)
    if args.corpus:
        misses(ocp, bm25, args.corpus, args.all)


if __name__ == "__main__":
    main()
