"""Save and restore cost as session memory grows: does each save cost more as memory fills?

    uv run python bench/bench_memory_growth.py [--saves 120] [--every 20] [--churn 5] [--cjk]

SAVES saves in a row into one new database, each of 50 decisions, 50 notes and 10 open items
of random words from a fixed vocabulary of 5,000 (seed 3: none near-identical, so none
merges), 110 memories a save. Reported for each EVERY saves: memories stored before them, the
mean CPU time of a save (all threads of this process: the database's too), and the median CPU
time of a restore with a two-word query (2,000 tokens) right after them. `--churn K`: each
save after the first also forgets K of the previous save's notes and saves K others of them
again with one word changed (they merge, reworded): memories deleted from the index.
`--cjk`: the words are pairs of Han characters, written without spaces as Chinese is (a
comma every 8 words); the database's size at the end is in the caption, and the median CPU
time of a restore whose query is one character.

    uv run python bench/bench_memory_growth.py --at 100,1000,2200,5000 [--repeat 3] [--traces N]

One save (the same 110 memories) into memory of each size AT, cold and warm apart. Cold: a
copy of the database opened by a new connection and store, as a new server's first save is
(nothing of this process's counts; the OS's file cache is warm). Warm: REPEAT saves more on
that store, each of 110 new memories. Reported: the median CPU time of a save, and of it the
search for merge candidates (`_candidates`, both its calls a memory: before the transaction
and in it). `--traces N`: N routed requests (80 words of the same vocabulary each) are in
the memory index first, as a server's traces are.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_server.db import connect  # noqa: E402
from ocp_server.memory import DecisionIn, MemoryStore  # noqa: E402


def _han_words(rnd: random.Random) -> list[str]:
    return ["".join(chr(0x4E00 + rnd.randrange(20000)) for _ in range(2)) for _ in range(5000)]


def _chinese(words: list[str]) -> str:
    return "，".join("".join(words[i : i + 8]) for i in range(0, len(words), 8))


async def run(saves: int, every: int, churn: int = 0, cjk: bool = False) -> Table:
    extra = f", each forgetting {churn} and merging {churn}" if churn else ""
    extra += ", Chinese" if cjk else ""
    table = Table(title=f"memory growth: {saves} saves of 110 memories{extra} (CPU time)")
    for column in ("memories before", "save, s (mean)", "restore with a query, ms (median)"):
        table.add_column(column, justify="right")
    rnd = random.Random(3)
    vocab = _han_words(rnd) if cjk else [f"w{n}q" for n in range(5000)]
    join = _chinese if cjk else " ".join
    query = f"{vocab[17]} {vocab[4000]}"
    with tempfile.TemporaryDirectory() as tmp:
        db = await connect(Path(tmp) / "ocp.db")
        store = MemoryStore(db)
        sid = await store.start_session("/ws")
        spent: list[float] = []
        previous: list[tuple[int, str]] = []  # the last save's notes: id, text
        for n in range(saves):
            notes = [join(rnd.choices(vocab, k=60)) for _ in range(50)]
            again = [t.replace(t[:3], rnd.choice(vocab), 1) for _, t in previous[:churn]]
            forget = [i for i, _ in previous[churn : 2 * churn]]
            started = time.process_time()
            saved = await store.save(
                sid,
                decisions=[
                    DecisionIn(
                        f"title {n}-{j} " + join(rnd.choices(vocab, k=5)),
                        join(rnd.choices(vocab, k=40)),
                        join(rnd.choices(vocab, k=30)),
                    )
                    for j in range(50)
                ],
                notes=notes + again,
                open_items=[join(rnd.choices(vocab, k=12)) for _ in range(10)],
                forget_notes=forget,
            )
            spent.append(time.process_time() - started)
            assert len(saved.merged) == len(again), saved.merged
            previous = list(zip(saved.note_ids, notes, strict=False))
            if (n + 1) % every == 0:
                restores = []
                for _ in range(9):
                    started = time.process_time()
                    await store.restore(query=query, max_tokens=2000)
                    restores.append(time.process_time() - started)
                table.add_row(
                    f"{(n + 1 - every) * 110:,}",
                    f"{statistics.mean(spent[-every:]):.3f}",
                    f"{statistics.median(restores) * 1e3:.1f}",
                )
        one = ""
        if cjk:  # a word of one character: looked up as the start of a term
            restores = []
            for _ in range(9):
                started = time.process_time()
                await store.restore(query=vocab[17][0], max_tokens=2000)
                restores.append(time.process_time() - started)
            one = (
                f"; a restore with a one-character query {statistics.median(restores) * 1e3:.1f} ms"
            )
        await db.close()
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
        table.caption = f"database at the end: {size / 2**20:.1f} MiB{one}"
    return table


def _save_of(rnd: random.Random, vocab: list[str], n: int) -> dict[str, object]:
    """One save of 50 decisions, 50 notes and 10 open items of random words (as `run`)."""
    return {
        "decisions": [
            DecisionIn(
                f"title {n}-{j} " + " ".join(rnd.choices(vocab, k=5)),
                " ".join(rnd.choices(vocab, k=40)),
                " ".join(rnd.choices(vocab, k=30)),
            )
            for j in range(50)
        ],
        "notes": [" ".join(rnd.choices(vocab, k=60)) for _ in range(50)],
        "open_items": [" ".join(rnd.choices(vocab, k=12)) for _ in range(10)],
    }


async def _timed_save(store: MemoryStore, sid: str, save: dict[str, object]) -> tuple[float, float]:
    """CPU time of one save, and of it in `_candidates` (saves run one at a time, so all the
    process's CPU between its start and end is the search's)."""
    searched = 0.0
    candidates = store._candidates

    async def timed(*args: Any, **kwargs: Any) -> list[tuple[int, str]]:
        nonlocal searched
        started = time.process_time()
        try:
            return await candidates(*args, **kwargs)
        finally:
            searched += time.process_time() - started

    store._candidates = timed  # type: ignore[method-assign]
    started = time.process_time()
    try:
        saved = await store.save(sid, **save)  # type: ignore[arg-type]
    finally:
        del store._candidates
    assert not saved.merged, saved.merged
    return time.process_time() - started, searched


async def at_sizes(sizes: list[int], repeat: int, traces: int = 0) -> Table:
    title = f"one save of 110 memories into memory of each size (CPU time, median of {repeat})"
    if traces:
        title += f", {traces:,} routed requests indexed beside them"
    table = Table(title=title)
    for column in (
        "memories",
        "cold save, ms",
        "of it candidates, ms",
        "warm save, ms",
        "of it candidates, ms",
    ):
        table.add_column(column, justify="right")
    rnd = random.Random(3)
    vocab = [f"w{n}q" for n in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ocp.db"
        db = await connect(path)
        store = MemoryStore(db)
        sid = await store.start_session("/ws")
        if traces:  # as a routed request's text is indexed (only the index: a save reads that)
            async with store._transaction():
                for n in range(traces):
                    await store._index("trace", f"t{n}", " ".join(rnd.choices(vocab, k=80)))
        stored = 0
        for size in sorted(sizes):
            while stored < size:
                save = _save_of(rnd, vocab, stored)
                take = min(110, size - stored)  # the last one smaller: exactly `size`
                decisions, notes, items = (min(50, take), min(50, take - 50), take - 100)
                save["decisions"] = save["decisions"][:decisions]  # type: ignore[index]
                save["notes"] = save["notes"][: max(notes, 0)]  # type: ignore[index]
                save["open_items"] = save["open_items"][: max(items, 0)]  # type: ignore[index]
                await store.save(sid, **save)  # type: ignore[arg-type]
                stored += take
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            probe = random.Random(size + 10**6)  # (a seed's sign is ignored)
            cold: list[tuple[float, float]] = []
            warm: list[tuple[float, float]] = []
            for k in range(repeat):
                copy = Path(tmp) / f"copy{k}.db"
                shutil.copyfile(path, copy)
                other = await connect(copy)
                fresh = MemoryStore(other)
                try:
                    save = _save_of(random.Random(size), vocab, -1)
                    cold.append(await _timed_save(fresh, sid, save))
                    for j in range(repeat if k == 0 else 0):
                        warm.append(await _timed_save(fresh, sid, _save_of(probe, vocab, -2 - j)))
                finally:  # (an open connection's thread keeps the process alive)
                    await other.close()
                copy.unlink()
                for wal in Path(tmp).glob(f"copy{k}.db-*"):
                    wal.unlink()
            table.add_row(
                f"{size:,}",
                f"{statistics.median(c for c, _ in cold) * 1e3:.0f}",
                f"{statistics.median(s for _, s in cold) * 1e3:.0f}",
                f"{statistics.median(c for c, _ in warm) * 1e3:.0f}",
                f"{statistics.median(s for _, s in warm) * 1e3:.0f}",
            )
        await db.close()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=120)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--churn", type=int, default=0)
    parser.add_argument("--cjk", action="store_true")
    parser.add_argument("--at", help="memory sizes, e.g. 100,1000,2200,5000: a save at each")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--traces", type=int, default=0, help="with --at: routed requests")
    args = parser.parse_args()
    if args.at:
        sizes = [int(s) for s in args.at.split(",") if s]
        Console().print(asyncio.run(at_sizes(sizes, args.repeat, args.traces)))
        return
    Console().print(asyncio.run(run(args.saves, args.every, args.churn, args.cjk)))


if __name__ == "__main__":
    main()
