"""Peak memory of the real `ocp-server proxy` process relaying one long non-streaming paid
answer (Anthropic Messages JSON), read by the client as it arrives.

    uv run python bench/bench_long_answer.py [--mib 40] [--rounds 3]

Reports, per round: the answer's status and size as the client got it, and the proxy's RSS
before the request, its highest RSS sampled every 5 ms during it, and its peak (VmHWM) after.
The upstream is a canned asyncio server in its own process (bench_proxy.py's driver pieces).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_proxy import HARD, HEADERS, _port, _wait, body, memory_kb  # noqa: E402

_PIECE = b"x" * 65536


async def _upstream(port: int, mib: int) -> None:
    head = b'{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-5-5", '
    head += b'"content": [{"type": "text", "text": "'
    tail = b'"}], "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 7}}'
    size = len(head) + len(_PIECE) * 16 * mib + len(tail)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head_lines = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head_lines.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (size, head)
                )
                for _ in range(16 * mib):
                    writer.write(_PIECE)
                    await writer.drain()
                writer.write(tail)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _one(proxy: str, pid: int) -> tuple[int, int, int, int, int]:
    """(status, bytes received, RSS before, highest RSS sampled, VmHWM after), in KB."""
    before, _ = memory_kb(pid)
    highest = before
    done = threading.Event()

    def sample() -> None:
        nonlocal highest
        while not done.is_set():
            highest = max(highest, memory_kb(pid)[0])
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    received = 0
    try:
        with httpx.Client(timeout=120) as client:
            payload = body(HARD, False)
            with client.stream("POST", proxy + "/v1/messages", json=payload, headers=HEADERS) as r:
                for chunk in r.iter_raw():
                    received += len(chunk)
                status = r.status_code
    finally:
        done.set()
        sampler.join()
    _, peak = memory_kb(pid)
    return status, received, before, highest, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mib", type=int, default=40, help="the answer's size in MiB")
    parser.add_argument("--rounds", type=int, default=3, help="requests, one after another")
    args = parser.parse_args()
    if args.upstream:
        asyncio.run(_upstream(args.upstream, args.mib))
        return
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
            [sys.executable, __file__, "--upstream", str(up_port), "--mib", str(args.mib)]
        )
        command = [sys.executable, "-m", "ocp_server.cli", "proxy", "--port", str(proxy_port)]
        proxy = subprocess.Popen(
            [*command, "--workspace", str(ws)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            _wait(upstream_url + "/ready")
            _wait(proxy_url + "/health")
            print(f"a {args.mib} MiB non-streaming answer through the proxy (RSS in MB)")
            for n in range(args.rounds):
                status, got, before, highest, peak = _one(proxy_url, proxy.pid)
                print(
                    f"round {n + 1}: HTTP {status}, {got / 2**20:.1f} MiB received; RSS before "
                    f"{before / 1024:.1f}, highest during {highest / 1024:.1f} "
                    f"(+{(highest - before) / 1024:.1f}), VmHWM after {peak / 1024:.1f}"
                )
        finally:
            proxy.terminate()
            upstream.terminate()
            proxy.wait(30)
            upstream.wait(30)


if __name__ == "__main__":
    main()
