"""Postings: per key (a term, a pair, a name), the documents holding it, as sorted numpy arrays.

`lexical.Snapshot` holds one table per kind of evidence (chunk body terms, pairs, names, and
the same rolled up to files and blocks); a search copies a key's postings with one slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Ints

__all__ = ["MAX_DOCS", "Postings", "records_counts", "records_docs"]


# A posting packs into one 64-bit integer, (key << 32) | (doc << 10) | count, so that building
# the postings is one `np.sort` of integers (SIMD-sorted, several times faster than an argsort).
_DOC_BITS = 22
_COUNT_BITS = 10
MAX_DOCS = 1 << _DOC_BITS
_COUNT_MAX = (1 << _COUNT_BITS) - 1


def records_docs(records: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    """The documents of `Postings.records` (or of a copy of some of them)."""
    return records.view(np.int32)[0::2]


def records_counts(records: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """The counts of `Postings.records` (or of a copy of some of them)."""
    return records.view(np.float32)[1::2]


def _bits(
    packed: npt.NDArray[np.uint64], shift: int, dtype: type[np.generic], mask: int | None = None
) -> np.ndarray:
    """`(packed >> shift) & mask` as `dtype` (which holds the field), made in the result's own
    array: numpy casts through a small buffer, where `.astype` of the expression made a
    scratch array of 8 bytes a posting per operation (a large table's peak memory, and
    slower)."""
    out = np.empty(len(packed), dtype=dtype)
    if shift:
        np.right_shift(packed, np.uint64(shift), out=out, casting="unsafe")
        if mask is not None:
            out &= mask  # the cast kept the low bits: the field is still whole in them
    else:
        assert mask is not None
        np.bitwise_and(packed, np.uint64(mask), out=out, casting="unsafe")
    return out


@dataclass(frozen=True, slots=True)
class Postings:
    """Documents per key: `docs[starts[i]:starts[i+1]]` hold `keys[i]`, `counts` times each;
    within a key, docs ascend.

    A posting's document (int32) and count (float32) are stored side by side, 8 bytes a
    posting (`records`, read as two int32 or float32 words each): a search copies a term's
    postings with one slice, and all its terms' with one concatenation."""

    keys: npt.NDArray[np.uint32]
    starts: Ints
    records: npt.NDArray[np.int64]  # only ever copied: `docs` and `counts` read it

    @classmethod
    def of(
        cls,
        keys: npt.NDArray[np.uint32],
        starts: Ints,
        docs: npt.NDArray[np.int32],
        counts: npt.NDArray[np.float32],
    ) -> Postings:
        records = np.empty(len(docs), dtype=np.int64)
        words = records.view(np.int32)
        words[0::2] = docs
        words.view(np.float32)[1::2] = counts
        return cls(keys, starts, records)

    @property
    def docs(self) -> npt.NDArray[np.int32]:
        return records_docs(self.records)

    @property
    def counts(self) -> npt.NDArray[np.float32]:
        return records_counts(self.records)

    @classmethod
    def build(
        cls,
        keys: npt.NDArray[np.uint32],
        docs: npt.NDArray[np.int32],
        counts: npt.NDArray[np.float32] | None = None,
    ) -> Postings:
        """From (key, doc, count) records in any order; a repeated (key, doc) is summed."""
        if len(docs) and int(docs.max()) >= MAX_DOCS:
            raise ValueError(f"more than {MAX_DOCS} documents in one index")
        packed = keys.astype(np.uint64)
        packed <<= np.uint64(32)
        packed |= docs.astype(np.uint64) << np.uint64(_COUNT_BITS)
        if counts is None:
            packed |= np.uint64(1)
        else:
            packed |= np.minimum(counts, _COUNT_MAX).astype(np.uint64)
        del keys, docs, counts  # what a caller passed as a temporary goes now
        packed.sort()
        key = _bits(packed, 32, np.uint32)
        doc = _bits(packed, _COUNT_BITS, np.uint32, MAX_DOCS - 1).view(np.int32)
        count = _bits(packed, 0, np.float32, _COUNT_MAX)
        # freed before merging, as `_merged` frees what it is done with: a snapshot's peak
        # memory is its largest table's build (see `_bits`)
        del packed
        return cls._merged(key, doc, count)[0]

    @classmethod
    def build_with_masks(
        cls,
        keys: npt.NDArray[np.uint32],
        docs: npt.NDArray[np.int32],
        counts: npt.NDArray[np.float32],
        masks: npt.NDArray[np.uint64],
    ) -> tuple[Postings, npt.NDArray[np.uint64]]:
        """`build`, carrying a bit mask per record into the postings' order (a repeated
        (key, doc) ORs its masks). `docs` must not decrease, as a table read chunk by chunk:
        sorting (key, record number) then sorts by (key, doc), still one `np.sort`."""
        if len(keys) >= 1 << 32:  # a record's number takes the low 32 bits
            raise ValueError(f"more than {(1 << 32) - 1} postings in one table")
        packed = keys.astype(np.uint64)
        packed <<= np.uint64(32)
        packed |= np.arange(len(keys), dtype=np.uint64)
        packed.sort()
        record = _bits(packed, 0, np.intp, 0xFFFFFFFF)
        key = _bits(packed, 32, np.uint32)
        del packed
        count = np.minimum(counts[record], _COUNT_MAX).astype(np.float32)
        doc, mask = docs[record], masks[record]
        del keys, docs, counts, masks, record  # see `build`
        postings, merged = cls._merged(key, doc, count, mask)
        assert merged is not None
        return postings, merged

    @classmethod
    def _merged(
        cls,
        key: npt.NDArray[np.uint32],
        doc: npt.NDArray[np.int32],
        count: npt.NDArray[np.float32],
        masks: npt.NDArray[np.uint64] | None = None,
    ) -> tuple[Postings, npt.NDArray[np.uint64] | None]:
        """From records sorted by key, then doc: sum repeated (key, doc), index the keys;
        `masks` (one per record) ORed alike."""
        if not len(key):
            return cls.of(key, np.zeros(1, dtype=np.int64), doc, count), masks
        first = np.empty(len(key), dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        new_key = first.copy()
        first[1:] |= doc[1:] != doc[:-1]
        at = np.flatnonzero(first)
        del first
        if len(at) < len(key):
            # one at a time: each array's old records go before the next is gathered
            count = np.add.reduceat(count, at)
            key = key[at]
            doc = doc[at]
            new_key = new_key[at]
            if masks is not None:
                masks = np.bitwise_or.reduceat(masks, at)
        del at  # 8 bytes a record, as large as the postings themselves
        heads = np.flatnonzero(new_key)
        starts = np.append(heads, len(key)).astype(np.int64)
        return cls.of(key[heads], starts, doc, count), masks

    def rolled_up(self, owner: npt.NDArray[np.int32]) -> Postings:
        """The same postings one level up (chunks to files): `owner[doc]` must not decrease
        as doc grows, so sorted order survives. Every key keeps a document, so the result
        shares this table's `keys` (a query looks its terms up once for both)."""
        # passed on, not kept here: `_merged` drops them once it has merged them
        merged = Postings._merged(
            np.repeat(self.keys, np.diff(self.starts)), owner[self.docs], self.counts
        )[0]
        return Postings(self.keys, merged.starts, merged.records)

    def patched(
        self,
        doc_map: npt.NDArray[np.int32],
        added: Postings,
        masks: npt.NDArray[np.uint64] | None = None,
        added_masks: npt.NDArray[np.uint64] | None = None,
    ) -> tuple[Postings, npt.NDArray[np.uint64] | None]:
        """This table with its documents renumbered by `doc_map` (-1: dropped; it must keep
        their order) and `added`'s postings (documents in the new numbering, none of them
        kept here) merged in: what `build` of the new documents' records gives, in a few
        passes over the postings instead of a sort of them. `masks` (one per posting) go
        along, `added_masks` for the added postings."""
        new_doc = doc_map[self.docs]
        keep = new_doc >= 0
        kept = self.records[keep]
        kept.view(np.int32)[0::2] = new_doc[keep]
        kept_docs = records_docs(kept)
        del new_doc
        n_keys = len(self.keys)
        # few postings go (those of the files read again): counted by key from their places
        gone = np.flatnonzero(~keep)
        kept_per_key = np.diff(self.starts) - np.bincount(
            self.starts.searchsorted(gone, side="right") - 1, minlength=n_keys
        )
        kept_starts = np.zeros(n_keys + 1, dtype=np.int64)
        np.cumsum(kept_per_key, out=kept_starts[1:])
        # the keys of both: the added ones new here go in at their places
        old_at = self.keys.searchsorted(added.keys)
        known = self.keys.take(old_at, mode="clip") == added.keys if n_keys else old_at < 0
        keys = np.insert(self.keys, old_at[~known], added.keys[~known])
        counts = np.insert(kept_per_key, old_at[~known], 0)
        per_added = np.diff(added.starts)
        at = keys.searchsorted(added.keys)  # each added key's place among them
        counts[at] += per_added
        starts = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        # each added posting's place: its key's start, the kept ones of its key with a smaller
        # document before it (a binary search in the key's kept ones), the added before it
        which = np.repeat(np.arange(len(added.keys)), per_added)
        doc = added.docs
        lo = hi = np.zeros(len(doc), dtype=np.int64)
        if n_keys:
            k = np.minimum(old_at, n_keys - 1)
            lo = np.where(known, kept_starts[k], 0)[which]
            hi = np.where(known, kept_starts[k + 1], 0)[which]
        first = lo.copy()
        while (open_ := lo < hi).any():
            mid = (lo + hi) // 2
            below = open_ & (kept_docs[np.minimum(mid, len(kept_docs) - 1)] < doc)
            lo = np.where(below, mid + 1, lo)
            hi = np.where(open_ & ~below, mid, hi)
        dest = starts[at][which] + (lo - first) + (np.arange(len(doc)) - added.starts[which])
        is_kept = np.ones(int(starts[-1]), dtype=bool)
        is_kept[dest] = False
        records = np.empty(len(is_kept), dtype=np.int64)
        records[is_kept], records[dest] = kept, added.records
        merged_masks = None
        if masks is not None:
            assert added_masks is not None
            merged_masks = np.empty(len(is_kept), dtype=np.uint64)
            merged_masks[is_kept], merged_masks[dest] = masks[keep], added_masks
        held = counts > 0  # keys whose postings all went are dropped
        if not held.all():
            keys = keys[held]
            starts = np.append(starts[:-1][held], starts[-1])
        return Postings(keys, starts, records), merged_masks

    def locate(self, keys: list[int]) -> list[int]:
        """Per key: its index in `keys`, -1 when no document holds it."""
        n = len(self.keys)
        if not n or not keys:
            return [-1] * len(keys)
        wanted = np.asarray(keys, dtype=np.uint32)
        at = self.keys.searchsorted(wanted)
        # past the end: compared with the last key, which is smaller
        found: list[int] = np.where(self.keys.take(at, mode="clip") == wanted, at, -1).tolist()
        return found
