"""The recent commits as a snapshot holds them (`lexical.Snapshot.history`): their message terms
as postings, and which of the indexed files each changed.

The files a commit changed are kept by path as well as by the snapshot's file numbers, so that
a snapshot updated for a few files (`snapshot_delta`) numbers them again without reading the
commits back: a file deleted and then restored is linked to its commits again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Ints
from ocp_server.index.lexicon import TERM_RECORD
from ocp_server.index.postings import Postings

__all__ = ["History", "build_history", "packed_rows", "relative"]


def relative(
    lengths: npt.NDArray[np.floating] | npt.NDArray[np.integer],
) -> npt.NDArray[np.float32]:
    """Lengths over their mean, as BM25 normalises them."""
    mean = float(lengths.mean()) if len(lengths) else 1.0
    return (lengths / max(mean, 1e-9)).astype(np.float32)


def packed_rows(blobs: list[bytes], dtype: np.dtype | str) -> tuple[np.ndarray, Ints]:
    """Concatenate per-row packed arrays; also return how many records each row had."""
    itemsize = np.dtype(dtype).itemsize
    lengths = np.fromiter((len(b) // itemsize for b in blobs), dtype=np.int64, count=len(blobs))
    return np.frombuffer(b"".join(blobs), dtype=dtype), lengths


@dataclass(frozen=True, slots=True)
class History:
    """Recent commits (newest first): their message terms and the indexed files they changed."""

    body: Postings
    length: npt.NDArray[np.float32]  # in terms, over the mean
    time: Ints
    file_starts: Ints  # commit i changed files[file_starts[i]:file_starts[i + 1]]
    files: npt.NDArray[np.int32]
    #: every path the commits changed, indexed or not, and per (commit, path) link its commit
    #: and its path's place in `paths`, for `linked`
    paths: tuple[str, ...]
    link_commit: Ints
    link_path: Ints

    @property
    def n_commits(self) -> int:
        return len(self.time)

    def linked(self, file_index: dict[str, int]) -> History:
        """The same commits, their files numbered by `file_index` (path -> file)."""
        starts, files = _files_of(self, file_index)
        return History(
            self.body,
            self.length,
            self.time,
            starts,
            files,
            self.paths,
            self.link_commit,
            self.link_path,
        )


def _files_of(history: History, file_index: dict[str, int]) -> tuple[Ints, npt.NDArray[np.int32]]:
    """`file_starts` and `files`: each commit's indexed files, ascending."""
    get = file_index.get
    file_of = np.fromiter((get(p, -1) for p in history.paths), np.int64, len(history.paths))
    file = file_of[history.link_path]
    indexed = file >= 0
    pair = history.link_commit[indexed] << 32 | file[indexed]
    pair.sort()
    return (
        np.searchsorted(pair >> 32, np.arange(history.n_commits + 1)).astype(np.int64),
        (pair & 0xFFFFFFFF).astype(np.int32),
    )


def build_history(
    commits: Sequence[tuple[str, int, bytes, int]],
    changed: Sequence[tuple[str, str]],
    file_index: dict[str, int],
) -> History:
    """From (hash, time, terms, length) newest first and (hash, path) rows."""
    at = {c[0]: i for i, c in enumerate(commits)}
    links = [(at[h], p) for h, p in changed if h in at]
    place: dict[str, int] = {}
    link_path = np.fromiter(
        (place.setdefault(p, len(place)) for _, p in links), dtype=np.int64, count=len(links)
    )
    records, per_commit = packed_rows([c[2] for c in commits], TERM_RECORD)
    n = np.arange(len(commits), dtype=np.int32)
    unlinked = History(
        body=Postings.build(
            records["term"], np.repeat(n, per_commit), records["count"].astype(np.float32)
        ),
        length=relative(np.fromiter((c[3] for c in commits), dtype=np.float32, count=len(commits))),
        time=np.fromiter((c[1] for c in commits), dtype=np.int64, count=len(commits)),
        file_starts=np.zeros(len(commits) + 1, dtype=np.int64),
        files=np.zeros(0, dtype=np.int32),
        paths=tuple(place),
        link_commit=np.fromiter((c for c, _ in links), dtype=np.int64, count=len(links)),
        link_path=link_path,
    )
    return unlinked.linked(file_index)
