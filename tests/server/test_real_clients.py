"""ocp-server driven by independent, real MCP clients (run with `pytest -m clients`).

* The MCP Inspector CLI (`@modelcontextprotocol/inspector`, a Node implementation of the MCP
  client) lists the tools and calls each of them over stdio.
* Claude Code (`@anthropic-ai/claude-code`, the native binary) runs in print mode in a project
  folder whose `.mcp.json` starts ocp-server; its model is the scripted fake Anthropic API, which
  asks for each OCP tool in turn. The assertions are on the `tool_result` blocks Claude Code
  sends back to the model.
* The install path: `ocp-server init --client claude-code` in a git work tree writes the
  project's `.mcp.json` (and approves it); `claude mcp list` then shows ocp connected, and a
  scripted Claude Code session calls a tool through the command init wrote.

Both clients are npm packages pinned in tests/clients/package.json and installed with
`cd tests/clients && npm ci` (what .ci/clients.sh does). Everything talks to 127.0.0.1 only: the
model servers are the fakes, and any other HTTP(S) traffic is sent to a closed local proxy port.
A missing client is a test failure, never a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOllama
from tests.server.real_clients import (
    CLAUDE_TOOLS,
    CLIENTS,
    NODE_MODULES,
    TOOLS,
    AgentLoopAnthropic,
    claude_binary,
    client_env,
    require_file,
    text_of,
)
from tests.server.stdio_env import server_env

pytestmark = pytest.mark.clients

NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
EXIT_TOOL_ERROR = 5  # the inspector CLI's EXIT_CODES.TOOL_ERROR


# ---- helpers ------------------------------------------------------------------------------------


def server_command() -> list[str]:
    """Absolute command line of the ocp-server under test (the venv's console script)."""
    script = Path(sys.executable).parent / "ocp-server"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "ocp_server.cli"]


# ---- 1. MCP Inspector CLI -----------------------------------------------------------------------


