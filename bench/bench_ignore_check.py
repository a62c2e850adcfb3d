"""What a search's check of ignore files edited since the last update costs
(`on_disk.ignore_files_since`): the `.gitignore` on the cited files' way in the workspace, and
git's ignore files outside its folders (`gitdirs.ignore_files_above`: the `.gitignore` of
each folder above a workspace that is a sub-folder of its repository, info/exclude, the global
excludes file and, when that is a link, its target), and what a search checks now
(git_settings.IgnoreSources: those, and whether one of git's config files changed since the
settings were asked, `current()`, or was written since the last update, `written_since`).

    uv run python bench/bench_ignore_check.py [--repeat 20000]

10 cited paths in 7 folders, as in a search's answer; a repository whose top has a .gitignore,
a workspace at its top and one 2 and 5 folders below it, a global excludes file that is a
link, a ~/.gitconfig (git's config files: it, the repository's, and the worktree's, absent).
Each row: the median of 7 runs of `--repeat` calls, in microseconds per call, without `above`
(the workspace's own files only), with the ignore files above, and with git's config files
and the config check too, the three alternated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ocp_server.index.git_settings import IgnoreSources, ignore_sources
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


def _checked(ws: Path, sources: IgnoreSources, repeat: int) -> float:
    """What a search runs: the config check, then the files' check."""
    since = time.time() + 1
    started = time.perf_counter()
    for _ in range(repeat):
        if not sources.current():
            raise SystemExit("a config file changed during the run")
        ignore_files_since(ws, PATHS, since, sources.files)
        sources.written_since(since, since)
    return (time.perf_counter() - started) / repeat * 1e6


def _per_call(
    ws: Path, above: tuple[tuple[str, str], ...], sources: IgnoreSources, repeat: int
) -> tuple[float, float, float]:
    """Medians of 7 runs each, without `above`, with it, and with `sources`, the three
    alternated (the host's slow spells then fall on all)."""
    own, every, configs = [], [], []
    for _ in range(7):
        own.append(_call(ws, (), repeat))
        every.append(_call(ws, above, repeat))
        configs.append(_checked(ws, sources, repeat))
    return statistics.median(own), statistics.median(every), statistics.median(configs)


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
        (home / ".gitconfig").write_text("[user]\n\tname = bench\n")
        os.environ.update(
            HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1"
        )
        os.environ.pop("XDG_CONFIG_HOME", None)
        print(
            f"{'workspace':<26} {'files above':>11} {'+ configs':>9} {'own only µs':>12} "
            f"{'above µs':>9} {'+ configs µs':>13}"
        )
        for depth in (0, 2, 5):
            repo = Path(tmp) / f"repo{depth}"
            ws = repo.joinpath(*(f"d{i}" for i in range(depth)))
            ws.mkdir(parents=True)
            _tree(repo, ws)
            subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
            above = tuple((n, str(p)) for n, p in ignore_files_above(ws))
            sources = ignore_sources(ws)
            own, every, configs = _per_call(ws, above, sources, args.repeat)
            where = "repository top" if depth == 0 else f"{depth} folders below the top"
            print(
                f"{where:<26} {len(above):>11} {len(sources.configs):>9} {own:>12.1f} "
                f"{every:>9.1f} {configs:>13.1f}"
            )


if __name__ == "__main__":
    main()
