"""What the whole-file NUL scan of index/source_text.utf8_bytes costs an index build: its
time, against the same function reading NULs only in the first 8 KB (and in a file that is
no UTF-8, before reading it as Windows-1252: the same answers), and against the indexer's own
work on each file (file_chunks.process_file: read, checks, hash, chunks). Interleaved rounds
over every file the index would read in the given workspace (default this checkout).

    env -u PYTHONDONTWRITEBYTECODE uv run python bench/bench_utf8_pass.py [WORKSPACE] [--rounds N]
"""

from __future__ import annotations

import argparse
import codecs
import os
import time
from pathlib import Path

from ocp_server.index import source_text
from ocp_server.index.file_chunks import process_file
from ocp_server.index.files import list_workspace
from ocp_server.index.source_text import utf8_bytes

HEAD = 8192
MARKS = tuple(mark for mark, _ in source_text._MARKS)


def head_only(data: bytes) -> bytes:
    """utf8_bytes with NULs looked for in the head, and elsewhere only before Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if data.startswith(MARKS) or b"\0" in data[:HEAD]:
        return utf8_bytes(data)
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data if b"\0" in data else utf8_bytes(data)
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", nargs="?", default=str(Path(__file__).parents[1]))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ws = Path(args.workspace).resolve()
    candidates = list_workspace(ws).candidates
    files = [(ws / c.path).read_bytes() for c in candidates]
    non_ascii = sum(not data.isascii() for data in files)
    assert all(utf8_bytes(d) == head_only(d) for d in files), "the variant answers otherwise"
    print(f"{len(files)} files, {sum(map(len, files)) / 1e6:.1f} MB, {non_ascii} not ASCII")
    print(f"load {os.getloadavg()[0]:.1f}")
    totals = {"utf8_bytes": 0.0, "head_only": 0.0, "process_file": 0.0}
    for _ in range(args.rounds):
        for name, fn in (("utf8_bytes", utf8_bytes), ("head_only", head_only)):
            start = time.perf_counter()
            for data in files:
                fn(data)
            totals[name] += time.perf_counter() - start
        start = time.perf_counter()
        for c in candidates:
            process_file(ws, c, None, 1 << 20)
        totals["process_file"] += time.perf_counter() - start
    per = {name: total / args.rounds * 1000 for name, total in totals.items()}
    for name, ms in per.items():
        print(f"{name:>13}: {ms:8.2f} ms a round")
    saved = per["utf8_bytes"] - per["head_only"]
    print(f"the whole-file scan: {saved:.2f} ms, {saved / per['process_file']:.3%} of process_file")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
