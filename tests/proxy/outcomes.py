"""What the proxy's outcome tests share: a request phase 1 scores just under the line, the
proxy's environment without the classifier model, and an outcome saved through the MCP
server (another process's ocp_result_save) on a proxied request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env

NEAR = "debug the export job that fails on weekends"  # a request phase 1 scores just under 0.5


def phase1_only(proxy_env: dict[str, str]) -> dict[str, str]:
    return proxy_env | {"OCP_CLASSIFIER_MODEL": "none"}


async def saved_outcome(
    request_id: str,
    outcome: str,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> dict[str, Any]:
    """What `ocp_result_save` answers to `outcome` saved on the proxied request `request_id`."""
    env = paid_env(fake_ollama, fake_anthropic) | {"OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        out = await client.call_tool(
            "ocp_result_save", {"trace_id": request_id, "outcome": outcome}
        )
    assert not out.is_error and out.structured_content is not None, out.content
    saved: dict[str, Any] = out.structured_content
    return saved
