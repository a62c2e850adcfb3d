"""A process's snapshot of the index (`lexical.Snapshot`), brought up to date when the
database's generation moves on: this process's own few writes applied to it
(`snapshot_delta`), anything else read whole."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from ocp_server.index.lexical import Snapshot
from ocp_server.index.snapshot_delta import ChangeLog, applicable, load_snapshot_since

__all__ = ["CurrentSnapshot"]


class CurrentSnapshot:
    def __init__(self, db_path: Path, changes: ChangeLog) -> None:
        self.db_path = db_path
        self.changes = changes  # this process's indexer's writes
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        #: how it was brought up to date: "full" (read whole) or "delta" (updated in place)
        self.loads: Counter[str] = Counter()

    async def at(self, generation: str) -> Snapshot:
        current = self._snapshot
        if current is not None and current.generation == generation:
            return current
        async with self._lock:
            current = self._snapshot
            if current is None or current.generation != generation:
                changes = dict(self.changes.by_generation)
                # Read whole, the old postings go before the new ones are read: every search
                # now asks for the new generation (and waits here), so keeping them would only
                # add a whole snapshot to the load's peak (searches still running hold their
                # own). Updated, they are let go table by table (`load_snapshot_since`).
                held = [current] if current and applicable(current, generation, changes) else []
                self._snapshot = current = None
                # Handed over in a box, not as the thread's result: the worker thread keeps its
                # last work item (and so its future's result) until the OS runs it again, on a
                # loaded machine after the next reload began.
                box: list[tuple[Snapshot, bool]] = []
                await asyncio.to_thread(
                    lambda: box.append(load_snapshot_since(self.db_path, held, changes))
                )
                current, applied = box.pop()
                self._snapshot = current
                self.loads["delta" if applied else "full"] += 1
            return current
