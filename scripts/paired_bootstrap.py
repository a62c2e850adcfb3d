"""A ranking variant's gain over the base in held-out MRR@10, with its 95% interval from a
paired bootstrap: the column `vs base, 95% bootstrap` of prior_checks.py's and
term_weights.py's tables."""

from __future__ import annotations

import numpy as np


def gain_over_base(
    rrs: list[np.ndarray], base_rr: list[np.ndarray], rng: np.random.Generator
) -> str:
    """`+gain [lo, hi]`: the mean over corpora of each corpus's mean reciprocal rank, less the
    base's, and the 2.5th and 97.5th percentiles of that mean difference with each corpus's
    queries resampled (2,000 times, paired: a query's variant and base ranks together)."""
    diffs = [r - b for r, b in zip(rrs, base_rr, strict=True)]
    # the mean over corpora of each corpus's mean difference, queries resampled per corpus
    boot = np.mean([d[rng.integers(0, len(d), (2000, len(d)))].mean(axis=1) for d in diffs], axis=0)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    gain = np.mean([float(r.mean()) for r in rrs]) - np.mean([b.mean() for b in base_rr])
    return f"{gain:+.4f} [{lo:+.4f}, {hi:+.4f}]"
