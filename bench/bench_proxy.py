"""Routing proxy benchmark: the real `ocp-server proxy` process in front of a fast canned
upstream (Anthropic Messages JSON and SSE, Ollama chat NDJSON), driven over real HTTP.

    uv run python bench/bench_proxy.py [--soak 10000] [--latency 400] [--rps 3000]

Reports:
- time to first byte, proxied vs calling the upstream directly (the difference is what the
  proxy adds, the routing decision, redaction and trace included), paid JSON, paid stream and
  a local stream (translated from Ollama NDJSON to Anthropic SSE);
- non-streaming requests per second at 16 concurrent clients, paid and local;
- a soak of N mixed requests (paid/local, JSON/stream): the proxy's RSS after the first
  1,000 requests and at the end, and its peak (VmHWM).

The upstream is a canned asyncio server in its own process, so its cost is near zero and the
same for both sides of the comparison. The request carries an 8 KB system prompt (what the
router and the redactor read). The proxy writes every trace to a temporary workspace store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-opus-5-5",
    "content": [{"type": "text", "text": "canned answer"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 2100, "output_tokens": 3},
}


def _sse() -> bytes:
    start = MESSAGE | {"content": [], "stop_reason": None}
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "canned"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 3},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(f"event: {k}\ndata: {json.dumps(v)}\n\n".encode() for k, v in events)


NDJSON = b"".join(
    json.dumps(line).encode() + b"\n"
    for line in [
        {"model": "llama3.2", "message": {"role": "assistant", "content": "canned"}, "done": False},
        {
            "model": "llama3.2",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 2100,
            "eval_count": 3,
        },
    ]
)


# ---- the canned upstream (run as a child process) ------------------------------------------------
Answer = Callable[[bytes, bytes, asyncio.StreamWriter], Awaitable[None]]


async def serve_canned(port: int, answer: Answer) -> None:
    """A canned HTTP/1.1 server on 127.0.0.1:`port`: each request on a connection read whole,
    its path and body handed to `answer`, which writes the response."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                await answer(head.split(b" ")[1], body, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


async def _upstream(port: int) -> None:
    json_body = json.dumps(MESSAGE).encode()
    sse_body = _sse()

    async def answer(path: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        if path.startswith(b"/api/chat"):
            payload, kind = NDJSON, b"application/x-ndjson"
        elif b'"stream":true' in body or b'"stream": true' in body:
            payload, kind = sse_body, b"text/event-stream"
        else:
            payload, kind = json_body, b"application/json"
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s"
            % (kind, len(payload), payload)
        )
        await writer.drain()

    await serve_canned(port, answer)


# ---- the driver ----------------------------------------------------------------------------------
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered at {url}")


SYSTEM = ("You are a coding agent working in a large repository. " * 150)[:8000]
HARD = (
    "Design a distributed consensus protocol refactor across the whole codebase with a "
    "migration plan, a security review and a performance analysis of the architecture"
)


def body(text: str, stream: bool) -> dict[str, object]:
    return {
        "model": "claude-opus-5-5",
        "max_tokens": 256,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
    }


HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-bench"}


