"""Workspace index benchmark on the Django 5.1.4 source, on this repository, and on a large
monorepo (Django plus the six corpora of ../shared/bench/retrieval, 1.43M indexed lines).

    uv run python bench/bench_index.py [--corpus django|self|large|both]

Reports cold index time (files/s, MB/s), database size against the indexed source, no-change
and one-file-edit re-index times, the time to read the postings into memory (cold, and again
after an edit), search latency p50/p95 over a fixed query list (the postings already in
memory: the steady state of a running server), the same over MCP through a real
`ocp-server` (with the SDK client, `ocp-client`, and with a plain client that only parses each
answer's line: the server's part), peak RSS, ripgrep's time for the same literal terms as a
reference, and retrieval quality on the Django question set (bench/data/django_questions.jsonl):
MRR@10 and Recall@5, where a hit is a result in the answer's file whose lines overlap the
answer's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TypedDict

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search_latency import Server  # noqa: E402
from corpus import django_source, git_init  # noqa: E402

from ocp_client import OCPClient  # noqa: E402
from ocp_server.index.workspace import WorkspaceIndex  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]


class Question(TypedDict):
    """One line of django_questions.jsonl (the fields this benchmark reads)."""

    question: str
    path: str
    start_line: int
    end_line: int


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def measure(name: str, workspace: Path, questions: list[Question] | None) -> dict[str, str]:
    tmp = Path(tempfile.mkdtemp(prefix="ocp-bench-"))
    db_path = tmp / "ocp.db"
    row: dict[str, str] = {"corpus": name}
    index = await WorkspaceIndex.open(workspace, db_path)
    try:
        t0 = time.perf_counter()
        cold = await index.update()
        cold_s = time.perf_counter() - t0
        assert cold is not None
        source_bytes = next(
            iter(
                await index.db.execute_fetchall(
                    "SELECT coalesce(sum(size), 0) FROM files WHERE skip_reason IS NULL"
                )
            )
        )[0]
        await index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db_bytes = index.db_size()
        row |= {
            "files": f"{cold.files:,}",
            "chunks": f"{cold.chunks:,}",
            "source MB": f"{source_bytes / 1e6:.1f}",
            "cold index s": f"{cold_s:.2f}",
            "files/s": f"{cold.files / cold_s:,.0f}",
            "MB/s": f"{source_bytes / 1e6 / cold_s:.2f}",
            "DB MB": f"{db_bytes / 1e6:.1f}",
            "DB / source": f"{db_bytes / max(source_bytes, 1):.2f}x",
        }
        row["lines"] = f"{await _indexed_lines(index):,}"
        t0 = time.perf_counter()
        await index.snapshot()
        row["postings load s"] = f"{time.perf_counter() - t0:.2f}"
        t0 = time.perf_counter()
        again = await index.update()
        row["no-change s"] = f"{time.perf_counter() - t0:.3f}"
        assert again is not None and again.changed == 0

        target = max(
            (workspace / p for p in _sample_paths(workspace, index)), key=lambda p: p.stat().st_size
        )
        original = target.read_text("utf-8")
        target.write_text(original + "\n# ocp bench edit\n", "utf-8")
        try:
            t0 = time.perf_counter()
            edited = await index.update()
            row["1-file edit ms"] = f"{(time.perf_counter() - t0) * 1000:.0f}"
            assert edited is not None and edited.changed == 1
            t0 = time.perf_counter()
            await index.snapshot()
            row["postings reload ms"] = f"{(time.perf_counter() - t0) * 1000:.0f}"
        finally:
            target.write_text(original, "utf-8")
            await index.update()

        queries = [q for q in (DATA / "queries_fixed.txt").read_text().splitlines() if q.strip()]
        for q in queries[:5]:
            await index.search(q, refresh=False)
        times = []
        for _ in range(3):
            for q in queries:
                t0 = time.perf_counter()
                await index.search(q, refresh=False)
                times.append((time.perf_counter() - t0) * 1000)
        row["search p50 ms"] = f"{statistics.median(times):.1f}"
        row["search p95 ms"] = f"{_percentile(times, 0.95):.1f}"

        row |= await _over_mcp(workspace, db_path, queries)

        literals = [q for q in (DATA / "literals.txt").read_text().splitlines() if q.strip()]
        if shutil.which("rg"):
            rg = []
            for lit in literals:
                t0 = time.perf_counter()
                subprocess.run(["rg", "-l", "-w", lit, str(workspace)], capture_output=True)
                rg.append((time.perf_counter() - t0) * 1000)
            ocp = []
            for lit in literals:
                t0 = time.perf_counter()
                await index.search(lit, refresh=False)
                ocp.append((time.perf_counter() - t0) * 1000)
            row["rg p50 ms (literals)"] = f"{statistics.median(rg):.1f}"
            row["ocp p50 ms (literals)"] = f"{statistics.median(ocp):.1f}"

        if questions:
            rr, r5 = [], []
            for question in questions:
                results = (await index.search(question["question"], k=10, refresh=False)).results
                rank = next(
                    (
                        i + 1
                        for i, r in enumerate(results)
                        if r.path == question["path"]
                        and r.start_line <= question["end_line"]
                        and r.end_line >= question["start_line"]
                    ),
                    None,
                )
                rr.append(1 / rank if rank else 0.0)
                r5.append(1.0 if rank and rank <= 5 else 0.0)
            row["questions"] = str(len(questions))
            row["MRR@10"] = f"{sum(rr) / len(rr):.3f}"
            row["Recall@5"] = f"{sum(r5) / len(r5):.3f}"
    finally:
        await index.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return row


async def _over_mcp(workspace: Path, db_path: Path, queries: list[str]) -> dict[str, str]:
    """The same queries through a real `ocp-server` over stdio (the SDK client), k=20: what an
    agent waits for, redaction and the round trip included."""
    env = {"OCP_WORKSPACE": str(workspace), "OCP_DB_PATH": str(db_path)}
    async with OCPClient(env=env) as client:
        async with asyncio.timeout(120):
            while (await client.search(queries[0])).index.building:
                await asyncio.sleep(0.2)
        for q in queries[:5]:
            await client.search(q, k=20)
        times = []
        for _ in range(3):
            for q in queries:
                t0 = time.perf_counter()
                await client.search(q, k=20)
                times.append((time.perf_counter() - t0) * 1000)
    # The server's part alone: a client that only parses the answer's line (the SDK client
    # validates a ~100 KB answer three times, which costs more than the server's work).
    server = Server(str(Path(sys.executable).parent / "ocp-server"), workspace, db_path)
    try:
        for q in queries[:5]:
            server.search(q)
        plain = []
        for _ in range(3):
            for q in queries:
                t0 = time.perf_counter()
                server.search(q)
                plain.append((time.perf_counter() - t0) * 1000)
    finally:
        server.close()
    return {
        "MCP search p50 ms (k=20)": f"{statistics.median(times):.1f}",
        "MCP search p95 ms (k=20)": f"{_percentile(times, 0.95):.1f}",
        "MCP search p50 ms, plain client": f"{statistics.median(plain):.1f}",
        "MCP search p95 ms, plain client": f"{_percentile(plain, 0.95):.1f}",
    }


async def _indexed_lines(index: WorkspaceIndex) -> int:
    rows = await index.db.execute_fetchall(
        "SELECT coalesce(sum(m), 0) FROM (SELECT max(c.end_line) AS m FROM chunks c "
        "GROUP BY c.file_id)"
    )
    return int(next(iter(rows))[0])


def _sample_paths(workspace: Path, index: WorkspaceIndex) -> list[str]:
    return [
        p
        for p in (
            "django/db/models/query.py",
            "ocp_server/src/ocp_server/index/indexer.py",
            "Django-5.1.4/django/db/models/query.py",
        )
        if (workspace / p).exists()
    ]


def large_monorepo() -> Path:
    """Django and the six retrieval corpora side by side in one git work tree."""
    root = ROOT / "bench" / ".cache" / "large-monorepo"
    if not (root / ".git").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        shutil.copytree(django_source(), root / "Django-5.1.4", symlinks=True)
        bench = ROOT.parent / "shared" / "bench" / "retrieval" / "corpora"
        if not bench.is_dir():
            raise SystemExit(f"--corpus large needs the retrieval corpora in {bench}")
        for archive in sorted(bench.glob("*.tar.gz")):
            with tarfile.open(archive) as tar:
                tar.extractall(root / archive.name.removesuffix(".tar.gz"), filter="data")
        git_init(root)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description="OCP index benchmark")
    parser.add_argument("--corpus", choices=["django", "self", "large", "both"], default="both")
    args = parser.parse_args()
    rows = []
    if args.corpus in ("django", "both"):
        django = git_init(django_source())
        questions: list[Question] = [
            json.loads(line)
            for line in (DATA / "django_questions.jsonl").read_text().splitlines()
            if line.strip()
        ]
        rows.append(asyncio.run(measure("Django 5.1.4", django, questions)))
    if args.corpus in ("self", "both"):
        rows.append(asyncio.run(measure("this repo", ROOT, None)))
    if args.corpus == "large":
        rows.append(asyncio.run(measure("monorepo (Django + 6 corpora)", large_monorepo(), None)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = Table(title=f"OCP index benchmark (peak RSS {peak:.0f} MB)")
    table.add_column("metric")
    for r in rows:
        table.add_column(r["corpus"], justify="right")
    keys = [k for k in rows[0] if k != "corpus"]
    for r in rows[1:]:
        keys += [k for k in r if k not in keys and k != "corpus"]
    for k in keys:
        table.add_row(k, *(r.get(k, "-") for r in rows))
    Console().print(table)


if __name__ == "__main__":
    main()
