"""How often a port tests.fakes closed_port() gave is taken by a listener bound after it (other
xdist workers' fakes starting meanwhile): a "refused" local model then answered 200.

    uv run python bench/bench_closed_port_reuse.py
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes._http import closed_port  # noqa: E402

TRIALS, OTHERS = 3000, 20


def main() -> None:
    hits = 0
    for _ in range(TRIALS):
        port = closed_port()
        others = [socket.socket() for _ in range(OTHERS)]
        for sock in others:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
        hits += any(sock.getsockname()[1] == port for sock in others)
        for sock in others:
            sock.close()
    print(f"{hits}/{TRIALS} trials: one of {OTHERS} later listeners took the 'closed' port")


if __name__ == "__main__":
    main()
