"""A search's `path_glob` and `language` filters as masks over a snapshot's files, kept for
its next searches.

Building one matches every indexed path (a glob) or compares every file's language: the
whole file list per search, which grows with the repository while the rest of a search
follows the query's postings. An agent tends to repeat a filter over several searches, so a
snapshot keeps the masks it built, by filter value; the masks die with their snapshot (a
changed index is a new snapshot: its files, and so its masks, are built anew). Bounded in
count and in bytes; the least recently used go first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = ["FILTER_MASKS_BYTES", "FILTER_MASKS_MAX", "FilterMasks"]

Mask = npt.NDArray[np.bool_]

#: Masks kept per snapshot, at most: an agent's filters of a session are a handful.
FILTER_MASKS_MAX = 32
#: Their bytes, at most (one byte a file each): 4 masks of a million files.
FILTER_MASKS_BYTES = 4_000_000


class FilterMasks:
    """Per filter (`("language", name)` or `("path_glob", pattern)`): a mask over the
    snapshot's files, read-only (a search must not change what the next one reads)."""

    __slots__ = ("_bytes", "_masks", "max_bytes", "max_masks")

    def __init__(self, max_masks: int = FILTER_MASKS_MAX, max_bytes: int = FILTER_MASKS_BYTES):
        self.max_masks = max_masks
        self.max_bytes = max_bytes
        self._masks: dict[tuple[str, str], Mask] = {}
        self._bytes = 0

    def get(self, key: tuple[str, str], build: Callable[[], Mask]) -> Mask:
        """The mask of `key`, built by `build()` the first time (and again once dropped)."""
        mask = self._masks.pop(key, None)
        if mask is None:
            mask = build()
            mask.flags.writeable = False
            if mask.nbytes > self.max_bytes or self.max_masks < 1:
                return mask  # too large to keep: built again next time
            self._bytes += mask.nbytes
        self._masks[key] = mask  # the most recently used last
        while len(self._masks) > self.max_masks or self._bytes > self.max_bytes:
            oldest = next(iter(self._masks))
            self._bytes -= self._masks.pop(oldest).nbytes
        return mask

    def __len__(self) -> int:
        return len(self._masks)
