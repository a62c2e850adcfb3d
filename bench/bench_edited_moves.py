"""How many files of a folder moved and edited at once (`mv pkg lib` and a line added to each
before the index sees it, git not told) the index pairs by their lines (index/edited_moves.py),
and the update's time. A big rename of a package, its imports fixed in every file, is that.

    uv run python bench/bench_edited_moves.py [--files 500 2000] [--rounds 3] [--deleted]

`--deleted`: the folder removed instead (`rm -rf pkg`, nothing new): what reading the dropped
files' lines, kept for a later update's new files, costs. The count is the point (it does not
depend on the machine); times are the median of ROUNDS, on a shared machine: say its load
beside them, and compare two versions interleaved, each run in turn with the other's sources
first on PYTHONPATH (`git archive REV ocp_server/src | tar -x -C /tmp/old`).
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
from ocp_server.index.workspace import WorkspaceIndex


def _module(i: int) -> str:
    body = "".join(f"def f_{i}_{j}(x):\n    return x * {j} + {i}\n\n\n" for j in range(8))
    return f"import os\n\n\n{body}"


async def one(tmp: Path, files: int, deleted: bool = False) -> tuple[float, int]:
    root = tmp / "ws"
    if root.exists():
        shutil.rmtree(root)
    (root / "pkg").mkdir(parents=True)
    for i in range(files):
        (root / "pkg" / f"m{i}.py").write_text(_module(i))
    (root / "keep.py").write_text("KEPT = 1\n")  # (a workspace left empty counts as gone)
    db_path = tmp / "ocp.db"
    db_path.unlink(missing_ok=True)
    index = await WorkspaceIndex.open(root, db_path)
    try:
        await index.update()
        if deleted:
            shutil.rmtree(root / "pkg")
        else:
            shutil.move(root / "pkg", root / "lib")
            for path in (root / "lib").glob("*.py"):
                path.write_text("# moved to lib\n" + path.read_text())
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
    parser.add_argument("--files", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deleted", action="store_true", help="the folder removed instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for files in args.files:
            runs = [await one(Path(tmp), files, args.deleted) for _ in range(args.rounds)]
            took = statistics.median(t for t, _ in runs)
            what = (
                "removed" if args.deleted else f"moved and edited: paired {runs[0][1]} of {files}"
            )
            print(f"{files} files {what}; update median {took * 1000:.0f} ms over {args.rounds}")


if __name__ == "__main__":
    asyncio.run(main())
