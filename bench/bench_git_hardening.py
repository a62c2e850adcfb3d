"""What OCP's git hardening (ocp_server/git_commands.py) costs on a large work tree.

    uv run python bench/bench_git_hardening.py [--files 100000] [--rounds 15]

Builds (once, in bench/.cache/) a git work tree of `--files` tracked files in nested folders
plus 2% untracked ones, set up as a user who tuned a big repository would: `core.fsmonitor`
names a hook that answers at once that nothing changed (the best a watchman hook can do) and
`core.untrackedCache=true`, with both index extensions written by `git status`. On Linux git
2.39 has no built-in fsmonitor daemon (`core.fsmonitor=true` is "not supported on this
platform"), so a hook is the only fsmonitor there is.

Then, interleaved round by round, the median and p90 wall time of OCP's two index-reading
commands: `ls-files` (the index's file list) and `diff --cached -M` (staged renames), each run
plainly (the hook runs) and as OCP runs it (`-c core.fsmonitor=` and the rest), and what the
config guard (git_config_guard.py: the repository's, the user's and the system's config
files, and what they name, looked at before each command) adds to each command, per call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ocp_server.git_commands import git_command, git_env
from ocp_server.git_config_guard import check_config

ROOT = Path(__file__).resolve().parent.parent
HOOK = "#!/bin/sh\n# fsmonitor protocol 2: the token back, then no paths: nothing changed\n"
HOOK += "printf 'ocp-bench-token\\0'\n"
LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name", "-t")
RENAMES = ("diff", "--cached", "--relative", "-M", "--name-status", "--diff-filter=R", "-z")


def build(files: int) -> Path:
    root = ROOT / "bench" / ".cache" / f"git-hardening-{files}"
    if (root / ".git" / "index").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        folder = root / f"pkg{i // 5000}" / f"mod{i // 100 % 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "files"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    for i in range(files // 50):  # untracked: ls-files --others walks for them
        (root / f"pkg{i % ((files - 1) // 5000 + 1)}" / f"new{i}.py").write_text("x = 1\n")
    hook = root / ".git" / "fsmonitor-hook"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(hook)], cwd=root, check=True)
    subprocess.run(["git", "config", "core.untrackedCache", "true"], cwd=root, check=True)
    for _ in range(2):  # writes the fsmonitor and untracked-cache extensions
        subprocess.run(["git", "status", "-s"], cwd=root, check=True, capture_output=True)
    return root


def timed(argv: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    root = build(args.files)
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    plain_env = dict(os.environ)
    variants = {}
    for name, command in (("ls-files", LS_FILES), ("diff --cached -M", RENAMES)):
        variants[f"{name}, plain (hook runs)"] = (["git", "-C", str(root), *command], plain_env)
        variants[f"{name}, as OCP runs it"] = (git_command(root, *command), git_env())
    times: dict[str, list[float]] = {name: [] for name in variants}
    for argv, env in variants.values():
        timed(argv, env)  # warm the page cache
    guard = "the config guard, per command (1,000 calls a round)"
    times[guard] = []
    check_config(root)  # what each config file names is asked of git once, then kept
    for _ in range(args.rounds):
        for name, (argv, env) in variants.items():
            times[name].append(timed(argv, env))
        began = time.perf_counter()
        for _ in range(1000):
            check_config(root)
        times[guard].append((time.perf_counter() - began) / 1000)
    table = Table(title=f"{args.files:,} tracked files, {version.strip()}, {args.rounds} rounds")
    for column in ("command", "median ms", "p90 ms"):  # the guard's in ms too: 0.25 is 250 µs
        table.add_column(column, justify="left" if column == "command" else "right")
    for name, values in times.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        digits = 3 if name == guard else 1
        median, p90 = statistics.median(values) * 1000, p90 * 1000
        table.add_row(name, f"{median:.{digits}f}", f"{p90:.{digits}f}")
    Console().print(table)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
