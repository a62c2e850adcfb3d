"""Floors other processes on the same database lifted, lifting this process's while both run.

Floors live in each process's router: the MCP server (`ocp_result_save`, `ocp_model_route`)
and the proxy are processes of their own on one database, and so are two proxies, or the MCP
servers of two agents on one workspace. What lifted a floor in one is stored: an outcome
saying a local answer was wrong (outcomes.lifted_session), and under OCP_STICKY=upward each
route (its tier, or a higher one that answered). Before it routes a request, each process
reads what was stored since it last looked and lifts its own floors as the storing process
did, as of when it was stored (outcomes.lift_floors, lift_routes); its own routes, read back
too, lift nothing new.

Looking costs one `PRAGMA data_version` per request on a connection of its own: SQLite
changes that number only when another connection has committed, so the rows are read only
after a write elsewhere (the process's own trace writes, on its store's connection, are
one), by their rowid: a range of the primary key past the last row seen (the last note of
any kind), usually one route and no outcome. Calibration needs none of this:
CalibrationFile re-reads its file when it changes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from pathlib import Path

from ocp_router import OCPRouter
from ocp_router.sticky import Sticky, TierFloors
from ocp_server.outcomes import FloorsRead, lift_floors, lift_routes, restore_floors
from ocp_server.trace_store import OUTCOMES_SINCE, ROUTES_SINCE
from ocp_server.workspaces import Workspace

__all__ = ["FloorsElsewhere", "watch_floors"]

logger = logging.getLogger(__name__)

_LAST_NOTE = "SELECT max(id) FROM notes"


class FloorsElsewhere:
    """What lifts floors stored on the database at `db_path` past `since` (how far the
    rebuild of floors read when this process opened its workspace: outcomes.restore_floors),
    read when the database changed (`lift_floors`). `routes`: the routes too (this process
    routes with OCP_STICKY=upward), else the outcomes alone."""

    def __init__(self, db_path: Path, *, since: FloorsRead, routes: bool = False) -> None:
        # Autocommit (no read transaction held between looks). A look runs on the event loop
        # before each route, so it waits for no lock (busy timeout 0): one that finds the
        # database busy (WAL recovery, a rollback-journal writer) is tried at the next request.
        self._db = sqlite3.connect(
            db_path, timeout=0, isolation_level=None, check_same_thread=False
        )
        # None: the first look reads whatever the version, since a row stored after the
        # rebuild and before this connection opened changed no version this one saw.
        self._version: int | None = None
        self._outcomes = since.outcomes
        self._routes = since.routes if routes else None

    @classmethod
    def opened(
        cls, db_path: Path, *, since: FloorsRead, routes: bool = False
    ) -> FloorsElsewhere | None:
        """Looking at `db_path` past `since`; None, said in the log, when it cannot be read
        (this process serves on: floors lifted elsewhere reach it at its next start)."""
        try:
            return cls(db_path, since=since, routes=routes)
        except sqlite3.Error as exc:
            logger.warning("floors other processes lift will not be read: %s", exc)
            return None

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def lift_floors(self, floors: TierFloors) -> None:
        """Lift `floors` as what was stored since the last look lifted them."""
        try:
            version = self._data_version()
            if version == self._version:
                return
            # past the last note read, not the last outcome: notes of other kinds (most of them)
            # are passed over once, not at every look after a write (a scan of the table where
            # no outcome was ever saved; 50,000 notes cost 7.7 ms a look)
            top = int(self._db.execute(_LAST_NOTE).fetchone()[0] or 0)
            outcomes = (
                self._db.execute(OUTCOMES_SINCE, (self._outcomes,)).fetchall()
                if top > self._outcomes
                else []
            )
            routes = (
                None
                if self._routes is None
                else self._db.execute(ROUTES_SINCE, (self._routes,)).fetchall()
            )
        except sqlite3.Error as exc:  # busy, or gone: looked at again at the next request
            logger.debug("floors lifted elsewhere not read: %s", exc)
            return
        self._version = version
        try:
            if routes is not None:
                self._routes = lift_routes(floors, routes) or self._routes
            # a note past `top` committed between the two reads was read too (ids only grow)
            self._outcomes = max(top, lift_floors(floors, outcomes), self._outcomes)
        except Exception:  # a row no reader expected: never a failed route, read past
            logger.warning("floors lifted elsewhere not all read", exc_info=True)
            self._outcomes = max(top, self._outcomes)
            if routes:
                self._routes = max(self._routes or 0, int(routes[-1][0]))

    def close(self) -> None:
        self._db.close()


async def watch_floors(ws: Workspace, router: OCPRouter) -> None:
    """Lift `router`'s floors as what `ws`'s database holds lifted them (restore_floors), and
    keep a reader of what is stored later on `ws` (`ws.floors_elsewhere`, closed with it)."""
    read = await restore_floors(ws.memory, router.floors, router.sticky)
    ws.floors_elsewhere = await asyncio.to_thread(
        functools.partial(
            FloorsElsewhere.opened, since=read, routes=router.sticky is Sticky.UPWARD
        ),
        ws.index.db_path,
    )
