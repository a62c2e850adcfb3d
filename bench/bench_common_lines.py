"""Files made only of lines many dropped files hold (more than edited_moves.COMMON: the keys of
a folder of CI configs, settings files of one shape): does pairing them by their lines when a
folder of them moves and is edited find each its own, and does it pair any file with another?
Those lines point to no candidate (a line every file has points to none of them), so such
files are left unpaired; `FALLBACK` (edited_moves.FALLBACK_HOLDERS) lets a file with no rarer
line be compared with the dropped files holding its least common lines, up to that many.

    uv run python bench/bench_common_lines.py [--seed 7] [--files 40] [--pool 15]

The files are line sets run through edited_moves' pairing (`_pairs`, all of one update), no
index: each is a random 8-12 of POOL shared lines, in their pool's order. Scenarios:
`moved`: all FILES moved to a new folder, one line of their own added to each;
`mixed`: half of them moved so, a quarter deleted, and a quarter of new files made the same
way (no move): a file paired with a deleted one, or a new one with any, is paired wrong;
`lookalike`: each file moved is one of FILES / 4 shapes (10 lines), and its own added line.
Reported per scenario, without the fallback (0) and with it: paired right, paired wrong, not
paired, and the pairs compared. Deterministic for a seed (no timing).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_server.index import edited_moves  # noqa: E402

Files = dict[str, frozenset[int]]


def _file(rng: random.Random, pool: list[str]) -> list[str]:
    picked = sorted(rng.sample(range(len(pool)), rng.randint(8, min(12, len(pool)))))
    return [pool[i] for i in picked]


def _sets(files: dict[str, list[str]]) -> Files:
    return {path: frozenset(map(hash, lines)) for path, lines in files.items()}


def scenario(
    name: str, rng: random.Random, n: int, pool: list[str]
) -> tuple[Files, Files, dict[str, str]]:
    """(dropped, new, truth: new -> the dropped file it is)."""
    gone: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    truth: dict[str, str] = {}
    shapes = [_file(rng, pool) for _ in range(max(1, n // 4))]
    for i in range(n):
        lines = rng.choice(shapes)[:] if name == "lookalike" else _file(rng, pool)
        gone[f"old/f{i}.yml"] = lines
        moved = name != "mixed" or i < n // 2
        if moved:
            new[f"new/f{i}.yml"] = [*lines, f"edited_{i}: true"]
            truth[f"new/f{i}.yml"] = f"old/f{i}.yml"
        elif i >= 3 * n // 4:  # the last quarter: a new file of the same kind, no move
            new[f"new/g{i}.yml"] = _file(rng, pool)
    return _sets(gone), _sets(new), truth


def measure(gone: Files, new: Files, truth: dict[str, str]) -> tuple[int, int, int, int]:
    compared = 0
    real = edited_moves.similarity

    def counted(old: frozenset[int], now: frozenset[int]) -> float:
        nonlocal compared
        compared += 1
        return real(old, now)

    edited_moves.similarity = counted  # type: ignore[assignment]
    try:
        pairs, _ = edited_moves._pairs(gone, new, {*gone, *new}, {})
    finally:
        edited_moves.similarity = real
    right = sum(1 for to, old in pairs if truth.get(to) == old)
    wrong = len(pairs) - right
    return right, wrong, len(truth) - right, compared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--pool", type=int, default=15)
    parser.add_argument("--fallback", type=int, nargs="+", default=[0, 64])
    parser.add_argument("--same", type=float, nargs="+", default=[0.5, 0.7, 0.8, 0.9])
    args = parser.parse_args()
    pool = [f"key_{k}: value_{k}" for k in range(args.pool)]
    table = Table(title=f"{args.files} files of {args.pool} common lines, seed {args.seed}")
    columns = ("scenario", "fallback", "alike", "paired right", "wrong", "not paired", "compared")
    for column in columns:
        table.add_column(column, justify="right")
    keep = edited_moves.FALLBACK_HOLDERS, edited_moves.FALLBACK_SAME
    for name in ("moved", "mixed", "lookalike"):
        gone, new, truth = scenario(name, random.Random(args.seed), args.files, pool)
        for fallback in args.fallback:
            for same in args.same if fallback else [0.0]:
                # (the bench's own knobs: Final to the module, which never sets them)
                edited_moves.FALLBACK_HOLDERS = fallback  # type: ignore[misc]
                edited_moves.FALLBACK_SAME = same  # type: ignore[misc]
                try:
                    right, wrong, unpaired, compared = measure(gone, new, truth)
                finally:
                    edited_moves.FALLBACK_HOLDERS, edited_moves.FALLBACK_SAME = keep  # type: ignore[misc]
                table.add_row(
                    name, str(fallback), f"{same:.1f}" if fallback else "-", str(right),
                    str(wrong), f"{unpaired} of {len(truth)}", str(compared),
                )  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
