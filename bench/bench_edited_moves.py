"""How many files of a folder moved and edited at once (`mv pkg lib` and a line added to each
before the index sees it, git not told) the index pairs by their lines (index/edited_moves.py),
and the update's time. A big rename of a package, its imports fixed in every file, is that.

    uv run python bench/bench_edited_moves.py [--files 500 2000] [--rounds 3]
        [--deleted | --checkout] [--against REV]

`--deleted`: the folder removed instead (`rm -rf pkg`, nothing new): what reading the dropped
files' lines, kept for a later update's new files, costs. `--checkout`: a `git checkout` of a
branch where the folder is gone and as many other files came (a branch switch). Each line
also says the time the update spent reading the dropped files' lines (`before_drop`).
`--against REV`: two versions interleaved, REV's sources (`git archive REV ocp_server/src`)
first on PYTHONPATH in turn with this checkout's, one process a run. The count is the point
(it does not depend on the machine); times are the median of ROUNDS, on a shared machine: say
its load beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ocp_server.db import connect
from ocp_server.index.edited_moves import EditedMoves
from ocp_server.index.workspace import WorkspaceIndex

_READING: list[float] = []  # seconds each before_drop took


def _module(i: int, kind: str = "m") -> str:
    body = "".join(f"def {kind}_{i}_{j}(x):\n    return x * {j} + {i}\n\n\n" for j in range(8))
    return f"import os\n\n\n{body}"


def _git(root: Path, *command: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", *command],
        cwd=root,
        check=True,
        capture_output=True,
    )


def _timed_before_drop() -> None:
    """Time every EditedMoves.before_drop (of whichever version is imported)."""
    real = EditedMoves.before_drop.__func__  # type: ignore[attr-defined]

    async def timed(cls: type[EditedMoves], /, *args: object, **kwargs: object) -> EditedMoves:
        began = time.perf_counter()
        try:
            return await real(cls, *args, **kwargs)  # type: ignore[no-any-return]
        finally:
            _READING.append(time.perf_counter() - began)

    EditedMoves.before_drop = classmethod(timed)  # type: ignore[method-assign,assignment]


async def one(tmp: Path, files: int, scenario: str = "moved") -> tuple[float, float, int]:
    """(the update's seconds, its before_drop's, files paired) for `scenario`."""
    root = tmp / "ws"
    if root.exists():
        shutil.rmtree(root)
    (root / "pkg").mkdir(parents=True)
    for i in range(files):
        (root / "pkg" / f"m{i}.py").write_text(_module(i))
    (root / "keep.py").write_text("KEPT = 1\n")  # (a workspace left empty counts as gone)
    if scenario == "checkout":
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "main")
        _git(root, "checkout", "-q", "-b", "other")
        shutil.rmtree(root / "pkg")
        (root / "other").mkdir()
        for i in range(files):
            (root / "other" / f"o{i}.py").write_text(_module(i, "o"))
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "other")
        _git(root, "checkout", "-q", "main")
    db_path = tmp / "ocp.db"
    db_path.unlink(missing_ok=True)
    index = await WorkspaceIndex.open(root, db_path)
    try:
        await index.update()
        if scenario == "deleted":
            shutil.rmtree(root / "pkg")
        elif scenario == "checkout":
            _git(root, "checkout", "-q", "other")
        else:
            shutil.move(root / "pkg", root / "lib")
            for path in (root / "lib").glob("*.py"):
                path.write_text("# moved to lib\n" + path.read_text())
        _READING.clear()
        began = time.perf_counter()
        await index.update()
        took = time.perf_counter() - began
        reading = sum(_READING)
    finally:
        await index.close()
    conn = await connect(db_path)
    rows = await conn.execute_fetchall("SELECT count(*) FROM gone_files WHERE moved_to IS NOT NULL")
    await conn.close()
    return took, reading, int(next(iter(rows))[0])


def _interleaved(args: argparse.Namespace, scenario: str) -> None:
    """Each round runs this script once for each version, the order swapped every round."""
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(
            ["git", "archive", args.against, "ocp_server/src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        sides = {"this": "", args.against: str(Path(old) / "ocp_server" / "src")}
        for files in args.files:
            found: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
            for n in range(args.rounds):
                for name in list(sides)[:: 1 if n % 2 == 0 else -1]:
                    env = {**os.environ, "PYTHONPATH": sides[name]}
                    out = subprocess.run(
                        [sys.executable, __file__, "--one", scenario, str(files)],
                        check=True,
                        capture_output=True,
                        text=True,
                        env=env,
                    ).stdout.split()
                    found[name].append((float(out[0]), float(out[1])))
            for name, runs in found.items():
                took = statistics.median(t for t, _ in runs)
                reading = statistics.median(r for _, r in runs)
                print(
                    f"{name}: {files} files {scenario}; update median {took * 1000:.0f} ms,"
                    f" before_drop {reading * 1000:.0f} ms, over {args.rounds}"
                    f" ({', '.join(f'{t * 1000:.0f}' for t, _ in runs)})"
                )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deleted", action="store_true", help="the folder removed instead")
    parser.add_argument("--checkout", action="store_true", help="a branch without it checked out")
    parser.add_argument("--against", metavar="REV", help="interleaved with REV's sources")
    parser.add_argument("--one", nargs=2, metavar=("SCENARIO", "FILES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    _timed_before_drop()
    if args.one:  # one run, for --against: the update's seconds and before_drop's
        with tempfile.TemporaryDirectory() as tmp:
            took, reading, _ = await one(Path(tmp), int(args.one[1]), args.one[0])
        print(took, reading)
        return
    scenario = "deleted" if args.deleted else "checkout" if args.checkout else "moved"
    if args.against:
        _interleaved(args, scenario)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for files in args.files:
            runs = [await one(Path(tmp), files, scenario) for _ in range(args.rounds)]
            took = statistics.median(t for t, _, _ in runs)
            reading = statistics.median(r for _, r, _ in runs)
            what = scenario if scenario != "moved" else f"moved and edited: paired {runs[0][2]}"
            print(
                f"{files} files {what}; update median {took * 1000:.0f} ms,"
                f" before_drop {reading * 1000:.0f} ms, over {args.rounds}"
            )


if __name__ == "__main__":
    asyncio.run(main())
