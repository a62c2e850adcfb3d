"""Reading a snapshot's chunk rows ahead of its searches, while the server is idle.

A query's first search reads its hits' rows from the database (the statement, the texts'
unpacking, the file's secrets looked for): 0.18-0.24 ms of CPU a query on the benchmark's
corpora, against 0.02 for rows its snapshot kept (`AnswerRows`). Neither the database's pages
nor the OS's are what is cold: a pass over every row on the search's own connection first
changed nothing (docs/search-rounds.md). So once a snapshot is read, the rows are read into
its kept answers in small batches, each only after the searches have been quiet a while, up
to the kept answers' own bounds and never past them: it adds nothing a long run of searches
would not keep anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ocp_server.index.lexical import Snapshot
from ocp_server.index.search import Reader, chunk_rows

__all__ = ["QUIET_SECONDS", "WARM_BATCH", "warm_answers"]

#: Rows a batch reads: about 0.4 ms of CPU at idle, the longest a search arriving during one
#: can wait for it.
WARM_BATCH = 32
#: A batch waits until no search has run for this long: an agent's searches come seconds
#: apart, a burst's back to back, and the warm-up keeps out of a burst.
QUIET_SECONDS = 0.5


async def warm_answers(
    read: Reader,
    snap: Snapshot,
    quiet_since: Callable[[], float | None],
    live: Callable[[], bool],
    *,
    batch: int = WARM_BATCH,
    quiet: float = QUIET_SECONDS,
) -> int:
    """Read `snap`'s chunk rows into its kept answers, in chunk order, a batch at a time, each
    once `quiet_since()` (the `time.monotonic()` the last search ended; None: one is running)
    is `quiet` seconds back; it stops once the kept answers are full (a batch made them drop
    a row, or they hold their most rows) or `live()` says the snapshot is no longer the one
    searched. Returns how many rows it read."""
    kept = snap.answers
    dropped = kept.dropped
    done = 0
    for start in range(0, snap.n_chunks, batch):
        while (since := quiet_since()) is None or (wait := since + quiet - time.monotonic()) > 0:
            await asyncio.sleep(quiet if since is None else wait)
        if not live():
            break
        chunks = list(range(start, min(snap.n_chunks, start + batch)))
        await chunk_rows(read, snap, chunks)
        done += len(chunks)
        if kept.dropped > dropped or len(kept) >= kept.max_rows:
            break
    return done
