"""Postings tables against a plain-Python reading of the same records: keys ascending, docs
ascending within a key, a repeated (key, doc) summed (counts capped) or its masks ORed, and the
roll-up to owners. The fields are read back from packed 64-bit records, so keys and docs at the
top of their ranges are included."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from ocp_server.index.postings import MAX_DOCS, Postings

_COUNT_MAX = 1023


def _table(p: Postings) -> dict[int, list[tuple[int, float]]]:
    return {
        int(k): list(
            zip(
                p.docs[p.starts[i] : p.starts[i + 1]].tolist(),
                p.counts[p.starts[i] : p.starts[i + 1]].tolist(),
                strict=True,
            )
        )
        for i, k in enumerate(p.keys.tolist())
    }


def _records(seed: int, n: int, docs: int) -> tuple[list[int], list[int], list[int]]:
    rng = random.Random(seed)
    top = [0, 1, 2**31, 2**32 - 1]  # a key's every bit, the high one included
    keys = [rng.choice(top) if rng.random() < 0.2 else rng.randrange(50) for _ in range(n)]
    doc = [rng.choice([0, docs - 1]) if rng.random() < 0.2 else rng.randrange(docs) for _ in keys]
    counts = [rng.choice([1, 7, 900, 5000]) for _ in keys]  # some past the cap
    return keys, doc, counts


def _expected(
    keys: list[int], docs: list[int], counts: list[int] | None
) -> dict[int, list[tuple[int, float]]]:
    summed: dict[tuple[int, int], float] = defaultdict(float)
    for i, (k, d) in enumerate(zip(keys, docs, strict=True)):
        summed[k, d] += min(counts[i], _COUNT_MAX) if counts is not None else 1
    table: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (k, d), c in sorted(summed.items()):
        table[k].append((d, c))
    return dict(table)


def test_build_sorts_sums_and_caps_records_with_keys_and_docs_at_their_limits() -> None:
    for seed, docs in ((1, 30), (2, MAX_DOCS)):
        keys, doc, counts = _records(seed, 3000, docs)
        k = np.array(keys, dtype=np.uint32)
        d = np.array(doc, dtype=np.int32)
        c = np.array(counts, dtype=np.float32)
        assert _table(Postings.build(k, d, c)) == _expected(keys, doc, counts)
        assert _table(Postings.build(k, d)) == _expected(keys, doc, None)
        assert Postings.build(k, d).docs.dtype == np.int32
        assert Postings.build(k, d).counts.dtype == np.float32


def test_build_with_masks_keeps_each_records_mask_and_ors_repeats() -> None:
    keys, doc, counts = _records(3, 2000, 40)
    order = sorted(range(len(doc)), key=doc.__getitem__)  # docs must not decrease
    keys, doc, counts = ([xs[i] for i in order] for xs in (keys, doc, counts))
    rng = random.Random(4)
    masks = [rng.getrandbits(64) for _ in keys]
    postings, merged = Postings.build_with_masks(
        np.array(keys, dtype=np.uint32),
        np.array(doc, dtype=np.int32),
        np.array(counts, dtype=np.float32),
        np.array(masks, dtype=np.uint64),
    )
    ored: dict[tuple[int, int], int] = defaultdict(int)
    for k, d, m in zip(keys, doc, masks, strict=True):
        ored[k, d] |= m
    # the sum of capped counts: each record is capped, then repeats add up
    assert _table(postings) == _expected(keys, doc, counts)
    assert merged.tolist() == [m for _, m in sorted(ored.items())]


def test_rolled_up_sums_a_keys_documents_per_owner() -> None:
    keys, doc, counts = _records(5, 3000, 60)
    chunks = Postings.build(
        np.array(keys, dtype=np.uint32), np.array(doc, dtype=np.int32), np.array(counts, np.float32)
    )
    owner = np.array([d // 7 for d in range(60)], dtype=np.int32)
    by_owner: dict[tuple[int, int], float] = defaultdict(float)
    for k, rows in _table(chunks).items():
        for d, c in rows:
            by_owner[k, int(owner[d])] += c
    want: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (k, o), c in sorted(by_owner.items()):
        want[k].append((o, c))
    rolled = chunks.rolled_up(owner)
    assert rolled.keys is chunks.keys
    assert _table(rolled) == dict(want)
