"""Whether a folder's index file as a class column (+0.0020 held out, 2026-12-07 morning) is more
than noise, and a file's in-degree over import lines as a prior. (Measured: neither above noise;
not shipped. docs/search-rounds.md, 2026-12-07, evening.) Also the columns of
`reference_columns.py` (the code's references from the best chunks, sub-words by character
trigrams; measured, none above the base: 2026-12-07, late evening).

    uv run python scripts/prior_checks.py collect     # index the six corpora, store the rows
    uv run python scripts/prior_checks.py --rows /tmp/x.npz report "callers' words"  # elsewhere
    uv run python scripts/prior_checks.py report      # LORO table, paired bootstrap
    uv run python scripts/prior_checks.py nested      # the same with L2 chosen inside each fold

`collect` computes, on the rows `train_ranker.py features` keeps (through
`window_features.collect`), the 28 features and these extra columns per candidate file, and
stores them once in /tmp (numbers only); `report` and `nested` slice them into variants:

- index file: a folder's index file (`import_features.index_file`);
- random 1-3: a uniform random number per candidate row, three seeds: the yardstick's own
  column, measured beside the column it judges on the same rows;
- import in-degree: log(1 + the other files whose import lines (`import_features.import_lines`)
  hold the file's stem as terms, or its folder's name for an index file): how many modules
  import it, read from the code at index time;
- the nine columns of `reference_columns.COLUMNS`, alone and in the groups below.

Per variant: commits MRR@10 per held-out corpus (LORO), and a paired bootstrap over the held-out
commit queries of the difference from the base (2,000 resamples, 95% interval of the mean).
`nested` chooses L2 from `train_ranker.L2_GRID` by LORO over the other five corpora for each
held-out corpus, as `train_ranker.py nested`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path, PurePosixPath

import import_features as imf
import numpy as np
import reference_columns as rc
import window_features as wf
from paired_bootstrap import gain_over_base
from ranker_corpora import CORPUS_CACHE, MIRRORS, manifest_corpora
from train_ranker import L2, L2_GRID, fit

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.lexicon import terms
from ocp_server.index.query import Query
from ocp_server.index.ranking import QUERY_KINDS

ROWS = Path("/tmp/prior_checks_rows.npz")  # --rows; per variant RR's each held-out corpus's
RR = Path("/tmp/prior_checks_rr.npz")  # reciprocal ranks, named after the rows' file
EXTRA = ("index file", "random 1", "random 2", "random 3", "import in-degree", *rc.COLUMNS)
VARIANTS: dict[str, tuple[str, ...]] = {
    "base": (),
    "index file": ("index file",),
    "random 1": ("random 1",),
    "random 2": ("random 2",),
    "random 3": ("random 3",),
    "index file, random 1": ("index file", "random 1"),
    "import in-degree": ("import in-degree",),
    "index file, import in-degree": ("index file", "import in-degree"),
    **{name: (name,) for name in rc.COLUMNS},
    "callees and callers": ("callees of the best chunks", "callers of the best chunks"),
    "callees, callers, callers' words": (
        "callees of the best chunks",
        "callers of the best chunks",
        "callers' words",
    ),
    "sub-words, path and names partial, random 1": (
        "sub-words, path and names, partial",
        "random 1",
    ),
}


def in_degree(c: imf.Corpus) -> Floats:
    """Per file: log(1 + the other files whose import lines hold its stem (an index file: its
    folder's name) as terms)."""
    snap = c.snap
    keys: list[tuple[str, ...]] = []
    for p, index in zip(snap.paths, c.index_file, strict=True):
        path = PurePosixPath(p)
        name = path.parent.name if index else path.stem
        keys.append(tuple(terms(name)))
    holders: Counter[tuple[str, ...]] = Counter()
    for f, imports in enumerate(c.file_imports):
        if not imports:
            continue
        for key in set(keys):
            if key and all(t in imports for t in key) and keys[f] != key:
                holders[key] += 1
    return np.log1p([holders[k] if k else 0 for k in keys])


def _columns() -> list[wf.Column]:
    rngs = [np.random.default_rng(seed) for seed in (1, 2, 3)]
    degree: dict[int, Floats] = {}

    def index_file(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return c.index_file[cand]

    def rand(i: int) -> wf.Column:
        def column(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
            return rngs[i].random(len(cand))

        return column  # type: ignore[return-value]

    def degree_column(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        if id(c) not in degree:
            degree.clear()
            degree[id(c)] = in_degree(c)
        return degree[id(c)][cand]

    return [index_file, rand(0), rand(1), rand(2), degree_column, *rc.COLUMNS.values()]  # type: ignore[list-item]


def collect(cache: Path, mirrors: Path) -> None:
    wf.VARIANTS = {"all": (_columns(), ())}
    wf._corpus = imf._corpus  # collect() indexes through it
    rows = wf.collect(["all"], cache, mirrors)["all"]
    np.savez_compressed(
        ROWS,
        x=np.vstack(rows.x),
        y=np.concatenate(rows.y),
        query=np.concatenate(rows.query),
        corpus=np.concatenate(rows.corpus),
        commits=np.concatenate(rows.commits),
    )


def _design(data: dict[str, np.ndarray], extra: tuple[str, ...]) -> np.ndarray:
    width = len(FEATURES) + len(EXTRA)
    keep = list(range(len(FEATURES))) + [len(FEATURES) + EXTRA.index(e) for e in extra]
    cols = [b * width + j for b in range(1 + len(QUERY_KINDS)) for j in keep]
    return data["x"][:, cols]


def _rr_with(x: np.ndarray, data: dict[str, np.ndarray], c: int, w: np.ndarray) -> np.ndarray:
    """The reciprocal ranks (at 10) of corpus `c`'s commit queries (no history) under `w`."""
    held = (data["corpus"] == c) & data["commits"]
    scores = x[held] @ w
    qs, yh = data["query"][held], data["y"][held]
    ids = np.unique(qs)
    rr = np.zeros(len(ids))
    for i, q in enumerate(ids):
        rows = qs == q
        order = np.argsort(-scores[rows], kind="stable")[:10]
        hit = np.flatnonzero(yh[rows][order] > 0)
        rr[i] = 1.0 / (hit[0] + 1) if len(hit) else 0.0
    return rr


def _held_rr(x: np.ndarray, data: dict[str, np.ndarray], c: int, l2: float) -> np.ndarray:
    """The reciprocal ranks of corpus `c`'s commit queries, weights fitted without it."""
    corpus = data["corpus"]
    w = fit(x[corpus != c], data["y"][corpus != c], data["query"][corpus != c], l2)
    return _rr_with(x, data, c, w)


def _nested_l2s(x: np.ndarray, data: dict[str, np.ndarray], n: int) -> list[float]:
    """Per held-out corpus, the L2 of L2_GRID with the best LORO over the other corpora alone;
    each fit without two corpora serves both (fifteen pairs a setting, not thirty)."""
    corpus = data["corpus"]
    inner: dict[tuple[int, int, float], float] = {}  # (held, scored, l2) -> scored's MRR
    for a in range(n):
        for b in range(a + 1, n):
            keep = (corpus != a) & (corpus != b)
            for l2 in L2_GRID:
                w = fit(x[keep], data["y"][keep], data["query"][keep], l2)
                for h, o in ((a, b), (b, a)):
                    inner[(h, o, l2)] = float(_rr_with(x, data, o, w).mean())
    return [
        max(L2_GRID, key=lambda l2: np.mean([inner[(c, o, l2)] for o in range(n) if o != c]))
        for c in range(n)
    ]


def report(nested: bool, variants: list[str]) -> None:
    data = dict(np.load(ROWS))
    if data["x"].shape[1] != (1 + len(QUERY_KINDS)) * (len(FEATURES) + len(EXTRA)):
        raise SystemExit(f"{ROWS} holds other columns than EXTRA: run `collect` (--rows) again")
    names = [str(e["name"]) for e in manifest_corpora()]
    n = len(names)
    base_rr: list[np.ndarray] = []
    rng = np.random.default_rng(0)
    print("| variant | " + " | ".join(names) + " | mean | vs base, 95% bootstrap | L2 |")
    print("|---" * (n + 4) + "|")
    for v in variants:
        x = _design(data, VARIANTS[v])
        chosen = _nested_l2s(x, data, n) if nested else [L2] * n
        rrs = [_held_rr(x, data, c, l2) for c, l2 in enumerate(chosen)]
        np.savez(RR.with_name(f"{RR.stem}-{'nested' if nested else 'loro'}-{v}.npz"), *rrs)
        if v == "base":
            base_rr = rrs
        means = [float(r.mean()) for r in rrs]
        interval = gain_over_base(rrs, base_rr, rng) if base_rr and v != "base" else ""
        print(
            f"| {v} | "
            + " | ".join(f"{m:.3f}" for m in means)
            + f" | {np.mean(means):.4f} | {interval} | {' '.join(f'{g:g}' for g in chosen)} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    global ROWS, RR
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("step", choices=("collect", "report", "nested"))
    parser.add_argument("variants", nargs="*", choices=[[], *VARIANTS], default=[])
    parser.add_argument("--cache", type=Path, default=CORPUS_CACHE)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--alone", action="store_true", help="without the base row")
    parser.add_argument("--rows", type=Path, default=ROWS, help="where `collect` stores the rows")
    args = parser.parse_args(argv)
    ROWS, RR = args.rows, args.rows.with_name(f"{args.rows.stem}-rr.npz")
    if args.step == "collect":
        collect(args.cache, args.mirrors)
        return 0
    variants = args.variants or list(VARIANTS)
    if "base" not in variants and not args.alone:
        variants = ["base", *variants]
    report(args.step == "nested", variants)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
