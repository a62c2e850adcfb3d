"""How long a large request holds up the proxy's other clients.

    uv run python bench/bench_proxy_stall.py [--mb 15 30] [--process]

The real proxy (in a thread, as tests/proxy runs it; with --process, `ocp-server proxy` in
its own process) in front of the fake Anthropic and Ollama servers. In a thread it shares the
benchmark's GIL, so a stall that holds the GIL holds up the pinger too, which then starts its
clock late and under-reports it: --process measures what another client sees. One client
sends a large paid request (one long message, or 60,000 short ones, about `--mb` megabytes),
while another asks `/health` every 10 ms: the slowest of those answers is how long the event
loop was held. The large request's own time is shown beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
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
HARD = "Design a distributed rate limiter across services and refactor the auth module. "


def _body(kind: str, mb: float) -> bytes:
    size = int(mb * 1_000_000)
    if kind == "one long message":
        messages: list[dict[str, Any]] = [{"role": "user", "content": HARD + "word " * (size // 5)}]
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


def _measure(url: str, body: bytes) -> tuple[int, float, float]:
    worst: list[float] = []
    stop = threading.Event()

    def ping() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while not stop.is_set():
                started = time.perf_counter()
                http.get("/health")
                worst.append(time.perf_counter() - started)
                time.sleep(0.01)

    pinger = threading.Thread(target=ping)
    pinger.start()
    started = time.perf_counter()
    answer = httpx.post(url + "/v1/messages", headers=HEADERS, content=body, timeout=300)
    took = time.perf_counter() - started
    stop.set()
    pinger.join()
    return answer.status_code, took, max(worst)


def _process(env: dict[str, str], tmp: Path) -> tuple[str, Any]:
    """`ocp-server proxy` in its own process; its URL and how to stop it."""
    port = closed_port()
    server = Path(sys.executable).parent / "ocp-server"
    child = subprocess.Popen(
        [str(server), "proxy", "--port", str(port), "--workspace", str(tmp)],
        env=os.environ | env | {"OCP_DB_PATH": str(tmp / "ocp.db")},
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)

    def stop() -> None:
        child.terminate()
        child.wait(30)

    return url, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[15.0, 30.0])
    parser.add_argument("--process", action="store_true", help="the proxy in its own process")
    args = parser.parse_args()
    table = Table(title="a large request and the proxy's other clients")
    for column in ("request", "MB", "status", "its time (s)", "slowest /health (s)"):
        table.add_column(column)
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
        if args.process:
            url, stop = _process(env, Path(tmp))
        else:
            proxy = RunningProxy(env, Path(tmp), Path(tmp) / "ocp.db").start()
            url, stop = proxy.url, proxy.stop
        try:
            for mb in args.mb:
                for kind in ("one long message", "60k short messages"):
                    body = _body(kind, mb)
                    status, took, worst = _measure(url, body)
                    table.add_row(
                        kind, f"{len(body) / 1e6:.1f}", str(status), f"{took:.2f}", f"{worst:.3f}"
                    )
        finally:
            stop()
    Console().print(table)


if __name__ == "__main__":
    main()
