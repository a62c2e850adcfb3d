"""A streamed answer's `<think>` block read piece by piece (ThinkTags, what the proxy runs on
its event loop for a local model's stream), on two versions: seconds for blocks of growing
length in 4-character pieces, the versions interleaved, best of --rounds.

    uv run python bench/think_tags_ab.py                 # this checkout against main
    uv run python bench/think_tags_ab.py --base REV --rounds 5
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "ocp_router/src/ocp_router/backends/reasoning.py"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _read(module: ModuleType, chars: int) -> float:
    pieces = ["<think>", *["abc "] * (chars // 4), "</think>", "the answer"]
    started = time.perf_counter()
    tags = module.ThinkTags()
    for piece in pieces:
        tags.feed(piece)
    tags.end()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, interleaved")
    args = parser.parse_args()
    text = subprocess.run(
        ["git", "show", f"{args.base}:{SOURCE}"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        based = Path(tmp) / "reasoning_base.py"
        based.write_bytes(text)
        base = _load("reasoning_base", based)
        new = _load("reasoning_new", ROOT / SOURCE)
    print(f"seconds, 4-character pieces, best of {args.rounds} (base: {args.base})")
    print("| block characters | base | new |\n|---:|---:|---:|")
    for chars in (100_000, 400_000, 1_600_000):
        times: dict[str, list[float]] = {"base": [], "new": []}
        for _ in range(args.rounds):
            times["base"].append(_read(base, chars))
            times["new"].append(_read(new, chars))
        print(f"| {chars:,} | {min(times['base']):.3f} | {min(times['new']):.3f} |")


if __name__ == "__main__":
    main()
