"""What recording dropped files and pairing moved ones (index/moves.py) adds to an index update
that moves a whole folder (`mv src lib`, git not told): interleaved A/B in one process, A with
the two steps switched off, B as shipped. Prints the median update time of each and the moves
the index saw (B).

    uv run python bench/bench_index_moves.py [--files 2000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ocp_server.db import connect
from ocp_server.index import indexer, moves
from ocp_server.index.workspace import WorkspaceIndex

_REAL = (moves.record_gone, moves.pair_new)


async def _off(*_: object) -> None:
    return None


async def one(root: Path, files: int, shipped: bool) -> tuple[float, int]:
    if root.exists():
        shutil.rmtree(root)
    (root / "src").mkdir(parents=True)
    for i in range(files):
        (root / "src" / f"m{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n" * 3)
    db_path = root.parent / f"{root.name}.db"
    db_path.unlink(missing_ok=True)
    # the indexer's own names for them (it imports them from moves.py)
    setattr(indexer, "record_gone", _REAL[0] if shipped else _off)  # noqa: B010
    setattr(indexer, "pair_new", _REAL[1] if shipped else _off)  # noqa: B010
    index = await WorkspaceIndex.open(root, db_path)
    try:
        await index.update()
        (root / "src").rename(root / "lib")
        began = time.perf_counter()
        await index.update()
        took = time.perf_counter() - began
    finally:
        await index.close()
    conn = await connect(db_path)
    rows = await conn.execute_fetchall("SELECT count(*) FROM gone_files WHERE moved_to IS NOT NULL")
    await conn.close()
    return took, int(next(iter(rows))[0])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {False: [], True: []}
    paired = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            for shipped in (n % 2 == 0, n % 2 != 0):
                took, moved = await one(Path(tmp) / "ws", args.files, shipped)
                times[shipped].append(took)
                paired = moved if shipped else paired
    for shipped, label in ((False, "A without moves"), (True, "B with moves")):
        print(
            f"{label}: update after `mv` of {args.files} files, median "
            f"{statistics.median(times[shipped]) * 1000:.0f} ms over {args.rounds}"
        )
    print(f"B: moves the index saw {paired} of {args.files}")


if __name__ == "__main__":
    asyncio.run(main())
