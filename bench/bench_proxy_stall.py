"""How long a large request holds up the proxy's other clients.

    uv run python bench/bench_proxy_stall.py [--mb 15 30] [--process [--repeat 5] [--fresh]
        [--cmd .venv/bin/ocp-server] [--b-cmd ../main/.venv/bin/ocp-server]]
    uv run python bench/bench_proxy_stall.py --kind "slow to redact" --mb 0.048 --process ...

The real proxy (in a thread, as tests/proxy runs it; with --process, `ocp-server proxy` in
its own process) in front of the fake Anthropic and Ollama servers. In a thread it shares the
benchmark's GIL, so a stall that holds the GIL holds up the pinger too, which then starts its
clock late and under-reports it: --process measures what another client sees, from a pinger
in a process of its own (in the benchmark's, it would also wait on the fake upstream, which
parses the forwarded body there: 0.3-1.6 s of stall that was not the proxy's). One client
sends a large paid request (one long message, or 60,000 short ones, about `--mb` megabytes;
or, with `--kind "slow to redact"`, a message its redaction reads slowly, small or not),
while another asks `/health` every 10 ms: the slowest of those answers is how long the event
loop was held. The large request's own time is shown beside it, and with --process the
longest a thread in the proxy's process that sleeps 1 ms at a time woke up late during it:
how long the GIL was held from the event loop, without the scheduling delays of two more
processes on a loaded machine in the pinger's number. With --repeat, the medians
(and ranges) of that many rounds; with --b-cmd, a second checkout's proxy in its own process,
measured in the same rounds, alternating which side goes first. With --fresh, cold and warm
apart: each round starts a proxy afresh for each body and side, and sends the body twice, the
first (cold: the proxy's first request, its imports and first routing included) and the
second (warm) shown on rows of their own.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes._http import closed_port  # noqa: E402
from tests.fakes.anthropic import FakeAnthropic  # noqa: E402
from tests.fakes.ollama import FakeOllama  # noqa: E402
from tests.proxy.conftest import RunningProxy  # noqa: E402

HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-bench"}
KINDS = ("one long message", "60k short messages", "slow to redact")
NONCE = "NNNNNNNN"  # in a "slow to redact" body, a number each send
_sent = 0
LARGE_KINDS = KINDS[:2]  # the default; "slow to redact" is for a small body (--mb 0.048)
HARD = "Design a distributed rate limiter across services and refactor the auth module. "


def _body(kind: str, mb: float) -> bytes:
    size = int(mb * 1_000_000)
    if kind == "one long message":
        messages: list[dict[str, Any]] = [{"role": "user", "content": HARD + "word " * (size // 5)}]
    elif kind == "slow to redact":  # redaction reads "key=" over and over slowly: 4 us a byte
        text = HARD + NONCE + "key=" * ((size - 200) // 4)
        messages = [{"role": "user", "content": text}]
    else:
        turn = "hello there friend " * 10
        count = size // (len(turn) + 60) | 1
        messages = [
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "content": [{"type": "text", "text": HARD if i == count - 1 else turn}],
            }
            for i in range(count)
        ]
    body = {"model": "claude-opus-5-5", "max_tokens": 10, "messages": messages}
    return json.dumps(body).encode()


# Asks `/health` every 10 ms until its stdin closes, then prints each answer's time.
_PINGER = """
import json, sys, threading, time
import httpx
stop, took = threading.Event(), []
def ping():
    with httpx.Client(base_url=sys.argv[1], timeout=120) as http:
        print("ready", flush=True)
        while not stop.is_set():
            started = time.perf_counter()
            http.get("/health")
            took.append(time.perf_counter() - started)
            time.sleep(0.01)
pinger = threading.Thread(target=ping)
pinger.start()
sys.stdin.read()
stop.set()
pinger.join()
print(json.dumps(took))
"""


def _measure(url: str, body: bytes, own_process: bool) -> tuple[int, float, float, float]:
    """The large request's status and time, the slowest `/health` answer during it, and
    when it began (wall clock)."""
    if own_process:
        pinger = subprocess.Popen(
            [sys.executable, "-c", _PINGER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert pinger.stdin is not None and pinger.stdout is not None
        pinger.stdout.readline()
        began = time.time()
        status, took = _send(url, body)
        pinger.stdin.close()
        worst: list[float] = json.loads(pinger.stdout.read())
        pinger.wait(30)
        return status, took, max(worst), began
    worst = []
    stop = threading.Event()

    def ping() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while not stop.is_set():
                started = time.perf_counter()
                http.get("/health")
                worst.append(time.perf_counter() - started)
                time.sleep(0.01)

    thread = threading.Thread(target=ping)
    thread.start()
    began = time.time()
    status, took = _send(url, body)
    stop.set()
    thread.join()
    return status, took, max(worst), began


def _send(url: str, body: bytes) -> tuple[int, float]:
    global _sent
    _sent += 1  # a text redaction has seen lately is not scanned again: each send is new
    body = body.replace(NONCE.encode(), f"{_sent:08d}".encode(), 1)
    started = time.perf_counter()
    answer = httpx.post(url + "/v1/messages", headers=HEADERS, content=body, timeout=300)
    return answer.status_code, time.perf_counter() - started


# `ocp-server` with a thread that sleeps 1 ms at a time and notes each wake-up that came more
# than 20 ms late: how long another thread (the event loop's, say) could not get the GIL.
_TICKING = """
import sys, threading, time
log = open(sys.argv[1], "a", buffering=1)
def tick():
    while True:
        started = time.time()
        time.sleep(0.001)
        late = time.time() - started
        if late > 0.02:
            log.write(f"{started} {late}\\n")
