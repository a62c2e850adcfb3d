"""A route the local model answers, through the in-process MCP client: the effort tests'
set-up (the tool's arguments as given, the answer checked to be the local model's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOllama
from tests.server.inproc import inproc_client, text_of

ASK = "rename this variable"


async def route_locally(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, ollama: FakeOllama, **arguments: Any
) -> dict[str, Any]:
    """`ocp_model_route` of ASK forced local on `ollama`, with `arguments`: its result."""
    env = {"OCP_OLLAMA_URL": ollama.url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": ASK, "force": "local", **arguments}
        )
    assert not routed.is_error, text_of(routed)
    out: dict[str, Any] = routed.structured_content or {}
    assert out["answered_by"] == "local", out["note"]
    return out
