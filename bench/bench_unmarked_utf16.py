"""Do the UTF-16 and UTF-32 tests of index/source_text.py (no byte-order mark: told by its NUL
bytes, then by the scripts of its text) take a binary for text? Every regular file up to 1 MB
under the given folders (default /usr and this checkout's .venv) with a NUL in its first 8 KB
and no UTF-16/32 mark is a binary the index skipped, or such a text; counted: how many of
them utf8_bytes reads as text, and which.

    uv run python bench/bench_unmarked_utf16.py [FOLDER ...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ocp_server.index.source_text import utf8_bytes

MARKS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def main(folders: list[str]) -> None:
    seen = binaries = 0
    taken: list[str] = []
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(dirpath, name)
                try:
                    if os.path.islink(path) or os.path.getsize(path) > 1 << 20:
                        continue
                    data = Path(path).read_bytes()
                except OSError:
                    continue
                seen += 1
                if b"\0" in data[:8192] and not data.startswith(MARKS):
                    binaries += 1
                    if utf8_bytes(data) is not data:
                        taken.append(path)
    print(f"files {seen}, a NUL and no mark {binaries}, read as UTF-16 or UTF-32 {len(taken)}")
    for path in taken:
        print("  ", path)


if __name__ == "__main__":
    main(sys.argv[1:] or ["/usr", str(Path(__file__).parents[1] / ".venv")])
