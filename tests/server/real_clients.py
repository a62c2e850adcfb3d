"""Real MCP clients (the pinned Claude Code in tests/clients) against ocp-server: where they
are installed, the environment they run in, and a fake Anthropic upstream that drives their
agent loop."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeAnthropic, closed_port
from tests.fakes._http import Request, Response

REPO = Path(__file__).resolve().parents[2]


CLIENTS = REPO / "tests" / "clients"
NODE_MODULES = CLIENTS / "node_modules"
INSTALL_HINT = "install the pinned clients with `cd tests/clients && npm ci` (see .ci/clients.sh)"


TOOLS = ("ocp_context_search", "ocp_session_restore", "ocp_model_route", "ocp_result_save")


def client_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment for a client process: isolated HOME, no keys, local traffic only."""
    home.mkdir(parents=True, exist_ok=True)
    blackhole = f"http://127.0.0.1:{closed_port()}"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "CI": "1",
        # Anything that is not 127.0.0.1 goes to a port where nothing listens.
        "HTTP_PROXY": blackhole,
        "HTTPS_PROXY": blackhole,
        "http_proxy": blackhole,
        "https_proxy": blackhole,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "NPM_CONFIG_UPDATE_NOTIFIER": "false",
        "NPM_CONFIG_OFFLINE": "true",
        "NO_UPDATE_NOTIFIER": "1",
        **extra,
    }


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is not installed ({path} is missing): {INSTALL_HINT}", pytrace=False)
    return path


def text_of(content: Any) -> str:
    """The text of a tool_result's content (a string or a list of text blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


CLAUDE_TOOLS = [f"mcp__ocp__{name}" for name in TOOLS]


MID_CONVERSATION_SYSTEM = "mid-conversation-system-2026-04-07"


class AgentLoopAnthropic(FakeAnthropic):
    """FakeAnthropic, extended for Claude Code.

    * The script only advances on the agent's main-loop requests: Claude Code may also send side
      requests (`count_tokens`, `/v1/messages` calls without our tools, e.g. for titles). Only a
      `/v1/messages` request whose `tools` carry the OCP MCP tools consumes a script step; any
      other gets the plain `reply`.
    * With the `anthropic-beta: mid-conversation-system-2026-04-07` header, `messages` may hold
      `role: "system"` entries (Claude Code 2.1.197 sends one listing its agent types). They are
      validated like the rest of the request with those entries left out.
    """

    def _validate(self, req: Request, *, need_max_tokens: bool) -> dict[str, Any] | Response:
        beta = {b.strip() for b in req.headers.get("anthropic-beta", "").split(",")}
        body = req.json
        if MID_CONVERSATION_SYSTEM not in beta or not isinstance(body, dict):
            return super()._validate(req, need_max_tokens=need_max_tokens)
        messages = body.get("messages")
        if isinstance(messages, list):
            for i, m in enumerate(messages):
                if isinstance(m, dict) and m.get("role") == "system":
                    if not isinstance(m.get("content"), (str, list)) or not m["content"]:
                        return self._invalid(f"messages.{i}.content: Field required")
            kept = [m for m in messages if not (isinstance(m, dict) and m.get("role") == "system")]
            req = dataclasses.replace(req, json={**body, "messages": kept})
        checked = super()._validate(req, need_max_tokens=need_max_tokens)
        return checked if isinstance(checked, Response) else body

    def _next_step(self, body: dict[str, Any]) -> dict[str, Any]:
        names = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        if not names & set(CLAUDE_TOOLS):
            return {"text": str(self.reply if isinstance(self.reply, str) else "ok")}
        return super()._next_step(body)

    def agent_requests(self) -> list[dict[str, Any]]:
        return [
            b
            for b in self.message_requests()
            if isinstance(b, dict)
            and {t.get("name") for t in b.get("tools") or []} & set(CLAUDE_TOOLS)
        ]

    def tool_result_for(self, tool: str) -> str:
        """Text of the tool_result Claude Code sent back for our scripted call of `tool`."""
        ids = [
            block["id"]
            for message in self.responses
            for block in message["content"]
            if block["type"] == "tool_use" and block["name"] == tool
        ]
        assert len(ids) == 1, f"expected one scripted {tool} call, got {ids}"
        for body in self.message_requests():
            for m in body.get("messages") or []:
                if m.get("role") != "user" or not isinstance(m.get("content"), list):
                    continue
                for block in m["content"]:
                    if block.get("type") == "tool_result" and block.get("tool_use_id") == ids[0]:
                        text = text_of(block.get("content"))
                        assert not block.get("is_error"), f"{tool} failed in Claude Code: {text}"
                        return text
        pytest.fail(f"Claude Code never sent a tool_result for {tool} ({ids[0]})")


def claude_binary() -> Path:
    """The native binary of the optional platform package (works without npm's postinstall)."""
    require_file(NODE_MODULES / "@anthropic-ai" / "claude-code", "Claude Code")
    if sys.platform != "linux":
        pytest.fail("this test runs Claude Code's linux binary only", pytrace=False)
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    for suffix in ("", "-musl"):
        native = NODE_MODULES / "@anthropic-ai" / f"claude-code-linux-{arch}{suffix}" / "claude"
        if native.is_file():
            return native
    return require_file(NODE_MODULES / ".bin" / "claude", "Claude Code's native binary")
