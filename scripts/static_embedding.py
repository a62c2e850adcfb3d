"""Does a static embedding whose weights ship inside its wheel help rank files? (Measured: no;
not shipped.)

    uv run --with wordllama==0.4.0.post1 python scripts/static_embedding.py

Issue 9 allows a dense channel only if its model ships inside a package (nothing downloaded at
run time). wordllama's wheel carries its weights (l2_supercat, 256 dimensions, 16 MB: token
embeddings of general text, averaged), and a static embedding costs a table lookup per token,
so a query would pay microseconds, not a transformer's forward. No code-trained static model
ships in a package that we found: semble's potion-code-16M-v2 is downloaded from Hugging Face.

Each file is cut into 50-line windows (every 25 lines), each led by the file's path, and
embedded; per query and candidate, the column is the best window's cosine with the query
("max") or the cosine with the file's mean window ("mean"), standardised over the query's
candidates. The rows and the table are neighbour_scores.py's (checked equal to the shipped
features), commits MRR@10 per held-out corpus. The figures are in docs/search-rounds.md
(2026-12-05).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from neighbour_scores import Corpus, Query, build, first_stage, load_corpus, loro_commits
from ranker_corpora import corpus_parser, corpus_root, manifest_corpora
from train_ranker import mrr_at_10

from ocp_server.index.arrays import Floats
from ocp_server.index.features import FEATURES

WINDOW = 50
TEXT_CAP = 6000  # characters of a window embedded (its tokens are averaged anyway)


def load_model() -> object:
    """wordllama's default model from its own wheel. 0.4.0.post1 looks for its tokenizer in
    `tokenizer/` but ships it in `tokenizers/`, then tries Hugging Face: point it at a copy."""
    import wordllama  # type: ignore[import-not-found]  # an optional, measured-only dependency

    cache = Path(tempfile.mkdtemp(prefix="wordllama-"))
    (cache / "tokenizers").mkdir()
    shipped = Path(wordllama.__file__).parent / "tokenizers"
    for f in shipped.glob("*.json"):
        shutil.copy(f, cache / "tokenizers")
    return wordllama.WordLlama.load(cache_dir=cache, disable_download=True)


def file_vectors(model: object, root: Path, paths: tuple[str, ...]) -> list[tuple[Floats, Floats]]:
    """Per file: its windows' unit vectors, and their mean as a unit vector."""
    out = []
    for p in paths:
        try:
            lines = (root / p).read_text("utf-8", "replace").splitlines()
        except OSError:
            lines = []
        windows = [
            p.replace("/", " ") + "\n" + "\n".join(lines[i : i + WINDOW])[:TEXT_CAP]
            for i in range(0, max(len(lines), 1), WINDOW // 2)
        ]
        e = np.asarray(model.embed(windows, norm=True), dtype=np.float64)  # type: ignore[attr-defined]
        mean = e.mean(0)
        out.append((e, mean / max(float(np.linalg.norm(mean)), 1e-9)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__)
    args = parser.parse_args(argv)
    model = load_model()
    entries = manifest_corpora()
    names = [str(e["name"]) for e in entries]
    corpora: list[Corpus] = []
    vectors = []
    for entry in entries:
        root = corpus_root(entry, args.cache)
        corpus = asyncio.run(load_corpus(entry, root, args.mirrors))
        corpora.append(corpus)
        vectors.append(file_vectors(model, root, corpus.paths))
        print(f"{entry['name']}: indexed and embedded", file=sys.stderr, flush=True)

    texts = sorted({q.text for corpus in corpora for q in corpus.queries})
    embedded = np.asarray(model.embed(texts, norm=True), dtype=np.float64)  # type: ignore[attr-defined]
    query_vectors = dict(zip(texts, embedded, strict=True))

    def column(how: str) -> Callable[[int, Query], Floats]:
        def extra(c: int, q: Query) -> Floats:
            qv = query_vectors[q.text]
            files = vectors[c]
            if how == "max":
                x = np.array([float((files[int(f)][0] @ qv).max()) for f in q.cand])
            else:
                x = np.array([float(files[int(f)][1] @ qv) for f in q.cand])
            z: Floats = (x - x.mean()) / max(float(x.std()), 1e-6)
            return z[:, None]

        return extra

    print("| variant | " + " | ".join(names) + " | mean |")
    print("|---" * (len(names) + 2) + "|")
    base = build(corpora, [], first_stage)
    rows = {"base": loro_commits(base, len(corpora))}
    for how in ("max", "mean"):
        data = build(corpora, [], first_stage, column(how))
        alone = []
        for c in range(len(corpora)):
            held = (data.corpus == c) & (data.qset == 0) & (data.regime == 0)
            x, y, query = data.subset(held)
            alone.append(mrr_at_10(x[:, [len(FEATURES)]], y, query, np.ones(1)))
        rows[f"{how}, alone"] = alone
        rows[f"{how}, as a column"] = loro_commits(data, len(corpora))
    for label, r in rows.items():
        print(f"| {label} | " + " | ".join(f"{v:.3f}" for v in r) + f" | {np.mean(r):.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
