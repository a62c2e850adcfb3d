"""`ocp_model_route`'s `model` naming the local model as Ollama names it: `llama3.2:latest`
(what `ollama list` shows, and what a local answer's trace calls the model) is the local
`llama3.2`, so the request stays on this machine instead of going to the paid provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env, text_of

ASK = "explain what verify_token does"


@pytest.mark.parametrize(
    ("configured", "given"),
    [("llama3.2", "llama3.2:latest"), ("llama3.2:latest", "llama3.2")],
)
async def test_the_local_model_by_its_other_ollama_name_stays_local(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    configured: str,
    given: str,
) -> None:
    env = {**paid_env(fake_ollama, fake_anthropic), "OCP_LOCAL_MODEL": configured}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"request": ASK, "model": given})
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["answered_by"] == "local", out["note"]
    assert out["trace"]["tier"] == "local" and out["trace"]["forced"]
    assert [a["backend"] for a in out["trace"]["attempts"]] == ["ollama"]
    # no paid call: only the start's question to an endpoint on this machine (the fake's)
    # whether it is OCP's proxy
    assert [r.path for r in fake_anthropic.requests] == ["/health"]
