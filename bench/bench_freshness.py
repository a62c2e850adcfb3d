"""Freshness over MCP: how long after a change on disk a search through a real `ocp-server`
(stdio) sees it.

    uv run python bench/bench_freshness.py [--corpus click,pytest,django] [--repeats 5]

Each corpus is copied into a temporary git repository (one commit), a server is started on it
over stdio and its first search waits for the build. Then, for each case, the change is made
and the clock starts once the last file operation returned; the same search is sent again and
again (every `--poll` seconds) until its answer shows the change, or `--timeout` passes. The
figure is edit → visible, as an agent asking right after a save sees it: the watcher's
debounce, the update, and any update the search itself runs first (a cited file changed on
disk, a git HEAD moved) all count.

Cases: `edit` (a definition appended to a file), `atomic save` (the new content written to a
temporary file, renamed over the file, as editors save), `new file`, `deleted file`, `folder
renamed` (60 files, both the first and last file found under the new path and none under the
old), `git switch` (a branch changing 120 files, and back), `200 rapid writes` (one file
rewritten 200 times; visible when the search finds the last content and nothing of the 199
before). Markers are letters only (one search term each), new for every repeat.

`--second-reader` starts a second server on the same database once the first has built it
(a second IDE window: it does not hold the lease, so it only reads), and adds the edit, new
file and deleted file cases as searched through it: the first server's watcher indexes the
change, and the second one's search brings its postings up to date. `--cases` keeps the cases
whose name holds one of its comma-separated words.

`--cache` is run.py's cache (`../shared/bench/retrieval/run.py --cache DIR`, corpora/ below
it); `django` is bench/corpus.py's Django 5.1.4 (downloaded with pip on first use).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_search_latency import Server  # noqa: E402
from corpus import django_source, git_init  # noqa: E402

CACHE = Path(os.environ.get("OCP_BENCH_CACHE", "/tmp/base42-bench"))
FOLDER_FILES = 60
BRANCH_FILES = 120
RAPID_WRITES = 200
GIT_ENV = {
    "GIT_AUTHOR_NAME": "ocp-bench",
    "GIT_AUTHOR_EMAIL": "bench@ocp.invalid",
    "GIT_COMMITTER_NAME": "ocp-bench",
    "GIT_COMMITTER_EMAIL": "bench@ocp.invalid",
}


def marker() -> str:
    """A fresh search term: letters only, so the query is one term the corpus never has."""
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=12))


def definition(name: str) -> str:
    return f"\n\ndef {name}():\n    return {name!r}\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


class Probe:
    """Searches `ws` through `server` until a condition on the answers holds."""

    def __init__(self, server: Server, ws: Path, poll: float, timeout: float) -> None:
        self.server, self.ws, self.poll, self.timeout = server, ws, poll, timeout
        self.searches = 0

    def paths(self, term: str) -> dict[str, str]:
        """The files a search for `term` cites whose chunk holds it: path -> chunk text."""
        self.searches += 1
        found = self.server.search(term)["results"]
        return {r["path"]: r["text"] for r in found if term in r["text"]}

    def until(self, ok: Callable[[], bool], start: float | None = None) -> float | None:
        """Seconds from `start` (now) until `ok()` first holds; None on timeout."""
        start = time.perf_counter() if start is None else start
        while True:
            if ok():
                return time.perf_counter() - start
            if time.perf_counter() - start > self.timeout:
                return None
            time.sleep(self.poll)

    def found(self, term: str, rel: str) -> Callable[[], bool]:
        return lambda: rel in self.paths(term)

    def gone(self, term: str, rel: str) -> Callable[[], bool]:
        return lambda: rel not in self.paths(term)


def rel(ws: Path, path: Path) -> str:
    return path.relative_to(ws).as_posix()


def pick_file(ws: Path) -> Path:
    """A mid-sized Python source file of the corpus, the same each run."""
    files = sorted(
        p for p in ws.rglob("*.py") if ".git" not in p.parts and 2_000 < p.stat().st_size < 40_000
    )
    return files[len(files) // 2]


def case_edit(p: Probe, ws: Path) -> float | None:
    target, name = pick_file(ws), marker()
    with target.open("a") as f:
        f.write(definition(name))
    return p.until(p.found(name, rel(ws, target)))


def case_atomic(p: Probe, ws: Path) -> float | None:
    target, name = pick_file(ws), marker()
    tmp = target.with_name(f".{target.name}.{name}.tmp")
    tmp.write_text(target.read_text() + definition(name))
    os.replace(tmp, target)
    return p.until(p.found(name, rel(ws, target)))


def case_new(p: Probe, ws: Path) -> float | None:
    name = marker()
    target = pick_file(ws).with_name(f"{name}.py")
    target.write_text(f'"""New module."""{definition(name)}')
    return p.until(p.found(name, rel(ws, target)))


def case_deleted(p: Probe, ws: Path) -> float | None:
    name = marker()
    target = pick_file(ws).with_name(f"{name}.py")
    target.write_text(f'"""Doomed module."""{definition(name)}')
    if p.until(p.found(name, rel(ws, target))) is None:
        return None
    target.unlink()
    return p.until(p.gone(name, rel(ws, target)))


def case_folder(p: Probe, ws: Path) -> float | None:
    tag = marker()
    old, new = ws / f"{tag}old", ws / f"{tag}new"
    old.mkdir()
    names = [f"{tag}n{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(FOLDER_FILES)]
    for name in names:
        (old / f"{name}.py").write_text(f'"""Module {name}."""{definition(name)}')
    ends = [(names[0], f"{names[0]}.py"), (names[-1], f"{names[-1]}.py")]
    if p.until(lambda: all(f"{old.name}/{f}" in p.paths(n) for n, f in ends)) is None:
        return None
    os.rename(old, new)
    start = time.perf_counter()

    def moved() -> bool:
        for name, file in ends:
            cited = p.paths(name)
            if f"{new.name}/{file}" not in cited or f"{old.name}/{file}" in cited:
                return False
        return True

    took = p.until(moved, start)
    shutil.rmtree(new)
    return took


def prepare_branch(ws: Path) -> list[tuple[str, str]]:
    """A branch `fresh` changing BRANCH_FILES files (a definition appended to each); the work
    tree is back on the first branch. Returns the (marker, path) of the first and last."""
    files = sorted(
        p for p in ws.rglob("*.py") if ".git" not in p.parts and p.stat().st_size < 60_000
    )[:BRANCH_FILES]
    base = subprocess.run(
        ["git", "-C", str(ws), "rev-parse", "--abbrev-ref", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    git(ws, "checkout", "-q", "-b", "fresh")
    ends = []
    for i, path in enumerate(files):
        name = f"zqbranch{chr(97 + i // 26)}{chr(97 + i % 26)}"
        with path.open("a") as f:
            f.write(definition(name))
        if i in (0, len(files) - 1):
            ends.append((name, rel(ws, path)))
    git(ws, "commit", "-q", "-am", "fresh branch")
    git(ws, "checkout", "-q", base)
    return ends


def case_switch(p: Probe, ws: Path, ends: list[tuple[str, str]], to: str) -> float | None:
    git(ws, "checkout", "-q", to)
    start = time.perf_counter()
    if to == "fresh":
        return p.until(lambda: all(p.found(n, f)() for n, f in ends), start)
    return p.until(lambda: all(p.gone(n, f)() for n, f in ends), start)


def case_rapid(p: Probe, ws: Path) -> float | None:
    tag = marker()
    target = pick_file(ws).with_name(f"{tag}.py")
    names = [f"{tag}w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(RAPID_WRITES)]
    target.write_text(f'"""Rapid."""{definition(tag)}')
    if p.until(p.found(tag, rel(ws, target))) is None:
        return None
    for name in names:
        target.write_text(f'"""Rapid."""{definition(tag)}{definition(name)}')
    start = time.perf_counter()
    path, last, before = rel(ws, target), names[-1], names[-2]

    def latest() -> bool:  # each definition is a chunk of its own
        return path in p.paths(last) and path not in p.paths(before)

    took = p.until(latest, start)
    target.unlink()
    return took


def corpus_source(name: str, cache: Path) -> Path:
    if name == "django":
        return django_source()
    src = cache / "corpora" / name
    if not src.is_dir():
        raise SystemExit(
            f"no corpus at {src}: run `uv run python ../shared/bench/retrieval/run.py "
            f"--cmd .venv/bin/ocp-server --cache {cache}` first"
        )
    return src


def measure(name: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ocp-fresh-") as tmp:
        ws = Path(tmp) / "ws"
        shutil.copytree(corpus_source(name, args.cache), ws, symlinks=True)
        shutil.rmtree(ws / ".git", ignore_errors=True)
        git_init(ws)
        ends = prepare_branch(ws)
        (Path(tmp) / "db").mkdir()
        built = time.perf_counter()
        server = Server(args.cmd, ws, Path(tmp) / "db" / "ocp.db")
        reader: Server | None = None
        try:
            probe = Probe(server, ws, args.poll, args.timeout)
            while (index := server.search("def")["index"])["building"]:
                time.sleep(0.5)  # a first search answers from the part built so far
            files = index["files"]
            row: dict[str, Any] = {
                "corpus": f"{name} ({files} files)",
                "build": time.perf_counter() - built,
            }
            time.sleep(2)  # the watcher's catch-up update after the build
            cases: dict[str, Callable[[], float | None]] = {
                "edit (new definition)": lambda: case_edit(probe, ws),
                "atomic save (temp + rename)": lambda: case_atomic(probe, ws),
                "new file": lambda: case_new(probe, ws),
                "deleted file": lambda: case_deleted(probe, ws),
                f"folder renamed ({FOLDER_FILES} files)": lambda: case_folder(probe, ws),
                f"{RAPID_WRITES} rapid writes, last seen": lambda: case_rapid(probe, ws),
            }
            if args.second_reader:
                reader = Server(args.cmd, ws, Path(tmp) / "db" / "ocp.db")
                second = Probe(reader, ws, args.poll, args.timeout)
                reader.search("def")  # its first load of the postings
                cases |= {
                    "second server: edit": lambda: case_edit(second, ws),
                    "second server: new file": lambda: case_new(second, ws),
                    "second server: deleted file": lambda: case_deleted(second, ws),
                }
            wanted = [w.strip() for w in args.cases.split(",") if w.strip()]
            for case, run in cases.items():
                if wanted and not any(w in case for w in wanted):
                    continue
                row[case] = [run() for _ in range(args.repeats)]
                time.sleep(args.settle)
                print(f"  {name}: {case}: {fmt(row[case])}", file=sys.stderr)
            there, back = f"git switch ({BRANCH_FILES} files)", "git switch back"
            if not wanted or any(w in there for w in wanted):
                git(ws, "checkout", "-q", "--", ".")  # the edits above, or git refuses to switch
                time.sleep(args.settle)
                row[there], row[back] = [], []
                for _ in range(args.repeats):  # to the branch and back, in turns
                    row[there].append(case_switch(probe, ws, ends, "fresh"))
                    time.sleep(args.settle)
                    row[back].append(case_switch(probe, ws, ends, "-"))
                    time.sleep(args.settle)
                print(f"  {name}: git: {fmt(row[there])}, back {fmt(row[back])}", file=sys.stderr)
            row["searches"] = probe.searches + (second.searches if reader else 0)
        finally:
            if reader is not None:
                reader.close()
            server.close()
        return row


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * q)))]


def fmt(times: list[float | None]) -> str:
    ok = [t for t in times if t is not None]
    missed = len(times) - len(ok)
    if not ok:
        return f"never ({missed} timeouts)"
    text = f"{_p(ok, 0.5) * 1000:,.0f} / {_p(ok, 0.95) * 1000:,.0f}"
    return text + (f" ({missed} timeouts)" if missed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="click,pytest", help="click, pytest, …, django")
    parser.add_argument("--cmd", default=str(ROOT / ".venv" / "bin" / "ocp-server"))
    parser.add_argument("--cache", type=Path, default=CACHE, help="run.py's --cache")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between searches")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per change")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between cases")
    parser.add_argument(
        "--second-reader", action="store_true", help="also search through a second server"
    )
    parser.add_argument("--cases", default="", help="only cases whose name holds these words")
    args = parser.parse_args()
    random.seed(42)
    rows = [measure(name.strip(), args) for name in args.corpus.split(",") if name.strip()]
    table = Table(
        title=f"edit → visible over MCP, ms p50 / p95 of {args.repeats} (poll {args.poll}s)"
    )
    table.add_column("case")
    for r in rows:
        table.add_column(r["corpus"], justify="right")
    table.add_row("first build + first search", *(f"{r['build']:.1f} s" for r in rows))
    for case in [k for k in rows[0] if k not in ("corpus", "build", "searches")]:
        table.add_row(case, *(fmt(r[case]) for r in rows))
    table.add_row("searches sent", *(str(r["searches"]) for r in rows))
    Console(width=150).print(table)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
