"""An OpenAI-compatible local server whose base URL was given without its `/v1` (LM Studio shows
its server as http://localhost:1234): the route's note names the setting to fix, not only the
model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeOpenAI
from tests.server.inproc import inproc_client, text_of


async def test_a_base_url_without_v1_is_named_with_the_fix(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    env = {
        "OCP_LOCAL_BACKEND": "openai",
        "OCP_LOCAL_BASE_URL": fake_openai.url,  # the server's root: its API is under /v1
        "OCP_CLASSIFIER_MODEL": "none",
    }
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"request": "explain verify_token"})
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["answered_by"] == "agent"  # no paid key: back to the agent, saying why
    error = out["trace"]["attempts"][0]["error"]
    assert "OCP_LOCAL_BASE_URL" in error and f"{fake_openai.url}/v1" in error, error
    assert "OCP_LOCAL_MODEL" in error
