"""Another process holding the database open in a transaction, for the tests of waiting on it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
    if sys.argv[2] == "write":
        db.execute("BEGIN IMMEDIATE")
    else:  # a read transaction: its snapshot keeps the -wal file from being truncated
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM notes").fetchall()
    print("held", flush=True)
    sys.stdin.readline()  # until the test lets go
    db.execute("ROLLBACK")
    """
)


@asynccontextmanager
async def held(db_path: Path, how: str, *more_args: str) -> AsyncIterator[subprocess.Popen[str]]:
    """Another process holding the database (`how`: "read" or "write") until the block ends,
    with `more_args` on its command line. Waited for in a thread: this process's index watcher
    may hold the write lock, and it commits only if the loop runs."""
    script = db_path.parent / "hold.py"  # a short command line: `python hold.py ocp.db ...`
    script.write_text(_HOLDER)
    holder = subprocess.Popen(
        ["python3", script.name, db_path.name, how, *more_args],
        cwd=db_path.parent,
        executable=sys.executable,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == "held\n"
        yield holder
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
