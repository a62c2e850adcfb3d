"""A tool's answer as Claude Code takes it (../shared/reference/mcp-clients.md §2): a result
over 50,000 characters is saved to a file (the model is given its name) unless the tool's
`_meta["anthropic/maxResultSizeChars"]` in tools/list raises that, and one over
MAX_MCP_OUTPUT_TOKENS (25,000 by default) is refused. A search at the default budget came to
51,372 characters (k=50, group_by file, pytest's sources): saved to a file; at max_tokens
20,000 its answer was 30,000 tokens: refused."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ocp_router.tokens import estimate_tokens
from ocp_server.client_limits import RESULT_TOKEN_LIMITS
from tests.server.raw_server import RawServer
from tests.server.result_sizes import opened_session

META = "anthropic/maxResultSizeChars"
SEARCH = {"query": "widget frame size layout", "k": 50, "group_by": "file", "max_tokens": 50_000}


def _widgets(root: Path) -> Path:
    """60 files of code about widgets: a search for them can fill any budget."""
    ws = root / "widgets"
    (ws / "src").mkdir(parents=True)
    for i in range(60):
        functions = [
            f"def widget_{i}_{j}(frame, size):\n"
            + "".join(f"    frame.widget_step_{n} = size * {n}  # layout {n}\n" for n in range(40))
            + "    return frame\n"
            for j in range(3)
        ]
        (ws / "src" / f"widgets_{i}.py").write_text("\n\n".join(functions))
    return ws


def _searched(server: RawServer) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:  # the first index
        result: dict[str, Any] = server.call_tool("ocp_context_search", SEARCH)["result"]
        if not result["structuredContent"]["index"]["building"] or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_tools_whose_answers_can_be_large_advertise_their_largest_size(tmp_path: Path) -> None:
    _widgets(tmp_path)
    server = opened_session(tmp_path, "claude-code")
    try:
        tools = {t["name"]: t for t in server.rpc("tools/list", {})["result"]["tools"]}
    finally:
        server.kill()
    sizes: dict[str, int | None] = {
        name: (tool.get("_meta") or {}).get(META) for name, tool in tools.items()
    }
    # over what Claude Code shows whole, within what it lets a tool ask for
    for name in ("ocp_context_search", "ocp_session_restore", "ocp_model_route"):
        size = sizes[name]
        assert size is not None and 50_000 < size <= 500_000, sizes
    assert sizes["ocp_result_save"] is None  # its answers are short


def test_the_largest_search_fits_what_it_advertises_and_claude_codes_token_limit(
    tmp_path: Path,
) -> None:
    _widgets(tmp_path)
    answers: dict[str, dict[str, Any]] = {}
    for client in ("cursor-vscode", "claude-code"):
        server = opened_session(tmp_path, client)
        try:
            advertised = {
                t["name"]: t["_meta"][META]
                for t in server.rpc("tools/list", {})["result"]["tools"]
                if t.get("_meta")
            }
            answers[client] = _searched(server)
        finally:
            server.kill()
    limit = RESULT_TOKEN_LIMITS["claude-code"]
    whole = {c: json.dumps(a["structuredContent"], ensure_ascii=False) for c, a in answers.items()}
    # at max_tokens 50,000, another client gets all of it: within what the tool advertises
    other = answers["cursor-vscode"]["structuredContent"]
    assert not answers["cursor-vscode"]["isError"] and other["note"] is None
    assert estimate_tokens(whole["cursor-vscode"]) > 2 * limit
    assert len(whole["cursor-vscode"]) <= advertised["ocp_context_search"]
    # Claude Code gets what it shows: the whole answer (the JSON its model reads) within its
    # limit, and a note that says why the budget was lowered
    claude = answers["claude-code"]["structuredContent"]
    assert not answers["claude-code"]["isError"]
    assert limit * 0.8 < estimate_tokens(whole["claude-code"]) <= limit
    # (after the restart check's note when the search came while the check ran)
    assert "max_tokens=50,000 was lowered to " in claude["note"]
    assert "MAX_MCP_OUTPUT_TOKENS" in claude["note"]
    assert claude["files"] and claude["files"][0]["hits"]
