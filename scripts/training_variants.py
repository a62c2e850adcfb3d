"""Ways of fitting the ranker's weights other than `train_ranker.fit`, on the same stored rows
(tests/data/ranker_features.npz), each held out by repository as `train_ranker.py` scores it.
(Measured: none above the base; not shipped. docs/search-rounds.md, 2026-12-06, night.)

    uv run python scripts/training_variants.py                 # every variant, LORO table
    uv run python scripts/training_variants.py base "history kind"

None changes a feature, so none costs query time. The table is commits MRR@10 without history
per held-out corpus, as `train_ranker.py train` prints it:

- history kind: a third query kind, "the workspace has history" (the rows of regime 1), so
  that the weights for a snapshot (as run.py searches) are no longer shared with the rows
  where `history_similar` carries much of the evidence;
- no-history rows only: the regime-1 rows left out of training;
- LambdaRank: pairwise logistic loss over (relevant, other) pairs of a query, each pair
  weighted by how much swapping the two changes the reciprocal rank (|1/r_i - 1/r_j|), over
  every relevant file ("RR discount") or only the best-ranked relevant one (MRR's own); from
  zero, or 100 epochs at learning rate 0.01 from the softmax fit;
- non-negative evidence: every weight of a feature that is evidence for the request (the BM25
  fields, path, names, coverage, phrases, windows, history) held at or above zero during the
  fit (projected Adam), in the base vector, or in the base and each kind's sum; the class
  indicators, sizes and the changelog flag stay free. The shipped fit gives body_bm25 -0.83
  and, for requests that write code, path -0.91 and file_bm25 -0.49: negative weights on
  evidence that partly cancel correlated columns, which may not carry to another repository;
- size interactions (columns made from the stored ones, each kind's copy too): the evidence
  that is a maximum over a file's pieces (best chunk, block, subject window, code chunk), whose
  maximum grows with the number of pieces (`flags/defs.rs`, `walk.rs` above the changed file
  in a third of ripgrep's misses), times log_lines; every evidence column so; log_lines
  squared.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from train_ranker import (
    EPOCHS,
    EVEN,
    FEATURES_FILE,
    L2,
    LEARNING_RATE,
    SETS,
    Data,
    fit,
    mrr_at_10,
)

from ocp_server.index.arrays import Floats
from ocp_server.index.features import FEATURES
from ocp_server.index.ranking import QUERY_KINDS

Fitter = Callable[[Floats, Floats, npt.NDArray[np.int32]], Floats]
N = len(FEATURES)
#: Not evidence for the request: what the file is, its size, the changelog flag.
_FREE = frozenset(
    "code test aux prose config log_lines log_definitions test_asked changelog".split()
)
_EVIDENCE = np.array([f not in _FREE for f in FEATURES])


def _padded(
    x: Floats, y: Floats, query: npt.NDArray[np.int32]
) -> tuple[Floats, Floats, npt.NDArray[np.bool_]]:
    """Queries with a relevant row as [query, row, feature], rows padded (mask False)."""
    order = np.argsort(query, kind="stable")
    x, y, query = x[order], y[order], query[order]
    _, starts, sizes = np.unique(query, return_index=True, return_counts=True)
    keep = np.add.reduceat(y, starts) > 0
    starts, sizes = starts[keep], sizes[keep]
    xs = np.zeros((len(starts), sizes.max(), x.shape[1]))
    ys = np.zeros(xs.shape[:2])
    mask = np.zeros(xs.shape[:2], dtype=bool)
    for q, (s, n) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        xs[q, :n], ys[q, :n], mask[q, :n] = x[s : s + n], y[s : s + n], True
    return xs, ys, mask


def fit_lambda(
    x: Floats,
    y: Floats,
    query: npt.NDArray[np.int32],
    *,
    best_only: bool,
    warm: bool,
) -> Floats:
    """LambdaRank with a linear model: pairs weighted by |1/r_i - 1/r_j|; `best_only`, only
    the best-ranked relevant file's pairs (MRR); `warm`, 100 epochs from `fit`'s weights."""
    xs, ys, mask = _padded(x, y, query)
    n_q, rows, n_f = xs.shape
    w = fit(x, y, query) if warm else np.zeros(n_f)
    epochs, rate = (100, 0.01) if warm else (EPOCHS, LEARNING_RATE)
    m, v = np.zeros(n_f), np.zeros(n_f)
    pairs = (ys[:, :, None] > 0) & (ys[:, None, :] == 0) & mask[:, :, None] & mask[:, None, :]
    for t in range(1, epochs + 1):
        s = np.where(mask, np.einsum("qmf,f->qm", xs, w), -1e9)
        rank = np.empty((n_q, rows), dtype=np.int64)
        np.put_along_axis(
            rank, np.argsort(-s, axis=1, kind="stable"), np.arange(1, rows + 1)[None, :], axis=1
        )
        kept = pairs
        if best_only:
            rel_rank = np.where(ys > 0, rank, rows + 1)
            kept = pairs & (rel_rank == rel_rank.min(axis=1, keepdims=True))[:, :, None]
        inv = 1.0 / rank
        delta = np.abs(inv[:, :, None] - inv[:, None, :]) * kept
        lam = -delta / (1.0 + np.exp(np.clip(s[:, :, None] - s[:, None, :], -50, 50)))
        per_row = (lam.sum(axis=2) - lam.sum(axis=1)) / np.maximum(kept.sum(axis=(1, 2)), 1)[
            :, None
        ]
        grad = np.einsum("qm,qmf->f", per_row, xs) / n_q + L2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def fit_non_negative(
    x: Floats, y: Floats, query: npt.NDArray[np.int32], *, kinds_too: bool
) -> Floats:
    """`train_ranker.fit` with the evidence features' weights projected to >= 0 after each
    step: the base vector's, and with `kinds_too` each kind's sum with it."""
    _, starts, sizes = np.unique(query, return_index=True, return_counts=True)
    group = np.repeat(np.arange(len(starts)), sizes)
    useful = np.add.reduceat(y, starts)[group] > 0
    x, y, group = x[useful], y[useful], group[useful]
    _, starts = np.unique(group, return_index=True)
    group = np.searchsorted(starts, np.arange(len(group)), side="right") - 1
    target = y / np.add.reduceat(y, starts)[group]
    w, m, v = np.zeros(x.shape[1]), np.zeros(x.shape[1]), np.zeros(x.shape[1])
    for t in range(1, EPOCHS + 1):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[group])
        p = e / np.add.reduceat(e, starts)[group]
        mass = p * y
        own = mass / np.maximum(np.add.reduceat(mass, starts)[group], 1e-300)
        grad = x.T @ (p - (EVEN * target + (1 - EVEN) * own)) / len(starts) + L2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= LEARNING_RATE * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        base = w[:N]
        base[_EVIDENCE] = np.maximum(base[_EVIDENCE], 0.0)
        if kinds_too:
            for j in range(len(QUERY_KINDS)):
                kind = w[N * (j + 1) : N * (j + 2)]
                kind[_EVIDENCE] = np.maximum(kind[_EVIDENCE], -base[_EVIDENCE])
    return w


def held_out(data: Data, x: Floats, fitter: Fitter, train: npt.NDArray[np.bool_]) -> list[float]:
    """Commits MRR@10 without history per corpus, fitted on the other corpora's `train` rows."""
    out = []
    for c in range(len(data.corpora)):
        rows = (data.corpus != c) & train
        w = fitter(x[rows], data.y[rows], data.query[rows])
        held = (data.corpus == c) & (data.qset == SETS.index("commits")) & (data.regime == 0)
        out.append(mrr_at_10(x[held], data.y[held], data.query[held], w))
    return out


