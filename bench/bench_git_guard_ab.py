"""The config guard's cost per git command (git_config_guard.check_config), two checkouts
interleaved: each round runs one process per checkout's Python, which times 400 calls in a
small repository (the guard's cost does not depend on how many files it tracks), or in
`--repo` (the folders it lists, objects/pack among them, grow with a repository's history).

    uv run python bench/bench_git_guard_ab.py --a /work/main/.venv/bin/python \\
        --b .venv/bin/python [--rounds 7] [--repo PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

_TIMED = """
import statistics, sys, time
from pathlib import Path
from ocp_server.git_config_guard import check_config
ws = Path(sys.argv[1])
check_config(ws)
times = []
for _ in range(400):
    t = time.perf_counter()
    check_config(ws)
    times.append(time.perf_counter() - t)
print(statistics.median(times) * 1e6)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repo", type=Path, help="an existing repository to time it in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = args.repo or Path(tmp) / "ws"
        commands = (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"])
        if args.repo is None:
            (ws / "src").mkdir(parents=True)
            (ws / "src" / "app.py").write_text("x = 1\n")
        for command in commands if args.repo is None else ():
            subprocess.run(
                ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", *command],
                cwd=ws,
                check=True,
                capture_output=True,
            )
        found: dict[str, list[float]] = {"a": [], "b": []}
        for _ in range(args.rounds):
            for name in ("a", "b"):
                out = subprocess.run(
                    [getattr(args, name), "-c", _TIMED, str(ws)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                found[name].append(float(out))
        for name, python in (("a", args.a), ("b", args.b)):
            times = found[name]
            print(f"{name} {python}: median of round medians {statistics.median(times):.0f} us")


if __name__ == "__main__":
    main()
