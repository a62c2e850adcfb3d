"""Which hits are only part of one line: the chunker cuts a line longer than a chunk's
characters into consecutive pieces (chunking/cutter.py), each stored as a chunk citing that
one line, so a hit on a piece must say it is not the whole line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np

from ocp_server.index.lexical import ChunkRow, Snapshot

__all__ = ["pieces_of_lines"]


async def pieces_of_lines(
    snap: Snapshot,
    hits: list[tuple[int, ChunkRow, int]],
    rows_of: Callable[[list[int]], Awaitable[dict[int, ChunkRow]]],
) -> set[int]:
    """The snapshot indexes of the `hits` (chunk, its row, its file) whose text is a piece of
    one longer line: another chunk of the file cites just that line with other text. Two
    chunks citing one line otherwise only repeat it whole (overlapping windows), so only the
    single-line hits with such a sibling cost a read, of those siblings' rows."""
    siblings: dict[int, list[int]] = {}
    for chunk, row, file in hits:
        line = row.start_line
        if row.end_line != line:
            continue
        lo, hi = int(snap.file_chunks[file]), int(snap.file_chunks[file + 1])
        same = (snap.chunk_start[lo:hi] == line) & (snap.chunk_end[lo:hi] == line)
        found = [int(c) + lo for c in np.flatnonzero(same) if int(c) + lo != chunk]
        if found:
            siblings[chunk] = found
    if not siblings:
        return set()
    rows = await rows_of(sorted({c for cs in siblings.values() for c in cs}))
    texts = {chunk: row.text for chunk, row, _ in hits}
    return {
        chunk
        for chunk, others in siblings.items()
        if any(c in rows and rows[c].text != texts[chunk] for c in others)
    }
