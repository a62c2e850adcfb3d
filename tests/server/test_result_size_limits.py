"""Claude Code refuses a tool's result over MAX_MCP_OUTPUT_TOKENS (25,000 of its tokenizer's
by default; ../shared/reference/mcp-clients.md §2), and its model reads only the structured
content. A search kept its whole answer to RESULT_TOKEN_LIMITS for it; a restore (20,000
tokens at most, its structured part three quarters of that when memories cite many
definitions of long names: 15,254 of OCP's estimate here) and a route (a long model answer:
56,430; a prompt handed back with `max_context_tokens` 100,000: 32,837) were not kept to
it. Now they are, for that client only, and say what was left out and how to have it;
another client gets them whole."""

from __future__ import annotations

from pathlib import Path

from ocp_router.tokens import estimate_tokens
from tests.fakes import FakeOllama
from tests.server.result_sizes import (
    LIMIT,
    layout_decision,
    sized_session,
    sized_workspace,
    whole_size,
)


def test_a_large_restore_keeps_to_what_claude_code_accepts(tmp_path: Path) -> None:
    sized_workspace(tmp_path)
    server = sized_session(tmp_path, "claude-code")
    try:
        for s in range(5):  # 50 decisions, each citing 20 definitions
            decisions = [
                {
                    "title": f"widget rule {s}.{d}",
                    "decision": f"keep frames {s}.{d}",
                    "citations": [
                        f"src/widgets_{(s + d) % 4}.py:{34 * i + 1}-{34 * i + 2}"
                        for i in range(20 * (d % 3), 20 * (d % 3) + 20)
                    ],
                }
                for d in range(10)
            ]
            saved = server.call_tool("ocp_result_save", {"decisions": decisions})["result"]
            assert not saved["isError"], saved
        answers = {}
        for client in ("claude-code", "cursor-vscode"):
            if client != "claude-code":
                server.kill()
                server = sized_session(tmp_path, client)
            result = server.call_tool("ocp_session_restore", {"max_tokens": 20_000})["result"]
            assert not result["isError"], result
            answers[client] = result
    finally:
        server.kill()
    claude = answers["claude-code"]["structuredContent"]
    assert LIMIT * 0.7 < whole_size(answers["claude-code"]) <= LIMIT
    other = answers["cursor-vscode"]["structuredContent"]
    assert whole_size(answers["cursor-vscode"]) > LIMIT and "note" not in other  # whole
    assert claude["note"].startswith("max_tokens=20,000 was lowered to ")
    assert "MAX_MCP_OUTPUT_TOKENS" in claude["note"] and "`query`" in claude["note"]
    assert claude["omitted"]["decisions"] > other["omitted"].get("decisions", 0)
    assert len(claude["decisions"]) >= 10


def test_a_long_model_answer_keeps_to_what_claude_code_accepts(tmp_path: Path) -> None:
    sized_workspace(tmp_path)
    answer = "".join(
        f"Step {n}: resize the frame, then lay out its widgets.\n" for n in range(4_000)
    )
    answers = {}
    with FakeOllama(reply=answer) as ollama:
        for client in ("claude-code", "cursor-vscode"):
            # a local model let to answer at length (OCP_LOCAL_MAX_TOKENS: 1,024 by default)
            server = sized_session(
                tmp_path, client, OCP_OLLAMA_URL=ollama.url, OCP_LOCAL_MAX_TOKENS="100000"
            )
            try:
                args = {"request": "rename x to count", "force": "local"}
                answers[client] = server.call_tool("ocp_model_route", args)["result"]
            finally:
                server.kill()
    other = answers["cursor-vscode"]
    assert other["content"][-1]["text"] == answer  # whole, to a client that reads the text
    claude = answers["claude-code"]["structuredContent"]
    assert LIMIT * 0.8 < whole_size(answers["claude-code"]) <= LIMIT
    assert answer.startswith(claude["answer"]) and len(claude["answer"]) < len(answer)
    assert (
        f"The answer was cut to its first {len(claude['answer']):,} of {len(answer):,}"
        in (claude["note"])
    )
    assert "MAX_MCP_OUTPUT_TOKENS" in claude["note"]


def test_a_prompt_handed_back_keeps_to_what_claude_code_accepts(tmp_path: Path) -> None:
    sized_workspace(tmp_path)
    args = {
        "request": "widget frame layout for size: review every handler",
        "force": "paid",  # no paid key: the agent answers
        "max_context_tokens": 100_000,
    }
    answers = {}
    for client in ("claude-code", "cursor-vscode"):
        server = sized_session(tmp_path, client)
        try:
            if client == "claude-code":  # memories that fill the session brief's share
                for s in range(4):
                    decisions = [
                        {
                            "title": f"widget frame layout {s}.{d}",
                            "decision": layout_decision(50 * s + d),
                        }
                        for d in range(50)
                    ]
                    saved = server.call_tool("ocp_result_save", {"decisions": decisions})
                    assert not saved["result"]["isError"], saved
            answers[client] = server.call_tool("ocp_model_route", args)["result"]
        finally:
            server.kill()
    other = answers["cursor-vscode"]
    assert other["structuredContent"]["answered_by"] == "agent"
    assert estimate_tokens(other["content"][-1]["text"]) > LIMIT  # whole: the context asked
    claude = answers["claude-code"]["structuredContent"]
    assert claude["answered_by"] == "agent" and "## Workspace context" in claude["prompt"]
    assert claude["prompt"].rstrip().endswith("review every handler")  # the request whole
    assert LIMIT * 0.7 < whole_size(answers["claude-code"]) <= LIMIT
    assert "max_context_tokens=100,000 was lowered to " in claude["note"]
