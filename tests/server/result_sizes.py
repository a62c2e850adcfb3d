"""The result-size tests' set-up: a workspace whose symbols have long names, a raw MCP session
as a given client opens it, and the size of a result as the client's model reads it."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from ocp_router.tokens import estimate_tokens
from ocp_server.client_limits import RESULT_TOKEN_LIMITS
from tests.server.raw_server import INITIALIZE, INITIALIZED, RawServer

LIMIT = RESULT_TOKEN_LIMITS["claude-code"]  # what Claude Code accepts of a result
# Long names: a citation's structured form (citation, symbol, status) is most of its memory.
NAME = "handle_the_widget_frame_layout_for_the_given_size_and_the_screen"


def sized_workspace(root: Path) -> Path:
    ws = root / "widgets"
    (ws / "src").mkdir(parents=True)
    for f in range(4):
        body = "".join(
            f"def {NAME}_{f}_{i}(frame, size):\n"
            + "".join(f"    frame.widget_step_{n} = size * {n}  # layout {n}\n" for n in range(30))
            + "    return frame\n\n\n"
            for i in range(60)
        )
        (ws / "src" / f"widgets_{f}.py").write_text(body)
    return ws


def opened_session(root: Path, client: str, **more: str) -> RawServer:
    """A raw MCP session on `root`'s workspace (widgets/), initialized as `client` would."""
    env = {
        "OCP_WORKSPACE": str(root / "widgets"),
        "OCP_OLLAMA_URL": "http://127.0.0.1:9",
        "OCP_DB_PATH": str(root / "ocp.db"),
        **more,
    }
    server = RawServer(env)
    init = {**INITIALIZE["params"], "clientInfo": {"name": client, "version": "2.1"}}  # type: ignore[dict-item]
    server.request({**INITIALIZE, "params": init}, timeout=60)
    server.send(INITIALIZED)
    return server


def sized_session(root: Path, client: str, **more: str) -> RawServer:
    """`opened_session`, once the workspace's first index is built (or 90 s have passed)."""
    server = opened_session(root, client, **more)
    deadline = time.monotonic() + 90
    while True:  # the first index
        found = server.call_tool("ocp_context_search", {"query": "widget frame"})["result"]
        if not found["structuredContent"]["index"]["building"] or time.monotonic() > deadline:
            return server
        time.sleep(0.2)


def whole_size(result: dict[str, Any]) -> int:
    """The tokens (OCP's estimate) of what Claude Code's model reads of a result."""
    return estimate_tokens(json.dumps(result["structuredContent"], ensure_ascii=False))


def layout_decision(n: int) -> str:
    """A decision about widget frames, unlike any other (else they merge)."""
    rng = random.Random(n)
    words = ["widget", "frame", "layout", "size", "handler", *(f"w{i}" for i in range(400))]
    return " ".join(rng.choice(words) for _ in range(150))
