"""Peak memory of the real `ocp-server proxy` process taking one large request body, by the
body's shape: ordinary text, or many tiny JSON values (what parses into many times its size).

    uv run python bench/bench_request_memory.py [--mib 31] [--shapes text,objects,...]

Each shape gets a fresh proxy (VmHWM is a process's peak over its life), set up as
bench_proxy.py sets up its own, in front of its canned upstream. The body is an Anthropic
Messages request, valid but for an extra field `x` that holds the shape (a proxy that takes it
routes it and forwards it), padded to `--mib` MiB (the default limit is 32 MiB). Reports the
status, the time to the answer, the proxy's RSS before and its peak (VmHWM) after.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_proxy import HARD, HEADERS, body, memory_kb, proxy_in_front_of  # noqa: E402

BENCH_PROXY = str(Path(__file__).resolve().parent / "bench_proxy.py")


def _repeated(item: bytes, size: int) -> bytes:
    """`[item,item,...]` of about `size` bytes."""
    return b"[" + b",".join([item] * (size // (len(item) + 1))) + b"]"


SHAPES: dict[str, Callable[[int], bytes]] = {
    "text": lambda size: json.dumps("x" * size).encode(),  # one long string: the honest case
    "objects": lambda size: _repeated(b"{}", size),
    "arrays": lambda size: _repeated(b"[]", size),
    "strings": lambda size: _repeated(b'"ab"', size),  # 2 characters: not a cached string
    "numbers": lambda size: _repeated(b"1000", size),  # above the small ints Python caches
    "nested 200": lambda size: _repeated(b"[" * 200 + b"]" * 200, size),
    "nested deep": lambda size: b"[" * (size // 2) + b"]" * (size // 2),
}


def _request(shape: bytes) -> bytes:
    head = json.dumps(body(HARD, False))[:-1].encode()
    return head + b', "x": ' + shape + b"}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=float, default=31, help="the body's size in MiB")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated")
    args = parser.parse_args()
    size = int(args.mib * 2**20)
    print(f"one request of about {args.mib:g} MiB per shape, a fresh proxy each (RSS in MB)")
    for name in args.shapes.split(","):
        raw = _request(SHAPES[name](size - 400))
        with proxy_in_front_of(BENCH_PROXY) as running:
            time.sleep(0.5)  # let start-up settle
            before, _ = memory_kb(running.pid)
            t0 = time.perf_counter()
            headers = HEADERS | {"content-type": "application/json"}
            with httpx.Client(timeout=300) as client:
                response = client.post(running.proxy + "/v1/messages", content=raw, headers=headers)
            ms = (time.perf_counter() - t0) * 1000
            _, peak = memory_kb(running.pid)
        message = response.json().get("error", {}).get("message", "") if response.is_error else ""
        print(
            f"{name:12} {len(raw) / 2**20:5.1f} MiB: HTTP {response.status_code} in {ms:6.0f} ms; "
            f"RSS before {before / 1024:6.1f}, peak {peak / 1024:7.1f} "
            f"(+{(peak - before) / 1024:.1f}) {message[:90]}"
        )


if __name__ == "__main__":
    main()
