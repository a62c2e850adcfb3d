"""The proxy's longest single calls while it serves one large request, in CPU time.

    uv run python bench/bench_proxy_holds.py [--kind "one long message"] [--mb 15]
        [--rounds 3] [--b-python ../main/.venv/bin/python]

A C function holds the GIL until it returns: the longest such call is how long the event loop
(and every other connection's stream) can wait on the proxy's own work. The real proxy runs
in this process (as tests/proxy runs it) before the fake Anthropic and Ollama servers, and a
profile hook times each call of a C function, and each read of json's scanner, by the
calling thread's CPU time: the host's other load, which stretches wall-clock gaps
(bench_proxy_stall.py), does not count here, though a busy memory bus still slows a copy.
Calls that let the GIL go while they wait (poll, locks, queues, sockets, hashing) and the
fakes' own calls are left out. Besides the longest calls it prints the longest on the event
loop's own thread (where every other connection waits whatever the GIL does) and the CPU of
all the proxy's C calls over 20 us (what copies of the body cost). The first request (cold)
and the next ones (warm) are shown apart; with --b-python, a second checkout's interpreter
runs the same, alternating with this one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# They wait with the GIL let go.
_WAITING = {
    "epoll.poll",
    "SimpleQueue.get",
    "lock.acquire",
    "BufferedReader.readline",
    "socket.recv_into",
    "socket.recv",
    "socket.send",
    "socket.sendall",
    "sleep",
    "select",
    "poll",
    "openssl_sha1",  # hashlib lets the GIL go over 2 KB
    "HASH.update",
}
LOOP_THREAD = "proxy"  # tests/proxy/conftest.py's RunningProxy runs its event loop there


def _profile(kind: str, mb: float, rounds: int) -> list[dict[str, Any]]:
    """Each request's calls over 1 ms (`calls`: CPU seconds, what and where), the CPU seconds
    of all its C calls (`total`), and its longest call on the event loop (`loop`)."""
    import json.scanner

    from bench_proxy_stall import HEADERS, _body

    from tests.fakes.anthropic import FakeAnthropic
    from tests.fakes.ollama import FakeOllama
    from tests.proxy.conftest import RunningProxy

    calls: list[tuple[float, str]] = []
    totals = {"total": 0.0, "loop": 0.0}
    local = threading.local()
    make_scanner = json.scanner.make_scanner

    def timed_scanner(decoder: Any) -> Any:
        scan = make_scanner(decoder)

        def scan_once(text: str, at: int) -> Any:
            started = time.thread_time()
            try:
                return scan(text, at)
            finally:
                took = time.thread_time() - started
                if took > 0.001:
                    calls.append((took, "json scanner (one value)"))

        return scan_once

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":
            local.started = time.thread_time()
        elif event in ("c_return", "c_exception"):
            started = getattr(local, "started", None)
            took = time.thread_time() - started if started is not None else 0.0
            name = getattr(arg, "__qualname__", str(arg))
            if took <= 0.00002 or name in _WAITING:  # the cheap ones: the profile's own noise
                return
            caller: Any = frame
            for _ in range(4):  # json.loads called by a fake is the fake's
                if caller is None:
                    break
                if "/tests/fakes/" in caller.f_code.co_filename:
                    return
                caller = caller.f_back
            totals["total"] += took
            if threading.current_thread().name == LOOP_THREAD:
                totals["loop"] = max(totals["loop"], took)
            if took <= 0.001:
                return
            place = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"
            calls.append((took, f"{name} at {place}"))

    json.scanner.make_scanner = timed_scanner  # type: ignore[misc, assignment]
    body = _body(kind, mb)
    seen: list[dict[str, Any]] = []
    with (
        FakeOllama() as ollama,
        FakeAnthropic(api_key=None) as paid,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = {
            "OCP_OLLAMA_URL": ollama.url,
            "OCP_PAID_MODEL": "claude-sonnet-5-5",
            "OCP_PAID_TOP_MODEL": "claude-opus-5-5",
            "OCP_PROXY_ANTHROPIC_UPSTREAM": paid.url,
        }
        threading.setprofile(hook)
        proxy = RunningProxy(env, Path(tmp), Path(tmp) / "ocp.db").start()
        try:
            for _ in range(rounds):
                calls.clear()
                totals.update(total=0.0, loop=0.0)
                answer = httpx.post(
                    proxy.url + "/v1/messages", headers=HEADERS, content=body, timeout=300
                )
                assert answer.status_code == 200, answer.text[:300]
                seen.append({"calls": sorted(calls, reverse=True)} | totals)
        finally:
            threading.setprofile(None)
            proxy.stop()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="one long message")
    parser.add_argument("--mb", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3, help="processes per side")
    parser.add_argument("--requests", type=int, default=3, help="requests per process")
    parser.add_argument("--b-python", type=Path, help="a second checkout's .venv/bin/python")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one side
    args = parser.parse_args()
    if args.json:
        print(json.dumps(_profile(args.kind, args.mb, args.requests)))
        return
    sides = {"A": Path(sys.executable)} | ({"B": args.b_python} if args.b_python else {})
    # side -> per process, per request, its profile
    runs: dict[str, list[list[dict[str, Any]]]] = {side: [] for side in sides}
    for n in range(args.rounds):
        for side in list(sides) if n % 2 == 0 else list(reversed(sides)):
            done = subprocess.run(
                [str(sides[side]), __file__, "--json", "--kind", args.kind, "--mb", str(args.mb)]
                + ["--requests", str(args.requests)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[side].append(json.loads(done.stdout.splitlines()[-1]))
    print(f"{args.kind}, {args.mb:g} MB; {args.rounds} processes a side, medians (ranges)")
    print(
        f"{'side':4} {'state':5} {'longest call, ms':>20} {'calls over 5 ms':>16} "
        f"{'on the loop, ms':>16} {'all C calls, ms':>20}  the longest"
    )
    for side, processes in runs.items():
        for state, picks in (("cold", slice(0, 1)), ("warm", slice(1, None))):
            profiles = [r for p in processes for r in p[picks]]
            if not profiles:
                continue
            requests = [r["calls"] for r in profiles]
            on_loop = [r["loop"] * 1000 for r in profiles]
            total = [r["total"] * 1000 for r in profiles]
            longest = [r[0][0] * 1000 if r else 0.0 for r in requests]
            over = [sum(1 for c in r if c[0] > 0.005) for r in requests]
            names: dict[str, int] = {}
            for r in requests:
                if r:
                    names[r[0][1]] = names.get(r[0][1], 0) + 1
            top = max(names, key=lambda k: names[k]) if names else "-"
            print(
                f"{side:4} {state:5} {_spread(longest):>20} {_spread(over, 0):>16} "
                f"{_spread(on_loop):>16} {_spread(total, 0):>20}  {top}"
                f" ({names.get(top, 0)} of {len(requests)})"
            )


def _spread(values: list[float] | list[int], digits: int = 1) -> str:
    mid = statistics.median(values)
    return f"{mid:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


if __name__ == "__main__":
    main()
