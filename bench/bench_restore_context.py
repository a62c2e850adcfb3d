"""The cost of a restore checking many citations in edited files, with the lines around each
cited block compared to those last confirmed (checking._shifted, since 8403a997).

    uv run python bench/bench_restore_context.py [--files 40] [--rounds 3] [--runs 3]
        [--against REV]

A sample of FILES files (constants outside any definition and short functions) gets one memory
per fifth line, each citing that line alone (`path:n-n`). Then, ROUNDS times each, the files
change and a restore checks every citation (its CPU time, this process's):
- `appended`: a line is added at the end of each file: the lines around each are as kept, the
  comparison is all the new check does;
- `beside` (after `appended`): the line above each cited line is edited (a new text each
  round): every cited line is unchanged where it was, the line below it as kept: it stays
  where it is, looked for at one other place only (as many lines from the file's end as it
  was; from 8403a997 to a37ba80c the file or the cited name's definitions were searched);
- `around` (after `beside`): the lines above and below each cited line are edited: neither
  line around is as kept, so the cited name's definitions, or the file for a line outside
  any, are searched for one other place with both (none has: each stays valid).
Reported: citations checked per second of CPU (median of the rounds), and how many came back
valid, moved and stale (the same on both versions, or a version behaves differently).
`--against REV`: REV's sources (`git archive REV ocp_server/src`) first on PYTHONPATH in turn
with this checkout's, one process a run, the order swapped every run. A shared machine: say the
load beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

SCENARIOS = ("appended", "beside", "around")  # the lines around as saved first


def _sample(i: int) -> list[str]:
    """Constants outside any definition, then short functions: 400-odd lines."""
    lines = [f'"""Sample module {i}."""', "", "import os", ""]
    lines += [f"LIMIT_{i}_{k} = {k * 7 + i}" for k in range(100)]
    for j in range(30):
        lines += ["", "", f"def step_{i}_{j}(x: int) -> int:"]
        lines += [f"    v{k} = x * {k + j} + {i}" for k in range(8)]
        lines += ["    return v7"]
    return lines


def _cited(lines: list[str]) -> list[int]:
    """Every fifth line (1-based) that is code, with code on the line above it."""
    return [
        n
        for n in range(6, len(lines) + 1, 5)
        if lines[n - 1].strip()
        and not lines[n - 1].lstrip().startswith("def ")
        and lines[n - 2].strip()
        and not lines[n - 2].lstrip().startswith("def ")
    ]


async def one(tmp: Path, files: int, rounds: int) -> dict[str, Any]:
    from ocp_server.db import connect
    from ocp_server.index.workspace import WorkspaceIndex
    from ocp_server.memory import MemoryStore, NoteIn

    root = tmp / "repo"
    (root / "pkg").mkdir(parents=True)
    texts = {f"pkg/m{i}.py": _sample(i) for i in range(files)}
    for rel, lines in texts.items():
        (root / rel).write_text("\n".join(lines) + "\n", "utf-8")
    index = await WorkspaceIndex.open(root, tmp / "ocp.db")
    await index.update()
    conn = await connect(tmp / "ocp.db")
    memory = MemoryStore(conn, workspace=root, ttl_days=0)
    session = await memory.start_session(str(root), "bench")
    cites = [f"{rel}:{n}-{n}" for rel, lines in texts.items() for n in _cited(lines)]
    for k in range(0, len(cites), 100):  # a save takes at most 100 notes
        notes = [NoteIn(f"line {c} matters", (c,)) for c in cites[k : k + 100]]
        await memory.save(session, notes=notes)
    out: dict[str, Any] = {"citations": len(cites)}
    try:
        for scenario in SCENARIOS:
            cpu: list[float] = []
            statuses: dict[str, int] = {}
            for r in range(rounds):
                for rel, lines in texts.items():
                    now = list(lines)
                    if scenario in ("beside", "around"):
                        for n in _cited(lines):
                            now[n - 2] = f"{now[n - 2]}  # edited {r}"
                    if scenario == "around":
                        for n in _cited(lines):
                            below = next((i for i in range(n, len(now)) if now[i].strip()), n)
                            if below < len(now):
                                now[below] = f"{now[below]}  # edited {r}"
                    else:
                        now += [f"# appended {r}"]
                    (root / rel).write_text("\n".join(now) + "\n", "utf-8")
                await index.update()
                c0 = time.process_time()
                brief = await memory.restore(max_tokens=10**8)
                cpu.append(time.process_time() - c0)
                statuses = {"valid": 0, "moved": 0, "stale": len(brief.stale)}
                for note in brief.notes:
                    for c in note.citations:
                        statuses[c.status] = statuses.get(c.status, 0) + 1
            out[scenario] = {"cpu": cpu, "statuses": statuses}
    finally:
        await conn.close()
        await index.close()
    return out


def _interleaved(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(
            ["git", "archive", args.against, "ocp_server/src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        sides = {args.against: str(Path(old) / "ocp_server" / "src"), "this": ""}
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for n in range(args.runs):
            for name in list(sides)[:: 1 if n % 2 == 0 else -1]:
                env = {**os.environ, "PYTHONPATH": sides[name]}
                cmd = [sys.executable, __file__, "--files", str(args.files)]
                cmd += ["--rounds", str(args.rounds), "--one"]
                run = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
                found[name].append(json.loads(run.stdout))
                print(f"run {n + 1}: {name} done", file=sys.stderr)
    return found


def _table(found: dict[str, list[dict[str, Any]]], load: str) -> None:
    table = Table(title=f"restore checking every citation in edited files (load {load})")
    table.add_column("version")
    table.add_column("scenario")
    table.add_column("citations", justify="right")
    table.add_column("checked per CPU second, median (each run's)", justify="right")
    table.add_column("valid / moved / stale")
    for name, runs in found.items():
        for scenario in SCENARIOS:
            per = [r["citations"] / statistics.median(r[scenario]["cpu"]) for r in runs]
            s = runs[-1][scenario]["statuses"]
            table.add_row(
                name,
                scenario,
                f"{runs[0]['citations']:,}",
                f"{statistics.median(per):,.0f} ({', '.join(f'{p:,.0f}' for p in per)})",
                f"{s['valid']} / {s['moved']} / {s['stale']}",
            )
    Console(width=140).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="restores of each scenario a run")
    parser.add_argument("--runs", type=int, default=3, help="processes of each version")
    parser.add_argument("--against", metavar="REV", help="interleaved with REV's sources")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one run, as JSON on stdout
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(one(Path(tmp), args.files, args.rounds))))
        return
    load = f"{os.getloadavg()[0]:.0f}"
    if args.against:
        found = _interleaved(args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            found = {"this": [asyncio.run(one(Path(tmp), args.files, args.rounds))]}
    _table(found, f"{load} to {os.getloadavg()[0]:.0f}")


if __name__ == "__main__":
    main()