def ttfb(client: httpx.Client, url: str, payload: dict[str, object]) -> float:
    t0 = time.perf_counter()
    elapsed = 0.0
    with client.stream("POST", url, json=payload, headers=HEADERS) as response:
        for _ in response.iter_raw():
            elapsed = elapsed or time.perf_counter() - t0
    assert response.status_code == 200, response.status_code
    return elapsed * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def load(url: str, payload: dict[str, object], total: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        left = total

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                response = await client.post(url, json=payload, headers=HEADERS)
                assert response.status_code == 200, response.text[:200]

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - t0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kb(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


@dataclass(frozen=True, slots=True)
class Running:
    upstream: str  # the canned upstream's URL
    proxy: str  # the proxy's URL
    pid: int  # the proxy's process


@contextmanager
def proxy_in_front_of(script: str, *upstream_args: str) -> Iterator[Running]:
    """The real `ocp-server proxy` process (paid tier Anthropic, a temporary workspace store)
    in front of a canned upstream in its own process, `script --upstream PORT *upstream_args`
    (for the local model too); both stopped at the end."""
    up_port, proxy_port = _port(), _port()
    upstream_url = f"http://127.0.0.1:{up_port}"
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OCP_", "ANTHROPIC_", "OPENAI_"))
        } | {
            "OCP_OLLAMA_URL": upstream_url,
            "OCP_PAID_MODEL": "claude-sonnet-5-5",
            "OCP_PAID_TOP_MODEL": "claude-opus-5-5",
            "OCP_PROXY_ANTHROPIC_UPSTREAM": upstream_url,
            "OCP_DB_PATH": str(Path(tmp) / "ocp.db"),
        }
        upstream = subprocess.Popen(
            [sys.executable, script, "--upstream", str(up_port), *upstream_args]
        )
        command = [sys.executable, "-m", "ocp_server.cli", "proxy", "--port", str(proxy_port)]
        proxy = subprocess.Popen(
            [*command, "--workspace", str(ws)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            _wait(upstream_url + "/ready")
            _wait(proxy_url + "/health")
            yield Running(upstream_url, proxy_url, proxy.pid)
        finally:
            proxy.terminate()
            upstream.terminate()
            proxy.wait(30)
            upstream.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=int, default=400, help="requests per latency row")
    parser.add_argument("--rps", type=int, default=3000, help="requests per throughput row")
    parser.add_argument("--soak", type=int, default=10_000)
    args = parser.parse_args()
    if args.upstream:
        asyncio.run(_upstream(args.upstream))
        return
    with proxy_in_front_of(__file__) as running:
        run(Console(), args, running.upstream, running.proxy, running.pid)


def run(console: Console, args: argparse.Namespace, upstream: str, proxy: str, pid: int) -> None:
    console.print(
        f"[bold]bench_proxy[/] · {os.cpu_count()} cores, shared: timings are noisy · "
        f"request {len(json.dumps(body(HARD, False))):,} bytes"
    )
    table = Table(title="time to first byte (ms)")
    for col in (
        "path",
        "n",
        "direct p50",
        "proxied p50",
        "proxied p90",
        "proxied p99",
        "added p50",
    ):
        table.add_column(col, justify="right" if col != "path" else "left")
    rows = [
        ("paid JSON (top tier)", body(HARD, False), "/v1/messages"),
        ("paid stream (top tier)", body(HARD, True), "/v1/messages"),
        ("local stream (Ollama NDJSON -> SSE)", body("what is 2 + 2?", True), None),
    ]
    with httpx.Client(timeout=30) as client:
        for _ in range(50):  # warm both sides
            ttfb(client, proxy + "/v1/messages", body(HARD, False))
            ttfb(client, upstream + "/v1/messages", body(HARD, False))
        for name, payload, direct_path in rows:
            direct, proxied = [], []
            for _ in range(args.latency):
                if direct_path:
                    direct.append(ttfb(client, upstream + direct_path, payload))
                else:  # the local model's own endpoint
                    direct.append(ttfb(client, upstream + "/api/chat", {"model": "llama3.2"}))
                proxied.append(ttfb(client, proxy + "/v1/messages", payload))
            d50 = statistics.median(direct)
            table.add_row(
                name,
                str(args.latency),
                f"{d50:.2f}",
                f"{statistics.median(proxied):.2f}",
                f"{pct(proxied, 90):.2f}",
                f"{pct(proxied, 99):.2f}",
                f"{statistics.median(proxied) - d50:.2f}",
            )
    console.print(table)

    rps = Table(title="requests per second, non-streaming, 16 concurrent clients")
    columns = ("path", "requests", "direct req/s", "proxied req/s", "proxy CPU ms/req", "1 core")
    for col in columns:
        rps.add_column(col, justify="right" if col != "path" else "left")
    cases = (("paid JSON", body(HARD, False)), ("local JSON", body("what is 2 + 2?", False)))
    for name, payload in cases:
        direct_rps = asyncio.run(load(upstream + "/v1/messages", payload, args.rps, 16))
        cpu = cpu_seconds(pid)
        proxied_rps = asyncio.run(load(proxy + "/v1/messages", payload, args.rps, 16))
        per = (cpu_seconds(pid) - cpu) / args.rps * 1000
        rps.add_row(
            name,
            str(args.rps),
            f"{direct_rps:,.0f}",
            f"{proxied_rps:,.0f}",
            f"{per:.2f}",
            f"{1000 / per:,.0f} req/s",
        )
    console.print(rps)
    console.print(
        "[dim]the load generator and the upstream share the 2 cores with the proxy: "
        "'1 core' is the proxy's own capacity, 1 s of CPU over its CPU per request[/]"
    )

    soak = Table(
        title=f"soak: {args.soak:,} mixed requests (paid/local, JSON/stream), 8 concurrent"
    )
    for col in ("RSS after 1,000 (MB)", "RSS at end (MB)", "growth", "peak RSS (MB)", "req/s"):
        soak.add_column(col, justify="right")
    payloads = [
        body(HARD, False),
        body(HARD, True),
        body("what is 2 + 2?", False),
        body("what is 2 + 2?", True),
    ]

    async def mixed(total: int) -> float:
        t0 = time.perf_counter()
        per = total // len(payloads)
        await asyncio.gather(*(load(proxy + "/v1/messages", p, per, 2) for p in payloads))
        return total / (time.perf_counter() - t0)

    asyncio.run(mixed(1000))
    after_warm, _ = memory_kb(pid)
    rate = asyncio.run(mixed(args.soak - 1000))
    end, peak = memory_kb(pid)
    soak.add_row(
        f"{after_warm / 1024:.1f}",
        f"{end / 1024:.1f}",
        f"{(end - after_warm) / after_warm * 100:+.1f}%",
        f"{peak / 1024:.1f}",
        f"{rate:,.0f}",
    )
    console.print(soak)
    stats = httpx.get(proxy + "/api/stats", timeout=30).json()
    console.print(
        f"dashboard: {stats['totals']['requests']} recent rows, traces written "
        f"{stats['traces']['written']}, write errors {stats['traces']['errors']}"
    )


if __name__ == "__main__":
    main()