threading.Thread(target=tick, daemon=True).start()
sys.argv = ["ocp-server", *sys.argv[2:]]
from ocp_server.entry import main
sys.exit(main())
"""


class _Served:
    """`server proxy` in its own process, with a 1 ms ticker (_TICKING) in it."""

    def __init__(self, env: dict[str, str], tmp: Path, server: Path) -> None:
        port = closed_port()
        self.gaps = tmp / "gaps"
        self.child = subprocess.Popen(
            [str(server.parent / "python"), "-c", _TICKING, str(self.gaps)]
            + ["proxy", "--port", str(port), "--workspace", str(tmp)],
            env=os.environ | env | {"OCP_DB_PATH": str(tmp / "ocp.db")},
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                httpx.get(self.url + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)

    def longest_gap(self, start: float, end: float) -> float:
        """The latest the ticker woke up between `start` and `end` (wall clock)."""
        gaps = [0.0]
        if self.gaps.exists():
            for line in self.gaps.read_text().splitlines():
                at, late = map(float, line.split())
                if start <= at <= end:
                    gaps.append(late)
        return max(gaps)

    def stop(self) -> None:
        self.child.terminate()
        self.child.wait(30)


def _spread(values: list[float], digits: int) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    mid = statistics.median(values)
    return f"{mid:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[15.0, 30.0])
    parser.add_argument("--process", action="store_true", help="the proxy in its own process")
    parser.add_argument("--kind", choices=KINDS, nargs="+", default=list(LARGE_KINDS))
    parser.add_argument("--repeat", type=int, default=1, help="rounds (medians and ranges)")
    parser.add_argument(
        "--cmd",
        type=Path,
        default=Path(sys.executable).parent / "ocp-server",
        help="with --process: the ocp-server to run (default: this checkout's)",
    )
    parser.add_argument("--b-cmd", type=Path, help="with --process: a second one, interleaved")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="with --process: a new proxy for each body and round, cold and warm apart",
    )
    args = parser.parse_args()
    if (args.b_cmd or args.fresh) and not args.process:
        parser.error("--b-cmd and --fresh need --process")
    sides = {"A": args.cmd, "B": args.b_cmd} if args.b_cmd else {"": args.cmd}
    bodies = [(kind, mb, _body(kind, mb)) for mb in args.mb for kind in args.kind]
    states = ("cold", "warm") if args.fresh else ("",)
    # (side, kind, mb, state) -> each round's status, time, slowest answer and longest GIL gap
    seen: dict[tuple[str, str, float, str], list[tuple[int, float, float, float]]] = {}
    with (
        FakeOllama() as ollama,
        FakeAnthropic(api_key=None) as paid,
        tempfile.TemporaryDirectory() as tmp,
        ExitStack() as stops,
    ):
        env = {
            "OCP_OLLAMA_URL": ollama.url,
            "OCP_PAID_MODEL": "claude-sonnet-5-5",
            "OCP_PAID_TOP_MODEL": "claude-opus-5-5",
            "OCP_PROXY_ANTHROPIC_UPSTREAM": paid.url,
        }
        urls: dict[str, str] = {}
        served: dict[str, _Served] = {}
        started = 0

        def start(side: str) -> Callable[[], None]:
            nonlocal started
            started += 1
            home = Path(tmp) / f"{side or 'proxy'}-{started}"
            home.mkdir()
            if args.process:
                served[side] = _Served(env, home, sides[side])
                urls[side] = served[side].url
                return served[side].stop
            proxy = RunningProxy(env, home, home / "ocp.db").start()
            urls[side] = proxy.url
            return proxy.stop

        if not args.fresh:
            for side in sides:
                stops.callback(start(side))
        for round_ in range(args.repeat):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for kind, mb, body in bodies:
                for side in order:
                    stop = start(side) if args.fresh else None
                    for state in states:
                        status, took, slowest, began = _measure(urls[side], body, args.process)
                        time.sleep(0.1)  # the ticker's last lines written
                        gap = served[side].longest_gap(began, began + took) if served else math.nan
                        seen.setdefault((side, kind, mb, state), []).append(
                            (status, took, slowest, gap)
                        )
                    if stop is not None:
                        stop()
    table = Table(title="a large request and the proxy's other clients")
    columns = ["request", "MB", "status", "its time (s)", "slowest /health (s)"]
    columns += ["longest GIL gap (s)"] if args.process else []
    columns[1:1] = ["state"] if args.fresh else []
    for column in (["side"] if args.b_cmd else []) + columns:
        table.add_column(column)
    for kind, mb, body in bodies:
        for state in states:
            for side in sides:
                results = seen[(side, kind, mb, state)]
                statuses = ",".join(sorted({str(r[0]) for r in results}))
                row = [kind, *([state] if state else []), f"{len(body) / 1e6:.3g}", statuses]
                row += [_spread([r[1] for r in results], 2), _spread([r[2] for r in results], 3)]
                row += [_spread([r[3] for r in results], 3)] if args.process else []
                table.add_row(*([side] if args.b_cmd else []) + row)
    if args.b_cmd:
        table.caption = f"A: {args.cmd}, B: {args.b_cmd}; {args.repeat} rounds, median (range)"
    elif args.repeat > 1:
        table.caption = f"{args.repeat} rounds, median (range)"
    Console(width=None if sys.stdout.isatty() else 160).print(table)  # a file: not cut


if __name__ == "__main__":
    main()
