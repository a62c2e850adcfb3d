"""Search latency over MCP, A/B: two `ocp-server` commands side by side on the retrieval
benchmark's development corpora, their queries alternated between the two servers.

    uv run python bench/bench_search_latency.py --a /work/main/.venv/bin/ocp-server \
        --b .venv/bin/ocp-server [--rounds 3] [--corpus click,ripgrep] [--mcp-only]

It reuses the indexes `../shared/bench/retrieval/run.py` built (under its cache, the
default `~/.cache/ocp-bench/retrieval-dev`, or OCP_BENCH_CACHE); run that once first.
`--corpus large` is bench_index.py's monorepo (Django and the six corpora, about 1.4M lines;
`bench_index.py --corpus large` unpacks it) with bench/data/queries_fixed.txt; its index is
built once into the cache with `--b`'s `index` command. Each server gets its own
copy of a corpus's database. The client is a plain JSON-RPC client over the servers' stdio,
as run.py's is: it sends `{query, k: 20}` to `ocp_context_search` and times the round trip.
Interleaving the two servers' queries puts both under the same machine load, so the
difference between the columns is the change, not the neighbours. It also checks that both
servers return identical results (citations, scores, texts) for every query. The last two
columns are each server's first query, asked as soon as it answered `initialize` (the app
still loading, the index's postings read on it) and before the other server starts: cold,
not in the warm columns. `--filters` sends each query with a `path_glob` or `language`
filter or both, in turn (the corpus's language, its source files' extension, its largest
top folder), the same four shapes over and over as an agent's session repeats its filters.
With
`--mcp-only` each server answers a query it was asked before from a memo (all queries are asked
once first), so the columns are what the MCP path costs apart from the search.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the A/B itself runs servers, not this checkout's code
    from ocp_server.app import AppState
    from ocp_server.settings import ServerSettings
    from ocp_server.workspaces import Workspace

ROOT = Path(__file__).resolve().parents[1]
RETRIEVAL = ROOT.parent / "shared" / "bench" / "retrieval"
CORPORA = ("click", "pytest", "hono", "cobra", "ripgrep", "express")
#: Where run.py keeps its corpora and indexes (its own default).
CACHE = Path(os.environ.get("OCP_BENCH_CACHE", "~/.cache/ocp-bench/retrieval-dev"))
K = 20


# `--mcp-only`: the server with its search answered from a memo once a query was asked, so
# what a call costs is the MCP path alone (framing, validation, the result's two shapes, JSON,
# the pipes). A measurement harness only: the memo lives in this child process.
MEMO_SERVER = """
import sys
import ocp_server.app as app
from ocp_server.cli import main
def memo(name):  # the tool's method: search_answer, or search in servers before it
    search, seen = getattr(app.AppState, name), {}
    async def answer(self, ws, args):
        key = args.model_dump_json()
        if key not in seen:
            seen[key] = await search(self, ws, args)
        return seen[key]
    setattr(app.AppState, name, answer)
for name in ("search", "search_answer"):
    if hasattr(app.AppState, name):
        memo(name)
