"""How many of a query's postings could a pruned search skip? Counted, not timed.

    uv run python bench/postings_share.py [--corpus pytest,ripgrep] [--top 20] [--cache DIR]

Per corpus, over its development queries (run.py's indexes, as bench_search_latency.py reads
them): the body postings a query's ranking reads per table (chunks, files, blocks), and how
many of them are in its candidate files (every candidate is scored, and its score is part of
what `bench/search_identity.py` compares) and in the `--top` files of its ranking (what an
answer shows). Then the candidates whose `subject_window` an exact top-`--top` bound could
skip: a file's window holds at most the share of the subject's weight the file holds at all,
so a candidate whose score with that bound stays below the `--top`-th best score without its
window cannot reach the top.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import CACHE, CORPORA, _queries  # noqa: E402

from ocp_server.index.features import FEATURES, candidate_features  # noqa: E402
from ocp_server.index.hits import doc_sums, gather_all  # noqa: E402
from ocp_server.index.lexical import Snapshot, load_snapshot  # noqa: E402
from ocp_server.index.lexicon import term_hash  # noqa: E402
from ocp_server.index.query import parse_query  # noqa: E402
from ocp_server.index.ranking import load_weights, query_kinds, rank  # noqa: E402

_WINDOW = FEATURES.index("subject_window")


def _corpus(snap: Snapshot, queries: list[str], top: int) -> str:
    blocks = snap.blocks
    block_file = np.repeat(np.arange(snap.n_files), np.diff(blocks.file_blocks))
    # per table: postings, in candidates, in the top files
    counts = {"chunk": [0, 0, 0], "file": [0, 0, 0], "block": [0, 0, 0]}
    n = candidates = window_needed = 0
    for text in queries:
        query = parse_query(text)
        if query.empty:
            continue
        cand, x, *_ = candidate_features(snap, query)
        if not len(cand):
            continue
        n += 1
        candidates += len(cand)
        terms = tuple(query.counts)
        at = snap.chunk_body.locate([term_hash(t) for t in terms])
        ch, fh, bh = gather_all(
            [
                (snap.chunk_body, at, snap.n_chunks),
                (snap.file_body, at, snap.n_files),
                (blocks.body, at, len(blocks.length)),
            ]
        )
        in_cand = np.zeros(snap.n_files, dtype=bool)
        in_cand[cand] = True
        in_top = np.zeros(snap.n_files, dtype=bool)
        in_top[rank(snap, query).files[:top]] = True
        for table, files in (
            ("chunk", snap.chunk_file[ch.docs]),
            ("file", fh.docs),
            ("block", block_file[bh.docs]),
        ):
            counts[table][0] += len(files)
            counts[table][1] += int(np.count_nonzero(in_cand[files]))
            counts[table][2] += int(np.count_nonzero(in_top[files]))
        # the window's bound: the share of the subject's weight in the file
        w = load_weights().for_kinds(query_kinds(query, x))
        subject = np.array([t in query.subject for t in terms], dtype=bool)
        weight = np.where(subject, fh.idf, 0.0)
        held = doc_sums(fh.docs, weight[fh.term], snap.n_files) / max(float(weight.sum()), 1e-12)
        bound = np.minimum(held[cand], 1.0)
        without = x @ w - w[_WINDOW] * x[:, _WINDOW]
        kth = np.sort(without + min(w[_WINDOW], 0.0))[::-1][min(top, len(cand)) - 1]
        window_needed += int(np.count_nonzero(without + max(w[_WINDOW], 0.0) * bound >= kth))
    lines = []
    for table, (total, cands, tops) in counts.items():
        lines.append(
            f"| {table} | {total / n:.0f} | {cands / n:.0f} ({cands / max(total, 1):.0%}) "
            f"| {tops / n:.0f} ({tops / max(total, 1):.0%}) |"
        )
    lines.append(
        f"candidates a query {candidates / n:.1f}; their `subject_window` needed for the top "
        f"{top}: {window_needed / n:.1f} ({window_needed / max(candidates, 1):.0%})"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument("--top", type=int, default=20, help="the files an answer shows")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    for name in args.corpus.split(","):
        snap = load_snapshot(args.cache.expanduser() / "work" / "ocp" / name / "ocp.db")
        print(f"\n{name}, postings a query:")
        print(f"| table | all | in candidates | in the top {args.top} |")
        print("|---|---|---|---|")
        print(_corpus(snap, _queries(name), args.top), flush=True)


if __name__ == "__main__":
    main()
