"""Claude Code itself pointed at the proxy (`ANTHROPIC_BASE_URL`), marker `clients` (needs
`cd tests/clients && npm ci`, see .ci/clients.sh): a tool-using session whose main loop goes
paid (to a scripted fake Anthropic upstream) while its tool-less side requests are answered by
the local model (fake Ollama)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.ollama import FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.recorded import recorded_rows
from tests.server.real_clients import AgentLoopAnthropic, claude_binary, client_env

pytestmark = pytest.mark.clients

FINAL = "The answer in notes.txt is 42."


class ReadLoopAnthropic(AgentLoopAnthropic):
    """The script advances only on main-loop requests (those offering Claude Code's Read)."""

    def _next_step(self, body: dict[str, Any]) -> dict[str, Any]:
        names = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        if "Read" not in names:
            return {"text": "ok"}
        with self._lock:
            if self.script:
                return self.script.pop(0)
        return {"text": "ok"}


@pytest.mark.timeout(240)
def test_claude_code_runs_a_tool_session_through_the_proxy(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    tmp_path: Path,
) -> None:
    claude = claude_binary()
    project = tmp_path / "project"
    project.mkdir()
    notes = project / "notes.txt"
    notes.write_text("the answer is 42\n")
    script: list[dict[str, Any]] = [
        {"tool_use": {"name": "Read", "input": {"file_path": str(notes)}}},
        {"text": FINAL},
    ]
    with ReadLoopAnthropic(reply="ok", script=script) as upstream:
        proxy = start_proxy(proxy_env | {"OCP_PROXY_ANTHROPIC_UPSTREAM": upstream.url})
        env = client_env(
            tmp_path / "claude-home",
            ANTHROPIC_BASE_URL=proxy.url,
            ANTHROPIC_API_KEY="sk-ant-test",
            DISABLE_AUTOUPDATER="1",
        )
        proc = subprocess.run(
            [
                str(claude), "-p", "What is the answer in notes.txt? Read it.",
                "--allowedTools", "Read", "--output-format", "json",
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )  # fmt: skip
        rows = proxy.call(recorded_rows)
        summary = [(r["requested_model"], r["answered_tier"], r["status"]) for r in rows]
        assert proc.returncode == 0, f"{summary}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        outcome = json.loads(proc.stdout)
        assert outcome.get("result") == FINAL, (outcome, summary)
        assert upstream.script_remaining == 0
        # The main loop offered tools: it went paid, and Claude Code read the file for real.
        results = [
            block
            for body in upstream.message_requests()
            for m in body.get("messages") or []
            if isinstance(m.get("content"), list)
            for block in m["content"]
            if block.get("type") == "tool_result"
        ]
        assert any("the answer is 42" in json.dumps(b) for b in results), results
    paid = [r for r in rows if r["answered_tier"] in ("mid", "top")]
    assert len(paid) >= 2 and all(r["status"] == 200 for r in rows), summary
    # Claude Code's tool-less side request (the session title) was answered locally.
    local = [r for r in rows if r["answered_tier"] == "local"]
    assert len(local) >= 1 and len(local) == len(fake_ollama.requests_to("/api/chat")), summary
    print(f"Claude Code through the proxy: {summary}")