sys.argv[0] = "ocp-server"
main()
"""


class Server:
    """One `ocp-server` over stdio, spoken to line by line."""

    def __init__(
        self, cmd: str, root: Path, db: Path, *, memo: bool = False, code: str | None = None
    ) -> None:
        """`memo`: the search answered from a memo (MEMO_SERVER); `code`: this Python code
        run instead of the command (it starts the server itself)."""
        env = {**os.environ, "OCP_WORKSPACE": str(root), "OCP_DB_PATH": str(db)}
        argv = [str(Path(cmd).resolve()) if os.sep in cmd else cmd]
        if memo and code is None:
            code = MEMO_SERVER
        if code is not None:  # the Python of the command's environment (its .venv/bin)
            argv = [str(Path(argv[0]).parent / "python"), "-c", code]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=db.parent,
            text=True,
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench-search-latency", "version": "1"},
            },
        )
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized", "params": {}})

    def _send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> Any:
        rid = next(self._ids)
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            if msg.get("id") == rid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
        raise RuntimeError("the server exited")

    def search(self, query: str, filters: dict[str, str] | None = None) -> dict[str, Any]:
        arguments = {"query": query, "k": K, **(filters or {})}
        result = self.request("tools/call", {"name": "ocp_context_search", "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(result["content"][0]["text"])
        return dict(result["structuredContent"])

    def cpu_seconds(self) -> float:
        """CPU time the server process used so far, all threads (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


LARGE = ROOT / "bench" / ".cache" / "large-monorepo"


def _queries(name: str) -> list[str]:
    if name == "large":
        text = (ROOT / "bench" / "data" / "queries_fixed.txt").read_text()
        return [q for q in text.splitlines() if q.strip()]
    out = []
    for qset in ("commits", "docstrings"):
        path = RETRIEVAL / "queries" / f"{name}.{qset}.jsonl"
        out += [json.loads(line)["query"] for line in path.read_text().splitlines() if line]
    return out


def _filters(name: str, root: Path, n: int) -> list[dict[str, str] | None]:
    """Per query (`--filters`): the filters it is sent with, four shapes in turn."""
    manifest = json.loads((RETRIEVAL / "manifest.json").read_text())
    corpus = next(c for c in manifest["corpora"] if c["name"] == name)
    language, ext = corpus["language"], corpus["source_ext"][0]
    # the top folder holding the most source files
    counts = {
        d.name: sum(1 for _ in d.rglob(f"*{ext}"))
        for d in root.iterdir()
        if d.is_dir() and not d.name.startswith(".")
    }
    top = max(counts, key=lambda d: counts[d])
    shapes: list[dict[str, str] | None] = [
        {"language": language},
        {"path_glob": f"**/*{ext}"},
        {"path_glob": f"{top}/"},
        {"language": language, "path_glob": f"{top}/**"},
    ]
    return [shapes[i % len(shapes)] for i in range(n)]


@asynccontextmanager
async def index_copy(
    root: Path, built: Path
) -> AsyncIterator[tuple[ServerSettings, AppState, Workspace]]:
    """This checkout's AppState over a copy of the index run.py built for `root` (the cache is
    never written), with the workspace open and not watched: (settings, state, workspace)."""
    from ocp_server.app import AppState
    from ocp_server.settings import ServerSettings, resolve_workspace

    with tempfile.TemporaryDirectory(prefix="ocp-bench-") as tmp:
        db = Path(tmp) / "ocp.db"
        shutil.copy(built, db)
        os.environ["OCP_DB_PATH"] = str(db)
        os.environ["OCP_WORKSPACE"] = str(root)
        settings = ServerSettings.from_env()
        state = await AppState.create(settings)
        try:
            ws = await state.workspace(resolve_workspace(settings, None, None), watch=False)
            yield settings, state, ws
        finally:
            await state.aclose()


#: What a server's environment reports as its redaction rules (index/clean_text.py).
_DIGEST_PROBE = "from ocp_server.index.clean_text import RULES_DIGEST; print(RULES_DIGEST)"


def rules_digest(cmd: str) -> str | None:
    """The redaction rules' digest of the checkout an `ocp-server` command runs (the Python
    beside it, as `--mcp-only`'s server uses), or None when it cannot be asked."""
    python = Path(shutil.which(cmd) or cmd).parent / "python"
    try:
        done = subprocess.run(
            [str(python), "-c", _DIGEST_PROBE], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def index_digest(db: Path) -> str | None:
    """The redaction rules the chunk flags of `db` were found with (None: none recorded)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT value FROM meta WHERE key = ?", ("redaction_rules",))
        found = rows.fetchall()
    finally:
        conn.close()
    return str(found[0][0]) if found else None


def stale_rules(label: str, server: str | None, db: Path) -> str | None:
    """A warning when `db` holds chunk flags found under other redaction rules than its
    server's (`server`, its RULES_DIGEST): the server then redacts every chunk it returns
    until a background pass has flagged them again, and a search costs more than on a fresh
    index (ripgrep, each query once in process: 4.8 against 3.9 ms of CPU). A main that moved
    on since run.py built the cache does this to A. run.py builds the indexes anew."""
    if server is None or index_digest(db) == server:
        return None
    return (
        f"warning: {label}'s server has other redaction rules than {db} was built under: "
        "its searches redact every chunk again (slower than on a fresh index); rebuild the "
        "cache with run.py from a checkout with its rules (rebased on it)"
    )


def shared_index_rules(digests: dict[str, str | None], shared: bool) -> str | None:
    """A warning when A and B read the same indexes (`shared`: no `--b-cache` of B's own) but
    have different redaction rules: at most one of them matches those indexes' flags. With
    an index of each server's own, `stale_rules` checks each against its server instead."""
    if not shared or None in digests.values() or digests["a"] == digests["b"]:
        return None
    return (
        "warning: A and B have different redaction rules (RULES_DIGEST) and read the same "
        "indexes: at most one of them matches their flags, and the other redacts every chunk "
        "again (build B's with run.py --cmd B --cache DIR, and pass --b-cache DIR)"
    )


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("citation", "score", "text", "symbol", "matched_terms", "redactions")
    return [[h.get(k) for k in keys] for h in a["results"]] == [
        [h.get(k) for k in keys] for h in b["results"]
    ] and a.get("query") == b.get("query")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="the first ocp-server command")
    parser.add_argument("--b", required=True, help="the second ocp-server command")
    parser.add_argument("--rounds", type=int, default=3, help="passes over each query list")
    parser.add_argument("--corpus", default=",".join(CORPORA))
    parser.add_argument(
        "--mcp-only",
        action="store_true",
        help="answer each search from a memo after its first time (every query is asked once "
        "before timing): the columns are then the MCP path alone, without the search",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
    )
    parser.add_argument(
        "--filters",
        action="store_true",
        help="send each query with a path_glob or language filter or both, in turn",
    )
    parser.add_argument(
        "--b-cache",
        type=Path,
        help="B's indexes from this run.py cache (run.py --cmd B --cache DIR), for a change to "
        "how an index is built or stored (default: --cache, the same index for both)",
    )
    args = parser.parse_args()
    cache = args.cache.expanduser()
    b_cache = args.b_cache.expanduser() if args.b_cache else cache
    digests = {label: rules_digest(getattr(args, label)) for label in ("a", "b")}
    if warning := shared_index_rules(digests, b_cache.resolve() == cache.resolve()):
        print(warning, file=sys.stderr)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    print(
        "| corpus | queries | A p50 ms | A p95 ms | A CPU ms/query "
        "| B p50 ms | B p95 ms | B CPU ms/query | same results | A first ms | B first ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.corpus.split(","):
        root = LARGE if name == "large" else cache / "corpora" / name
        built = cache / "work" / "ocp" / name / "ocp.db"
        if name == "large" and not built.exists():
            if not (root / ".git").exists():
                raise SystemExit(f"no monorepo at {root}: run bench_index.py --corpus large once")
            built.parent.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "OCP_WORKSPACE": str(root), "OCP_DB_PATH": str(built)}
            subprocess.run([args.b, "index", str(root)], env=env, check=True, capture_output=True)
        b_built = built if name == "large" else b_cache / "work" / "ocp" / name / "ocp.db"
        own = {"a": built, "b": b_built}
        for index in own.values():
            if not index.exists():
                raise SystemExit(f"no index for {name} at {index}: run the retrieval bench once")
        queries = _queries(name)
        filters: list[dict[str, str] | None] = (
            _filters(name, root, len(queries))
            if args.filters and name != "large"
            else [None] * len(queries)
        )
        for label, index in own.items():
            if warning := stale_rules(label.upper(), digests[label], index):
                print(warning, file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="ocp-lat-") as tmp:
            servers = []
            first: list[float] = []
            for label in ("a", "b"):
                db = Path(tmp) / label / "ocp.db"
                db.parent.mkdir()
                shutil.copy(own[label], db)
                home = root if label == "a" or name == "large" else b_cache / "corpora" / name
                servers.append(Server(getattr(args, label), home, db, memo=args.mcp_only))
                # its first query, before the other server starts: cold, not in the columns
                t0 = time.perf_counter()
                servers[-1].search(queries[0], filters[0])
                first.append((time.perf_counter() - t0) * 1000)
            try:
                times: list[list[float]] = [[], []]
                same = True
                for q, f in zip(queries if args.mcp_only else queries[:5], filters, strict=False):
                    for s in servers:
                        s.search(q, f)
                cpu = [s.cpu_seconds() for s in servers]
                for r in range(args.rounds):
                    for i, q in enumerate(queries):
                        order = (0, 1) if (i + r) % 2 == 0 else (1, 0)
                        got: list[dict[str, Any]] = [{}, {}]
                        for j in order:
                            t0 = time.perf_counter()
                            got[j] = servers[j].search(q, filters[i])
                            times[j].append((time.perf_counter() - t0) * 1000)
                        same = same and _same(got[0], got[1])
                n = args.rounds * len(queries)
                cpu = [(s.cpu_seconds() - c) * 1000 / n for s, c in zip(servers, cpu, strict=True)]
            finally:
                for s in servers:
                    s.close()
        a, b = times
        print(
            f"| {name} | {len(queries)} | {statistics.median(a):.2f} | {_p(a, 0.95):.2f} | "
            f"{cpu[0]:.2f} | {statistics.median(b):.2f} | {_p(b, 0.95):.2f} | {cpu[1]:.2f} | "
            f"{'yes' if same else 'NO'} | {first[0]:.1f} | {first[1]:.1f} |",
            flush=True,
        )
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
