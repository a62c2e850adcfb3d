"""Soak ocp-server with fuzzed input over real stdio, and print what went wrong (all must be 0).

    uv run python bench/soak.py                       # 5,000 tool calls + 1,000 raw lines
    uv run python bench/soak.py --calls 500 --raw 100 # a quicker look

Tool calls go through the real MCP client (ocp_client) to one server process, drawn by
hypothesis from the strategies in tests/fuzzing.py: valid arguments, mutated ones (a field
dropped, retyped or oversized, an unknown field, a bad workspace, references to nothing) and
unknown tools. Raw lines go to a second server process: broken JSON, batches, bad ids and
members, junk tool arguments, notifications. The local model is the fake Ollama.

Counted: crashes (the server process died; it is restarted and the soak goes on), hangs (no
answer within --timeout), unanswered requests (a raw request with an id that got no answer),
non-error answers to invalid input, and other problems (an error text over 2,000 characters,
a result that does not match the tool's output schema). Exit status 1 when any is not 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeOllama  # noqa: E402
from tests.fuzzing import (  # noqa: E402
    ANY_ID,
    NO_ANSWER,
    BackgroundClient,
    Case,
    ServerGone,
    check_answer,
    must_refuse,
    raw_lines,
    tool_calls,
)
from tests.server.raw_server import RawServer  # noqa: E402
from tests.server.stdio_env import server_env  # noqa: E402
from tests.workspace_fixture import AUTH_PY, BILLING_TS, git  # noqa: E402

ZERO = ("crashes", "hangs", "unanswered requests", "non-error answers to invalid input")


def workspace(root: Path) -> Path:
    ws = root / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "web").mkdir()
    (ws / "src" / "auth.py").write_text(AUTH_PY)
    (ws / "web" / "billing.ts").write_text(BILLING_TS)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


def _generated(n: int) -> settings:
    """`n` examples generated, none shrunk, replayed or timed: a soak counts what fails."""
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def soak_calls(env: dict[str, str], root: Path, n: int, timeout: float) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    seconds: list[float] = []
    examples: dict[str, str] = {}
    state: dict[str, BackgroundClient] = {}

    def client() -> BackgroundClient:
        if "client" not in state:
            state["client"] = BackgroundClient(env, cwd=root).__enter__()
        return state["client"]

    @_generated(n)
    @given(case=tool_calls())
    def one(case: Case) -> None:
        counts["calls"] += 1
        counts["invalid input"] += must_refuse(case)
        started = time.perf_counter()
        try:
            result = client().call(case.tool, case.arguments, timeout)
        except TimeoutError:
            counts["hangs"] += 1
            examples.setdefault("hangs", repr(case)[:300])
            return
        except ServerGone as exc:
            counts["crashes"] += 1
            examples.setdefault("crashes", f"{case!r:.200} -> {exc}")
            gone = state.pop("client")
            gone.__exit__(None, None, None)
            return
        seconds.append(time.perf_counter() - started)
        counts["tool errors"] += bool(result.is_error)
        problem = check_answer(case, result)
        if problem == "a non-error answer to invalid input":
            counts["non-error answers to invalid input"] += 1
            examples.setdefault(problem, repr(case)[:300])
        elif problem is not None:
            counts["other problems"] += 1
            examples.setdefault("other problems", f"{problem[:200]} for {case!r:.200}")

    try:
        one()
    finally:
        if "client" in state:
            state["client"].__exit__(None, None, None)
    return {"counts": counts, "seconds": seconds, "examples": examples}


def soak_raw(env: dict[str, str], root: Path, n: int, timeout: float) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    state: dict[str, RawServer] = {}

    def server() -> RawServer:
        if "server" not in state:
            state["server"] = RawServer(env, cwd=root)
            state["server"].initialize()
        return state["server"]

    @_generated(n)
    @given(line=raw_lines())
    def one(line: tuple[bytes, Any]) -> None:
        raw, expected = line
        counts["raw lines"] += 1
        srv = server()
        try:
            srv.send(raw)
            answers = []
            if expected in (ANY_ID, NO_ANSWER) or expected is None:
                # Broken lines are answered by the transport in order, before the next line
                # is read: a ping's answer closes what this line may get.
                srv.send({"jsonrpc": "2.0", "id": "soak-ping", "method": "ping"})
                while (reply := srv.read(timeout)).get("id") != "soak-ping":
                    answers.append(reply)
            else:  # a request the server handles: its answer may come at any time
                while (reply := srv.read(timeout)).get("id") != expected:
                    answers.append(reply)
                answers.append(reply)
        except TimeoutError:
            counts["hangs" if expected in (ANY_ID, NO_ANSWER, None) else "unanswered requests"] += 1
            examples.setdefault("unanswered requests", repr(raw[:200]))
            state.pop("server").kill()
            return
        except (EOFError, BrokenPipeError, OSError, json.JSONDecodeError) as exc:
            counts["crashes"] += 1
            examples.setdefault("crashes", f"{raw[:200]!r} -> {exc!r}")
            state.pop("server").kill()
            return
        if expected == NO_ANSWER:
            if answers:
                counts["other problems"] += 1
                examples.setdefault("other problems", f"answered a non-request {raw[:200]!r}")
        elif not answers or (expected is None and answers[0].get("id") is not None):
            counts["unanswered requests"] += 1
            examples.setdefault("unanswered requests", repr(raw[:200]))

    try:
        one()
    finally:
        if "server" in state:
            state["server"].kill()
    return {"counts": counts, "examples": examples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5_000, help="fuzzed tool calls")
    parser.add_argument("--raw", type=int, default=1_000, help="fuzzed raw JSON-RPC lines")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a hang")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ocp-soak-"))
    ws = workspace(root)
    console = Console()
    started = time.perf_counter()
    with FakeOllama() as ollama:
        env = server_env(
            ws, ollama, OCP_CLASSIFIER_MODEL="none", PATH="/usr/bin:/bin", HOME=str(root)
        )
        calls = soak_calls(env, root, args.calls, args.timeout)
        raw = soak_raw({**env, "OCP_DB_PATH": str(root / "raw.db")}, root, args.raw, args.timeout)
    counts = calls["counts"] + raw["counts"]
    table = Table(title=f"ocp-server soak ({time.perf_counter() - started:.0f} s)")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name in ("calls", "invalid input", "tool errors", "raw lines"):
        table.add_row(name, f"{counts[name]:,}")
    for name in (*ZERO, "other problems"):
        style = "green" if counts[name] == 0 else "red"
        table.add_row(f"[{style}]{name}[/{style}]", f"[{style}]{counts[name]:,}[/{style}]")
    seconds = sorted(calls["seconds"])
    if seconds:
        table.add_row(
            "call p50 / p99 (ms)",
            f"{statistics.median(seconds) * 1000:.0f} / "
            f"{seconds[int(len(seconds) * 0.99) - 1] * 1000:.0f}",
        )
    console.print(table)
    for what, example in {**calls["examples"], **raw["examples"]}.items():
        console.print(f"[red]{what}[/red], e.g. {example}", markup=True, highlight=False)
    return 1 if any(counts[name] for name in (*ZERO, "other problems")) else 0


if __name__ == "__main__":
    sys.exit(main())
