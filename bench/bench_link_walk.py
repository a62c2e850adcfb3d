"""Listing a workspace whose files are hard-linked from outside it, A/B: a tree of `--files`
small files outside the workspace, copied in with `cp -al` (each file then has two names, one
outside), as a git work tree. Each side is a Python interpreter of a checkout (its own
ocp_server); each round starts one child per side, in turn (the machine's load falls on both
alike), and the child lists the workspace `--listings` times (list_workspace, as each update
does). Medians over the rounds, wall and CPU time (the child's own: git's listing runs in
another process), in seconds: the first listing, the later ones (median of each child's).

    uv run python bench/bench_link_walk.py --a /work/main/.venv/bin/python \
        --b .venv/bin/python [--files 5000] [--listings 5] [--rounds 5]

Finding a linked file's other names walks the workspace (secret_twins.SecretTwins.unseen)
when a file has fewer names in the listing than links: every file of such a copy."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_CHILD = """
import json, sys, time
from pathlib import Path
from ocp_server.index.files import list_workspace
ws, n = Path(sys.argv[1]), int(sys.argv[2])
times, cpu = [], []
for _ in range(n):
    t, c = time.perf_counter(), time.process_time()
    listing = list_workspace(ws)
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
outside = sum(c.linked_outside for c in listing.candidates)
files = len(listing.candidates)
print(json.dumps({"times": times, "cpu": cpu, "files": files, "outside": outside}))
"""


def _workspace(root: Path, files: int) -> Path:
    tree = root / "outside"
    for n in range(files):
        folder = tree / f"pkg{n // 200}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n % 200}.py").write_text(f"value_{n // 200}_{n % 200} = {n}\n")
    ws = root / "ws"
    subprocess.run(["cp", "-al", str(tree), str(ws)], check=True)
    git = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "files"]):
        subprocess.run([*git, *args], cwd=ws, check=True)
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--a", required=True, help="the first checkout's python")
    parser.add_argument("--b", required=True, help="the second checkout's python")
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--listings", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ocp-link-walk-"))
    try:
        ws = _workspace(root, args.files)
        runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
        for _ in range(args.rounds):
            for side in ("a", "b"):
                cmd = [getattr(args, side), "-c", _CHILD, str(ws), str(args.listings)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                runs[side].append(json.loads(out.strip().splitlines()[-1]))
        for side in ("a", "b"):
            last = runs[side][-1]
            print(
                f"{side}: {getattr(args, side)}  files {last['files']} (linked outside "
                f"{last['outside']})"
            )
            for key, what in (("times", "wall"), ("cpu", "CPU (this process)")):
                first = statistics.median(r[key][0] for r in runs[side])
                later = statistics.median(statistics.median(r[key][1:]) for r in runs[side])
                print(f"   {what}: first listing {first:.3f} s, later listings {later:.3f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
