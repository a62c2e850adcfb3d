"""What finding the values each file names (index/file_secrets.py) adds to indexing a file.

    uv run python bench/bench_file_secrets.py [--rounds 3]

Every source file of the six development corpora is read and chunked as an index worker does
(`file_chunks.process_file`, which now finds them), and, apart, `named_in_chunks` alone over
the same file and chunks: CPU seconds (process_time) of each, per round, and the share the
named values are of the whole, with how many chunks carry any.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from redact_ab import CORPORA  # noqa: E402

from ocp_server.index.chunking import chunk_text  # noqa: E402
from ocp_server.index.file_chunks import process_file  # noqa: E402
from ocp_server.index.file_secrets import NONE, named_in_chunks  # noqa: E402
from ocp_server.index.files import list_workspace  # noqa: E402
from ocp_server.index.languages import detect_language  # noqa: E402
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    roots = sorted(p for p in CORPORA.iterdir() if p.is_dir())
    work = []
    for root in roots:
        listing = list_workspace(root, max_file_bytes=DEFAULT_MAX_FILE_BYTES)
        for c in listing.candidates:
            text = (root / c.path).read_bytes().decode("utf-8", "replace")
            pieces = [p.text for p in chunk_text(c.path, text, detect_language(c.path))]
            work.append((root, c, text, pieces))
    size = sum(len(t) for _, _, t, _ in work)
    print(f"{len(work)} files, {size / 1e6:.1f} MB")
    for r in range(args.rounds):
        t0 = time.process_time()
        for root, c, _, _ in work:
            process_file(root, c, None, DEFAULT_MAX_FILE_BYTES)
        whole = time.process_time() - t0
        t0 = time.process_time()
        marked = 0
        for _, _, text, pieces in work:
            marked += sum(n != NONE for n in named_in_chunks(text, pieces))
        named = time.process_time() - t0
        print(
            f"  round {r + 1}: process_file {whole:.2f}s, of which named values {named:.2f}s "
            f"({named / whole:.1%}); chunks with any: {marked}"
        )


if __name__ == "__main__":
    main()