def _with_columns(data: Data, columns: list[Floats]) -> Floats:
    """The design with `columns` added, and their copies per query kind as `Data` builds it."""
    extra = np.column_stack(columns)
    kinds = np.load(FEATURES_FILE)["kinds"].astype(np.float64)
    return np.hstack([data.x, extra, *(extra * kinds[:, [j]] for j in range(kinds.shape[1]))])


def _size_columns(data: Data, names: tuple[str, ...]) -> list[Floats]:
    size = data.x[:, FEATURES.index("log_lines")]
    return [data.x[:, FEATURES.index(f)] * size for f in names]


_MAXIMA = ("chunk_best", "block_best", "subject_window", "code_words_chunk")
_SUMS = (
    "file_bm25 file_bm25_flat path names coverage subject_bm25 body_bm25 code_words_bm25"
    " phrases chunk_coverage"
).split()


def _variants(data: Data) -> dict[str, tuple[Floats, Fitter, npt.NDArray[np.bool_]]]:
    every = np.ones(len(data.y), dtype=bool)
    history = (data.regime == 1).astype(np.float64)[:, None]
    return {
        "base": (data.x, fit, every),
        "history kind": (np.hstack([data.x, data.x[:, :N] * history]), fit, every),
        "no-history rows only": (data.x, fit, data.regime == 0),
        "LambdaRank, RR discount, from zero": (
            data.x,
            lambda x, y, q: fit_lambda(x, y, q, best_only=False, warm=False),
            every,
        ),
        "LambdaRank, RR discount, from the softmax fit": (
            data.x,
            lambda x, y, q: fit_lambda(x, y, q, best_only=False, warm=True),
            every,
        ),
        "LambdaRank, best relevant only, from the softmax fit": (
            data.x,
            lambda x, y, q: fit_lambda(x, y, q, best_only=True, warm=True),
            every,
        ),
        "non-negative evidence, base vector": (
            data.x,
            lambda x, y, q: fit_non_negative(x, y, q, kinds_too=False),
            every,
        ),
        "non-negative evidence, base and each kind": (
            data.x,
            lambda x, y, q: fit_non_negative(x, y, q, kinds_too=True),
            every,
        ),
        "maxima x log_lines": (_with_columns(data, _size_columns(data, _MAXIMA)), fit, every),
        "every evidence x log_lines": (
            _with_columns(data, _size_columns(data, (*_SUMS, *_MAXIMA))),
            fit,
            every,
        ),
        "log_lines squared": (
            _with_columns(data, [data.x[:, FEATURES.index("log_lines")] ** 2]),
            fit,
            every,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    data = Data()
    variants = _variants(data)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="*", choices=[[], *variants], default=[])
    args = parser.parse_args(argv)
    print("| variant | " + " | ".join(data.corpora) + " | mean |")
    print("|---" * (len(data.corpora) + 2) + "|")
    for name in args.variants or list(variants):
        x, fitter, train = variants[name]
        r = held_out(data, x, fitter, train)
        print(
            f"| {name} | " + " | ".join(f"{m:.3f}" for m in r) + f" | {np.mean(r):.4f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
