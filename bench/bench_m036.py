"""What m036 (a decision's text and rationale redacted read after its title, in the rows
stored before) adds to the first opening of a database after an update.

    uv run python bench/bench_m036.py --memories 2000 --rounds 3

A store of `--memories` memories (half decisions, half notes, each indexed as a save indexes
it) is made by today's code in WAL mode, then wound back to before m036, with `--secret` of
its decisions holding the value their title names ({"title": "DB password", "decision": ...}).
Each round times `connect()` on a fresh copy (the migration, its index merge and the WAL
checkpoint after it), and `connect()` on the migrated copy (nothing to migrate), in turns.
Printed: medians and maxima over the rounds, in ms, and how many copies of a secret the
old file holds, and the migrated files (0).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ocp_server.db import connect
from ocp_server.schema import SCHEMA_VERSION
from ocp_server.trace_store import fts_text

SECRET = "Hunter2-" + "Quebec-"  # a number is glued after it: each one differs


async def _build(path: Path, memories: int, secret: int) -> None:
    db = await connect(path)
    await db.execute("INSERT INTO sessions VALUES ('s', '/ws', 1.0, 2.0, NULL)")
    await db.execute("BEGIN")
    decisions = memories // 2
    for n in range(memories):
        if n < decisions:
            title, decision = (
                ("DB password", f"{SECRET}{n}")
                if n < secret
                else (f"Retry policy {n}", f"back off {n} ms, then double up to a minute")
            )
            rationale = f"the build_cache job {n} failed twice under load; see the runbook"
            cursor = await db.execute(
                "INSERT INTO decisions (session_id, created_at, title, title_key, decision, "
                "rationale, renewed_at) VALUES ('s', 3.0, ?, lower(?), ?, ?, 3.0)",
                (title, title, decision, rationale),
            )
            kind, text = "decision", f"{title}\n{decision}\n{rationale}"
        else:
            text = f"note {n}: the nightly job reads the mirror and its retry_policy {n}"
            cursor = await db.execute(
                "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
                "VALUES ('s', 3.0, 'note', ?, 3.0)",
                (text,),
            )
            kind = "note"
        await db.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES (?, ?, ?)",
            (kind, str(cursor.lastrowid), fts_text(text)),
        )
        await db.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), ?, ?)",
            (kind, str(cursor.lastrowid)),
        )
    await db.execute("DELETE FROM _migrations WHERE name LIKE 'm036%'")
    await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    await db.execute("COMMIT")
    await db.close()


async def _open_ms(path: Path) -> float:
    start = time.perf_counter()
    db = await connect(path)
    took = (time.perf_counter() - start) * 1000
    await db.close()
    return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=2000)
    parser.add_argument("--secret", type=int, nargs="*", default=[0, 10, 100, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    table = Table(title=f"m036 on {args.memories:,} memories (ms; median / max)")
    columns = (
        "decisions with a secret",
        "open + m036",
        "open, migrated",
        "db KB",
        "secrets before",
        "after",
    )
    for column in columns:
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for secret in args.secret:
            old = Path(tmp) / f"old-{secret}.db"
            await _build(old, args.memories, secret)
            migrating, migrated = [], []
            for r in range(args.rounds):
                copy = Path(tmp) / f"copy-{secret}-{r}.db"
                shutil.copy(old, copy)
                migrating.append(await _open_ms(copy))
                migrated.append(await _open_ms(copy))
            size = copy.stat().st_size // 1024
            raw = b"".join(p.read_bytes() for p in Path(tmp).glob(f"copy-{secret}-*.db*"))
            before = b"".join(p.read_bytes() for p in Path(tmp).glob(f"old-{secret}.db*"))
            held = before.lower().count(SECRET.lower().encode())
            left = raw.lower().count(SECRET.lower().encode())  # as given, or an index term
            table.add_row(
                f"{secret:,}",
                f"{statistics.median(migrating):.0f} / {max(migrating):.0f}",
                f"{statistics.median(migrated):.0f} / {max(migrated):.0f}",
                f"{size:,}",
                f"{held:,}",
                f"{left:,}",
            )
    Console().print(table)


if __name__ == "__main__":
    asyncio.run(main())
