"""Benchmark the syntax-aware chunker over a source tree.

    uv run python bench/bench_chunking.py [PATH] [--limit N]

PATH defaults to the workspace venv's site-packages. Every file whose language
`detect_language` knows is read (UTF-8, undecodable bytes replaced) and chunked; reading is not
timed, chunking is. Prints one row per language and a total: files, lines, chunks, seconds,
files/s and the p50/p99 milliseconds per file.
"""

from __future__ import annotations

import argparse
import os
import site
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from ocp_server.index.chunking import chunk_text
from ocp_server.index.languages import detect_language

SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".tox"}
MAX_FILE_BYTES = 4_000_000


@dataclass
class Stats:
    files: int = 0
    lines: int = 0
    chunks: int = 0
    seconds: float = 0.0
    times: list[float] = field(default_factory=list)

    def add(self, lines: int, chunks: int, seconds: float) -> None:
        self.files += 1
        self.lines += lines
        self.chunks += chunks
        self.seconds += seconds
        self.times.append(seconds)


def default_root() -> Path:
    purelib = sysconfig.get_paths().get("purelib")
    if purelib and Path(purelib).is_dir():
        return Path(purelib)
    return Path(site.getsitepackages()[0])


def walk(root: Path) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            language = detect_language(name)
            if language is not None:
                found.append((Path(dirpath) / name, language))
    return found


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="chunk at most N files")
    args = parser.parse_args(argv)
    root: Path = args.path or default_root()

    files = walk(root)
    if args.limit:
        files = files[: args.limit]
    per_language: dict[str, Stats] = {}
    total = Stats()
    slowest: list[tuple[float, str]] = []
    wall = time.perf_counter()
    for path, language in files:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        started = time.perf_counter()
        chunks = chunk_text(str(path), text, language)
        elapsed = time.perf_counter() - started
        lines = text.count("\n") + (not text.endswith("\n") and bool(text))
        per_language.setdefault(language, Stats()).add(lines, len(chunks), elapsed)
        total.add(lines, len(chunks), elapsed)
        slowest.append((elapsed, str(path)))
    wall = time.perf_counter() - wall

    header = (
        f"{'language':<12}{'files':>8}{'lines':>11}{'chunks':>9}{'seconds':>9}"
        f"{'files/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
    )
    print(f"root: {root}")
    print(header)
    print("-" * len(header))
    rows = sorted(per_language.items(), key=lambda item: -item[1].seconds)
    for language, stats in [*rows, ("TOTAL", total)]:
        times = sorted(stats.times)
        rate = stats.files / stats.seconds if stats.seconds else 0.0
        print(
            f"{language:<12}{stats.files:>8}{stats.lines:>11}{stats.chunks:>9}"
            f"{stats.seconds:>9.2f}{rate:>9.0f}{percentile(times, 0.5) * 1000:>8.2f}"
            f"{percentile(times, 0.99) * 1000:>8.2f}"
        )
    print(f"wall time incl. reading: {wall:.2f}s")
    print("slowest files:")
    for elapsed, name in sorted(slowest, reverse=True)[:5]:
        print(f"  {elapsed * 1000:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