class Inspector:
    """`npx --no-install mcp-inspector --cli --format json ... -- ocp-server`, in tests/clients."""

    def __init__(self, home: Path, server_env: dict[str, str], server_cwd: Path) -> None:
        self.env = client_env(home)
        self.server_env = server_env
        self.server_cwd = server_cwd

    def run(self, *args: str) -> tuple[int, dict[str, Any] | None, str]:
        """Exit code, the parsed JSON document on stdout (None if there is none), stderr."""
        require_file(NODE_MODULES / "@modelcontextprotocol" / "inspector", "the MCP Inspector")
        npx = shutil.which("npx", path=self.env["PATH"])
        if npx is None:
            pytest.fail(
                "npx (Node.js >= 20) is not on PATH: the inspector cannot run", pytrace=False
            )
        env_args = [a for k, v in self.server_env.items() for a in ("-e", f"{k}={v}")]
        cmd = [
            npx, "--no-install", "mcp-inspector", "--cli", "--format", "json",
            *args, *env_args, "--cwd", str(self.server_cwd), "--", *server_command(),
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, cwd=CLIENTS, env=self.env, capture_output=True, text=True, timeout=90
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the inspector did not finish within 90 s: {cmd}\n{exc.stderr!r}")
        out = proc.stdout.strip()
        try:
            doc = json.loads(out) if out else None
        except json.JSONDecodeError:
            pytest.fail(
                f"the inspector printed non-JSON on stdout (exit {proc.returncode}):\n{out}\n"
                f"stderr:\n{proc.stderr[-3000:]}"
            )
        return proc.returncode, doc, proc.stderr

    def call(self, tool: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        rc, doc, err = self.run(
            "--method", "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(args)
        )
        if doc is None or "result" not in doc:
            pytest.fail(f"tools/call {tool} gave no result (exit {rc}): {doc}\n{err[-3000:]}")
        return rc, doc["result"], err

    def ok(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """Call a tool that must succeed; return its structured content."""
        rc, result, err = self.call(tool, args)
        assert rc == 0 and result.get("isError") is False, (tool, rc, result, err[-3000:])
        structured = result.get("structuredContent")
        assert isinstance(structured, dict), result
        text = text_of(result.get("content"))
        assert text, f"{tool} returned no text content for clients that ignore structuredContent"
        return structured


@pytest.fixture
def inspector(tmp_path: Path, workspace: Path, fake_ollama: FakeOllama) -> Inspector:
    return Inspector(tmp_path / "inspector-home", server_env(workspace, fake_ollama), workspace)


def test_inspector_lists_the_four_tools_with_portable_names(inspector: Inspector) -> None:
    rc, doc, err = inspector.run("--method", "tools/list")
    assert rc == 0 and doc is not None, (rc, doc, err[-3000:])
    tools = {t["name"]: t for t in doc["result"]["tools"]}
    assert set(tools) == set(TOOLS)
    for name, tool in tools.items():
        assert NAME_RE.fullmatch(name), name
        assert tool.get("description", "").strip(), f"{name} has no description"
        assert tool["inputSchema"]["type"] == "object"


def test_inspector_calls_every_tool(
    inspector: Inspector, workspace: Path, fake_ollama: FakeOllama
) -> None:
    # Each inspector run is a fresh server process; the first ones may race the first index.
    deadline = time.monotonic() + 45
    searches = 0
    while True:
        found = inspector.ok("ocp_context_search", {"query": "verify token", "k": 3})
        searches += 1
        if found["results"] and not found["index"]["building"]:
            break
        assert time.monotonic() < deadline, f"the index never answered: {found}"
        time.sleep(0.5)
    print(f"the inspector searched {searches} time(s) before the first index was complete")
    top = found["results"][0]
    assert (top["citation"], top["symbol"]) == ("src/auth.py:6-8", "verify_token")

    rc, result, err = inspector.call("ocp_model_route", {"request": "explain the auth middleware"})
    assert rc == 0 and result.get("isError") is False, (rc, result, err[-3000:])
    routed = result["structuredContent"]
    assert routed["answered_by"] == "local"
    # the answer once: to a client that reads the text, as its last block
    assert routed["answer"] == ""
    assert result["content"][-1]["text"] == "local answer: explain the auth middleware"
    assert fake_ollama.requests_to("/api/chat"), "the fake Ollama was never asked"

    saved = inspector.ok(
        "ocp_result_save",
        {
            "trace_id": routed["trace"]["trace_id"],
            "outcome": "good enough",
            "summary": "Reviewed the auth helpers with the inspector.",
            "decisions": [
                {
                    "title": "token comparison",
                    "decision": "always use hmac.compare_digest",
                    "rationale": "timing attacks",
                }
            ],
            "state": {"auth.status": "reviewed"},
            "open_items": ["add tests for rotate_session"],
        },
    )
    assert saved["decision_ids"] and not saved["warnings"], saved

    brief = inspector.ok("ocp_session_restore", {"query": "token"})
    assert any(
        d["id"] in saved["decision_ids"] and d["decision"] == "always use hmac.compare_digest"
        for d in brief["decisions"]
    ), brief
    assert brief["state"].get("auth.status") == "reviewed"
    assert "add tests for rotate_session" in [o["text"] for o in brief["open_items"]]


def test_inspector_bad_argument_is_a_tool_error_naming_the_field(inspector: Inspector) -> None:
    rc, result, err = inspector.call("ocp_context_search", {"query": "x", "k": 0})
    assert rc == EXIT_TOOL_ERROR, (rc, result, err[-3000:])
    assert result["isError"] is True
    assert "`k`" in text_of(result["content"]), result


# ---- 2. Claude Code -----------------------------------------------------------------------------

FINAL_TEXT = "All four OCP tools answered."
DECISION = {
    "title": "token comparison",
    "decision": "always use hmac.compare_digest",
    "rationale": "timing attacks",
}


@pytest.mark.timeout(240)
def test_claude_code_calls_every_ocp_tool(
    tmp_path: Path, workspace: Path, fake_ollama: FakeOllama
) -> None:
    claude = claude_binary()
    env = server_env(workspace, fake_ollama)
    # Build the index first, so the one scripted search never races the first index build.
    subprocess.run(
        [*server_command(), "index", str(workspace)],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    (workspace / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "ocp": {
                        "command": server_command()[0],
                        "args": server_command()[1:],
                        "env": env,
                    }
                }
            },
            indent=2,
        )
    )
    script: list[dict[str, Any]] = [
        {"tool_use": {"name": "mcp__ocp__ocp_context_search", "input": {"query": "verify token"}}},
        {
            "tool_use": {
                "name": "mcp__ocp__ocp_model_route",
                "input": {"request": "explain the auth middleware"},
            }
        },
        {
            "tool_use": {
                "name": "mcp__ocp__ocp_result_save",
                "input": {
                    "summary": "Claude Code reviewed the auth helpers.",
                    "decisions": [DECISION],
                },
            }
        },
        {"tool_use": {"name": "mcp__ocp__ocp_session_restore", "input": {}}},
        {"text": FINAL_TEXT},
    ]
    with AgentLoopAnthropic(reply="ok", script=script) as anthropic:
        cmd = [
            str(claude), "-p",
            "Use the OCP tools: search for verify token, route 'explain the auth middleware', "
            "save the decision, then restore the session.",
            "--allowedTools", ",".join(CLAUDE_TOOLS),
            "--output-format", "json",
        ]  # fmt: skip
        cenv = client_env(
            tmp_path / "claude-home",
            ANTHROPIC_BASE_URL=anthropic.url,
            ANTHROPIC_API_KEY="sk-ant-test",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_AUTOUPDATER="1",
            # Connect the MCP servers before the first model request. By default (nonblocking)
            # the first request can go out before ocp is connected, without its tools.
            MCP_CONNECTION_NONBLOCKING="0",
            # … and wait for them longer than the default 5 s: on a loaded machine the server's
            # imports alone take that long.
            MCP_CONNECT_TIMEOUT_MS="60000",
        )
        started = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, cwd=workspace, env=cenv, capture_output=True, text=True, timeout=180
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"Claude Code did not finish within 180 s; {anthropic.script_remaining} script "
                f"steps left; requests: {[(r.method, r.path) for r in anthropic.requests]}\n"
                f"stdout: {exc.stdout!r}\nstderr: {exc.stderr!r}"
            )
        elapsed = time.monotonic() - started
        seen = [(r.method, r.path) for r in anthropic.requests]
        print(f"Claude Code took {elapsed:.1f}s and sent {len(seen)} requests: {seen}")
        assert proc.returncode == 0, (
            f"claude exited {proc.returncode}; requests {seen}\n"
            f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
        )
        assert anthropic.script_remaining == 0, (
            f"{anthropic.script_remaining} script steps unused; requests {seen}\n{proc.stdout}"
        )
        outcome = json.loads(proc.stdout)
        assert outcome.get("is_error") is False and outcome.get("result") == FINAL_TEXT, outcome

        assert len(anthropic.agent_requests()) == len(script)
        found = anthropic.tool_result_for("mcp__ocp__ocp_context_search")
        routed = anthropic.tool_result_for("mcp__ocp__ocp_model_route")
        saved = anthropic.tool_result_for("mcp__ocp__ocp_result_save")
        restored = anthropic.tool_result_for("mcp__ocp__ocp_session_restore")

    assert "src/auth.py:6-8" in found and "verify_token" in found, found
    route = json.loads(routed)
    assert route["answered_by"] == "local", route
    assert route["answer"] == "local answer: explain the auth middleware", route
    save = json.loads(saved)
    assert save["decision_ids"] and not save["warnings"], save
    brief = json.loads(restored)
    assert any(
        d["id"] in save["decision_ids"] and d["decision"] == DECISION["decision"]
        for d in brief["decisions"]
    ), brief


