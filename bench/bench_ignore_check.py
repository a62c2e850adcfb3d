"""What a search's check of ignore files edited since the last update costs
(`on_disk.ignore_files_since`): the `.gitignore` on the cited files' way in the workspace, and
git's ignore files outside its folders (`gitdirs.ignore_files_above`: the `.gitignore` of
each folder above a workspace that is a sub-folder of its repository, info/exclude, the global
excludes file and, when that is a link, its target).

    uv run python bench/bench_ignore_check.py [--repeat 20000]

10 cited paths in 7 folders, as in a search's answer; a repository whose top has a .gitignore,
a workspace at its top and one 2 and 5 folders below it, a global excludes file that is a
link. Each row: the median of 7 runs of `--repeat` calls, in microseconds per call, without
`above` (the workspace's own files only, the check before) and with it, alternated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ocp_server.index.gitdirs import ignore_files_above
from ocp_server.index.on_disk import ignore_files_since

PATHS = [
    "src/auth.py",
    "src/auth_test.py",
    "src/api/routes.py",
    "src/api/views.py",
    "src/api/v2/views.py",
    "web/billing.ts",
    "web/components/Cart.tsx",
    "web/components/Checkout.tsx",
    "docs/guide.md",
    "README.md",
]  # 7 folders: "", src, src/api, src/api/v2, web, web/components, docs


def _tree(repo: Path, ws: Path) -> None:
    for rel in PATHS:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("x\n")
    (ws / ".gitignore").write_text("*.log\n")
    (ws / "web" / ".gitignore").write_text("dist/\n")
    (repo / ".gitignore").write_text("*.tmp\n")


def _call(ws: Path, above: tuple[tuple[str, str], ...], repeat: int) -> float:
    since = time.time() + 1  # nothing written since: every file is looked at, none counted
    started = time.perf_counter()
    for _ in range(repeat):
        ignore_files_since(ws, PATHS, since, above)
    return (time.perf_counter() - started) / repeat * 1e6


def _per_call(ws: Path, above: tuple[tuple[str, str], ...], repeat: int) -> tuple[float, float]:
    """Medians of 7 runs each, without `above` and with it, the two alternated (the host's
    slow spells then fall on both)."""
    own, every = [], []
    for _ in range(7):
        own.append(_call(ws, (), repeat))
        every.append(_call(ws, above, repeat))
    return statistics.median(own), statistics.median(every)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocp-ignore-check-") as tmp:
        home = Path(tmp) / "home"
        (home / ".config" / "git").mkdir(parents=True)
        (home / "dotfiles").mkdir()
        (home / "dotfiles" / "gitignore").write_text(".DS_Store\n")
        (home / ".config" / "git" / "ignore").symlink_to(home / "dotfiles" / "gitignore")
        os.environ.update(
            HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1"
        )
        os.environ.pop("XDG_CONFIG_HOME", None)
        print(f"{'workspace':<26} {'ignore files above':>18} {'own only µs':>12} {'all µs':>8}")
        for depth in (0, 2, 5):
            repo = Path(tmp) / f"repo{depth}"
            ws = repo.joinpath(*(f"d{i}" for i in range(depth)))
            ws.mkdir(parents=True)
            _tree(repo, ws)
            subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
            above = tuple((n, str(p)) for n, p in ignore_files_above(ws))
            own, every = _per_call(ws, above, args.repeat)
            where = "repository top" if depth == 0 else f"{depth} folders below the top"
            print(f"{where:<26} {len(above):>18} {own:>12.1f} {every:>8.1f}")


if __name__ == "__main__":
    main()
