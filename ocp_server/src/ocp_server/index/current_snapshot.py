"""A process's snapshot of the index (`lexical.Snapshot`), brought up to date when the
database's generation moves on: the few files any process's index writes changed since, as
recorded in the database (`change_log`), applied to it (`snapshot_delta`), anything else read
whole."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from ocp_server.index.lexical import Snapshot
from ocp_server.index.snapshot_delta import Loaded, load_snapshot_since

__all__ = ["CurrentSnapshot"]


class CurrentSnapshot:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._snapshot: Snapshot | None = None
        self._lineage = ""  # the database's the snapshot was read from (`change_log.lineage`)
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
                # The old snapshot goes to the load, which lets it go before reading whole
                # (every search now asks for the new generation and waits here, so keeping it
                # would only add a whole snapshot to the load's peak; searches still running
                # hold their own), or table by table as it applies the changes.
                held = [current] if current is not None else []
                self._snapshot = current = None
                # Handed over in a box, not as the thread's result: the worker thread keeps its
                # last work item (and so its future's result) until the OS runs it again, on a
                # loaded machine after the next reload began.
                box: list[Loaded] = []
                lineage = self._lineage
                await asyncio.to_thread(
                    lambda: box.append(load_snapshot_since(self.db_path, held, lineage))
                )
                current, applied, self._lineage = box.pop()
                self._snapshot = current
                self.loads["delta" if applied else "full"] += 1
            return current