# ---- 3. `ocp-server init`, then Claude Code as a user starts it ---------------------------------


def uv_cache_dir() -> str:
    """The uv cache this test run uses (warm in CI after `uv sync`): the `uvx` that `init`
    writes builds the checkout from it, offline, inside the sandboxed client environment."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: `init` writes a uvx command for a checkout", pytrace=False)
    return subprocess.run(
        [uv, "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.timeout(400)
def test_claude_code_connects_after_init_and_calls_a_tool(
    tmp_path: Path, workspace: Path, fake_ollama: FakeOllama
) -> None:
    claude = claude_binary()
    home = tmp_path / "claude-home"
    cache = uv_cache_dir()
    # 1. What a user runs in the project. Its check runs the written command once (`uvx
    #    --from <checkout>/ocp_server ocp-server --version`), which also fills uv's cache.
    done = subprocess.run(
        [*server_command(), "init", "--client", "claude-code"],
        cwd=workspace,
        env={**os.environ, "HOME": str(home), "UV_CACHE_DIR": cache},  # the user's shell
        capture_output=True,
        text=True,
        timeout=320,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checked: the command starts" in done.stdout, done.stdout
    config = json.loads((workspace / ".mcp.json").read_text())
    entry = config["mcpServers"]["ocp"]
    assert entry["command"] == "uvx" and entry["args"][-1] == "ocp-server"
    assert "env" not in entry, "no API key and no workspace variable for Claude Code"

    # 2. Claude Code itself: isolated HOME, no network but 127.0.0.1, uv offline. The server
    #    inherits Claude Code's environment (the fake Ollama) and gets CLAUDE_PROJECT_DIR from it.
    cenv = client_env(
        home,
        UV_CACHE_DIR=cache,
        UV_OFFLINE="1",
        OCP_OLLAMA_URL=fake_ollama.url,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        MCP_CONNECTION_NONBLOCKING="0",
        # Print mode waits for MCP servers 5 s by default, then goes on without them; uvx
        # building the checkout takes 3-6 s here before the server even starts.
        MCP_CONNECT_TIMEOUT_MS="60000",
    )
    listed = subprocess.run(
        [str(claude), "mcp", "list"], cwd=workspace, env=cenv, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    ocp_line = next((line for line in listed.stdout.splitlines() if line.startswith("ocp:")), "")
    assert "Connected" in ocp_line, listed.stdout + listed.stderr
    assert "Missing environment variables" not in listed.stdout, listed.stdout

    script: list[dict[str, Any]] = [
        {"tool_use": {"name": "mcp__ocp__ocp_context_search", "input": {"query": "verify token"}}},
        {"text": FINAL_TEXT},
    ]
    with AgentLoopAnthropic(reply="ok", script=script) as anthropic:
        session = subprocess.run(
            [
                str(claude), "-p", "Search the code for verify token with OCP.",
                "--allowedTools", "mcp__ocp__ocp_context_search", "--output-format", "json",
            ],
            cwd=workspace,
            env={**cenv, "ANTHROPIC_BASE_URL": anthropic.url, "ANTHROPIC_API_KEY": "sk-ant-test"},
            capture_output=True,
            text=True,
            timeout=180,
        )  # fmt: skip
        seen = [(r.method, r.path) for r in anthropic.requests]
        assert session.returncode == 0, (seen, session.stdout[-3000:], session.stderr[-3000:])
        assert anthropic.script_remaining == 0, (seen, session.stdout)
        found = anthropic.tool_result_for("mcp__ocp__ocp_context_search")
    # The workspace came from Claude Code (CLAUDE_PROJECT_DIR): nothing in .mcp.json names it.
    result = json.loads(found)
    assert result["index"]["workspace"] == str(workspace), result["index"]
    assert "src/auth.py:6-8" in found and "verify_token" in found, found
