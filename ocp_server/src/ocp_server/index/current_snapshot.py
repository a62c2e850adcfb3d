"""A process's snapshot of the index (`lexical.Snapshot`), brought up to date when the
database's generation moves on: the few files any process's index writes changed since, as
recorded in the database (`change_log`), applied to it (`snapshot_delta`), anything else read
whole. Its first load takes the snapshot saved beside the database when it is of this
database (`saved_snapshot`), and a server saves the one it holds there again in the
background: at once after reading the rows whole, at most every `SAVE_EVERY` seconds after
updates in place (a restart brings a saved one a few updates old up to date as cheaply)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from pathlib import Path

from ocp_server.daemon_thread import in_daemon_thread
from ocp_server.index import change_log
from ocp_server.index.chunk_columns import read_connection
from ocp_server.index.lexical import Snapshot
from ocp_server.index.saved_snapshot import (
    SavedFile,
    SnapshotKey,
    remove_over,
    remove_saved,
    saved_file,
    saved_path,
    snapshot_key,
    write_saved,
)
from ocp_server.index.snapshot_delta import Loaded, load_snapshot_since

__all__ = ["CurrentSnapshot", "SAVE_EVERY"]

logger = logging.getLogger(__name__)

#: Seconds between two saves of a snapshot updated in place (each save writes it whole).
SAVE_EVERY = 300.0


class CurrentSnapshot:
    def __init__(self, db_path: Path, *, saved_bytes: int = 0, save: bool = False) -> None:
        """`saved_bytes`: the largest snapshot saved beside the database (0: none is read or
        written); `save`: this process writes it (a server; a CLI command only reads it),
        and with `saved_bytes` 0 deletes one saved before (turned off)."""
        self.db_path = db_path
        self._snapshot: Snapshot | None = None
        self._lineage = ""  # the database's the snapshot was read from (`change_log.lineage`)
        self._lock = asyncio.Lock()
        #: how it was brought up to date (`Loaded.how`): "full", "delta", "saved", "saved+delta"
        self.loads: Counter[str] = Counter()
        self._saved_bytes = saved_bytes
        self._save = save and saved_bytes > 0
        self._remove = save and saved_bytes == 0
        self._key: SnapshotKey | None = None  # of the database the snapshot was read from
        self._saved_generation = ""  # the generation saved last (or found saved)
        self._saved_at = time.monotonic()  # when; a first save after updates waits SAVE_EVERY
        self._saver: asyncio.Task[None] | None = None
        self._waiting = False  # the saver sleeps (not writing yet)
        self._stop = threading.Event()  # a write in progress gives up
        self._writing: asyncio.Future[bool] | None = None  # the last write

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
                first = current is None and not self.loads
                self._snapshot = current = None
                # Handed over in a box, not as the thread's result: the worker thread keeps its
                # last work item (and so its future's result) until the OS runs it again, on a
                # loaded machine after the next reload began.
                box: list[Loaded] = []
                lineage, saved = self._lineage, self._saved_bytes if first else 0
                await asyncio.to_thread(
                    lambda: box.append(
                        load_snapshot_since(self.db_path, held, lineage, saved=saved)
                    )
                )
                current, how, self._key = box.pop()
                self._lineage = self._key.lineage
                self._snapshot = current
                self.loads[how] += 1
                self._loaded(current, how, first)
            return current

    async def saved_file(self) -> SavedFile | None:
        """The snapshot saved beside the database, against the database as it is now (for
        `ocp-server status`); None when none is saved."""
        if not saved_path(self.db_path).exists():
            return None
        return await asyncio.to_thread(self._saved_file)

    def _saved_file(self) -> SavedFile | None:
        conn = read_connection(self.db_path)
        try:
            conn.execute("BEGIN")  # the key and the generation of one state
            key, generation = snapshot_key(conn), change_log.current_generation(conn)
        finally:
            conn.close()
        return saved_file(self.db_path, key, generation, self._saved_bytes)

    def _loaded(self, snapshot: Snapshot, how: str, first: bool) -> None:
        if self._saved_bytes == 0:
            if first and self._remove:  # turned off: none is left behind
                remove_saved(self.db_path)
            return
        if first and self._save:  # a file a larger OCP_SNAPSHOT_MB let be written
            remove_over(self.db_path, self._saved_bytes)
        if how == "saved":
            self._saved_generation = snapshot.generation
        elif self._save:
            self._schedule(at_once=how == "full")

    def _schedule(self, *, at_once: bool) -> None:
        """Save the snapshot held: now, or once `SAVE_EVERY` passed since the last save."""
        saver = self._saver
        if saver is not None and not saver.done():
            if not (at_once and self._waiting):
                return  # it saves the snapshot held when it writes
            saver.cancel()
        delay = 0.0 if at_once else max(0.0, self._saved_at + SAVE_EVERY - time.monotonic())
        self._saver = asyncio.create_task(self._save_after(delay), name="snapshot save")

    async def _save_after(self, delay: float) -> None:
        self._waiting = True
        try:
            await asyncio.sleep(delay)
        finally:
            self._waiting = False
        snapshot, key = self._snapshot, self._key
        if snapshot is None or key is None or snapshot.generation == self._saved_generation:
            return
        self._writing = in_daemon_thread(
            lambda: write_saved(self.db_path, snapshot, key, self._saved_bytes, self._stop),
            "ocp-snapshot-save",
        )
        try:
            await asyncio.shield(self._writing)
        except Exception:  # noqa: BLE001 - a save failing costs the next start a read of the rows
            logger.warning(
                "saving the index's snapshot beside %s failed", self.db_path, exc_info=True
            )
        # (not tried again for this generation, written or not)
        self._saved_generation, self._saved_at = snapshot.generation, time.monotonic()
        current = self._snapshot
        if current is not None and current.generation != self._saved_generation:
            self._saver = None
            self._schedule(at_once=False)

    async def saved(self) -> None:
        """Until the save under way (if any) has ended."""
        while (saver := self._saver) is not None and not saver.done():
            await asyncio.gather(saver, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop saving: a save waiting is dropped, one writing gives up (its file removed)."""
        saver, self._saver = self._saver, None
        if saver is None:
            return
        self._stop.set()
        saver.cancel()
        # the write's thread ends at its next member: its file is gone when this returns
        await asyncio.gather(saver, *filter(None, [self._writing]), return_exceptions=True)
