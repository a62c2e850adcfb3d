"""The indexing lease: which of the processes sharing a database indexes and watches.

Several processes may open the same database (one per IDE window). One of them holds the lease
(a row in `leases`, renewed while it lives) and is the only one that indexes and watches; the
others only read. A lease whose holder died is taken over at once when the holder ran on this
host (its pid is gone, or now belongs to a newer process), else when it expires.
"""

from __future__ import annotations

import logging
import os
import time

import aiosqlite

from ocp_server import proc
from ocp_server.transactions import begin, rollback

__all__ = ["LEASE_NAME", "LEASE_SECONDS", "LeaseLost", "release_lease", "renew_lease", "take_lease"]

logger = logging.getLogger(__name__)

LEASE_NAME = "indexer"
LEASE_SECONDS = 30.0


async def take_lease(db: aiosqlite.Connection, owner: str, seconds: float = LEASE_SECONDS) -> bool:
    """Take or renew the lease for `owner`; False when a live process holds it. The caller
    runs no other transaction on `db` meanwhile (one connection, one transaction at a time)."""
    now = time.time()
    await begin(db)
    try:
        rows = list(
            await db.execute_fetchall(
                "SELECT owner, expires_at, pid, started, host FROM leases WHERE name = ?",
                (LEASE_NAME,),
            )
        )
        free = (
            not rows
            or rows[0][0] == owner
            or rows[0][1] < now
            or not proc.holder_alive(int(rows[0][2]), rows[0][3], rows[0][4])
        )
        if free:
            if rows and rows[0][0] != owner and rows[0][1] >= now:
                logger.info("the indexing lease's holder (pid %s) is gone: taking over", rows[0][2])
            pid = os.getpid()
            await db.execute(
                "INSERT INTO leases (name, owner, pid, expires_at, started, host) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "owner = excluded.owner, pid = excluded.pid, expires_at = excluded.expires_at,"
                " started = excluded.started, host = excluded.host",
                (LEASE_NAME, owner, pid, now + seconds, proc.start_token(pid), proc.host()),
            )
        await db.execute("COMMIT")
    except BaseException:
        await rollback(db)
        raise
    return free


class LeaseLost(Exception):
    """Another process took the lease over while this one indexed (it stalled past the lease:
    the machine slept, the process was stopped): it indexes now, and this update stops."""


async def renew_lease(db: aiosqlite.Connection, owner: str, seconds: float = LEASE_SECONDS) -> None:
    """In the caller's transaction: renew `owner`'s lease, as an update does at each batch it
    writes (one may take minutes, the lease 30 s). LeaseLost when another process holds it."""
    cursor = await db.execute(
        "UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ?",
        (time.time() + seconds, LEASE_NAME, owner),
    )
    if cursor.rowcount == 0:
        raise LeaseLost


async def release_lease(db: aiosqlite.Connection, owner: str) -> None:
    """Give the lease up (a failure is logged: it expires anyway)."""
    try:
        await db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (LEASE_NAME, owner))
    except aiosqlite.Error:
        logger.debug("could not release the indexing lease", exc_info=True)
