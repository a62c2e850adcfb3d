"""MemoryStore: session memory on one connection, its parts put together."""

from __future__ import annotations

from ocp_server.memory.restore import MemoryRestores
from ocp_server.memory.save import MemorySaves


class MemoryStore(MemoryRestores, MemorySaves):
    """Session memory on an open connection (from `ocp_server.db.connect`).

    Writes run one transaction each (`BEGIN IMMEDIATE`); a brief is read in one transaction
    too, so it is a consistent snapshot. Calls on one store are serialised by `lock`: pass the
    lock of anything else that runs transactions on the same connection.

    Its parts share that connection, lock and transaction discipline (TraceStore): saving
    (save.py, with citing.py and duplicates.py), checking citations (checks.py) and restoring
    (restore.py), over a common base (base.py) and one set of queries (queries.py).
    """
