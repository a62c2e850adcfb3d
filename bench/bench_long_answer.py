"""Peak memory of the real `ocp-server proxy` process relaying one long non-streaming paid
answer (Anthropic Messages JSON), read by the client as it arrives.

    uv run python bench/bench_long_answer.py [--mib 40] [--rounds 3]

Reports, per round: the answer's status and size as the client got it, and the proxy's RSS
before the request, its highest RSS sampled every 5 ms during it, and its peak (VmHWM) after.
The upstream is a canned asyncio server in its own process, set up as bench_proxy.py sets up
its own (`proxy_in_front_of`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_proxy import (  # noqa: E402
    HARD,
    HEADERS,
    body,
    memory_kb,
    proxy_in_front_of,
    serve_canned,
)

_PIECE = b"x" * 65536


async def _upstream(port: int, mib: int) -> None:
    head = b'{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-5-5", '
    head += b'"content": [{"type": "text", "text": "'
    tail = b'"}], "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 7}}'
    size = len(head) + len(_PIECE) * 16 * mib + len(tail)

    async def answer(path: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (size, head)
        )
        for _ in range(16 * mib):
            writer.write(_PIECE)
            await writer.drain()
        writer.write(tail)
        await writer.drain()

    await serve_canned(port, answer)


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
    with proxy_in_front_of(__file__, "--mib", str(args.mib)) as running:
        print(f"a {args.mib} MiB non-streaming answer through the proxy (RSS in MB)")
        for n in range(args.rounds):
            status, got, before, highest, peak = _one(running.proxy, running.pid)
            print(
                f"round {n + 1}: HTTP {status}, {got / 2**20:.1f} MiB received; RSS before "
                f"{before / 1024:.1f}, highest during {highest / 1024:.1f} "
                f"(+{(highest - before) / 1024:.1f}), VmHWM after {peak / 1024:.1f}"
            )


if __name__ == "__main__":
    main()
