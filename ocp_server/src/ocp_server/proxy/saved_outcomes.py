"""Outcomes another process saved on the proxy's requests, lifting the proxy's floors.

`ocp_result_save` runs in the MCP server, a process of its own on the same database: "that
answer was wrong" on a proxied request answered locally lifts that conversation to the mid
tier in the saving process's router (outcomes.learn), which routes none of the proxy's
requests. The proxy reads the outcomes saved since it last looked, and lifts its own floors
as `learn` would (outcomes.lifted_session), before it routes a request.

Looking costs one `PRAGMA data_version` per request on a connection of its own: SQLite
changes that number only when another connection has committed, so the outcomes are read
only after a write elsewhere (the proxy's own trace writes, on its store's connection, are
one), by their rowid: a range of the primary key past the last outcome seen, usually empty.
Calibration needs none of this: CalibrationFile re-reads its file when it changes.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from ocp_router.sticky import TierFloors
from ocp_server.outcomes import lift_floors
from ocp_server.trace_store import OUTCOMES_SINCE

__all__ = ["SavedOutcomes"]

logger = logging.getLogger(__name__)


class SavedOutcomes:
    """The outcomes saved on the database at `db_path` past note id `since` (the last one
    the rebuild of floors read when the proxy opened its workspace: outcomes.restore_floors),
    read when the database changed (`lift_floors`)."""

    def __init__(self, db_path: Path, *, since: int) -> None:
        # Autocommit (no read transaction held between looks); a writer's lock is never
        # waited on long: a look that finds the database busy is tried at the next request.
        self._db = sqlite3.connect(
            db_path, timeout=0.05, isolation_level=None, check_same_thread=False
        )
        # None: the first look reads whatever the version, since an outcome saved after the
        # rebuild and before this connection opened changed no version this one saw.
        self._version: int | None = None
        self._last = since

    @classmethod
    def opened(cls, db_path: Path, *, since: int) -> SavedOutcomes | None:
        """Looking at `db_path` past note id `since`; None, said in the log, when it cannot be
        read (the proxy serves on: outcomes saved elsewhere lift only the saving process's
        floors then)."""
        try:
            return cls(db_path, since=since)
        except sqlite3.Error as exc:
            logger.warning("outcomes saved by other processes will not be read: %s", exc)
            return None

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def lift_floors(self, floors: TierFloors) -> None:
        """Lift `floors` as each outcome saved since the last look lifts its conversation's."""
        try:
            version = self._data_version()
            if version == self._version:
                return
            rows = self._db.execute(OUTCOMES_SINCE, (self._last,)).fetchall()
        except sqlite3.Error as exc:  # busy, or gone: looked at again at the next request
            logger.debug("saved outcomes not read: %s", exc)
            return
        self._version = version
        self._last = lift_floors(floors, rows) or self._last

    def close(self) -> None:
        self._db.close()
