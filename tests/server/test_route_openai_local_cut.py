"""An OpenAI-compatible local server (`OCP_LOCAL_BACKEND=openai`) that cut an over-long prompt
to fit its context without an error: its `usage.prompt_tokens` says it read far less than the
prompt, and `ocp_model_route` escalates instead of returning the answer to a prompt the model
never saw whole (README, "How routing decides": such a low count is taken as a cut)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.server.inproc import inproc_client, text_of

# Prose, which the fake counts (words) about as OCP estimates (BPE tokens): ~2,100 tokens.
LOG = "\n".join(
    f"worker {i % 7} picked the next job from the queue and finished it without trouble"
    for i in range(150)
)
ASK = f"summarise what this log says:\n```\n{LOG}\n```"


def _env(openai: FakeOpenAI, anthropic: FakeAnthropic) -> dict[str, str]:
    return {
        "OCP_LOCAL_BACKEND": "openai",
        "OCP_LOCAL_BASE_URL": openai.base_url,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": anthropic.url,
        "OCP_CLASSIFIER_MODEL": "none",
    }


async def test_a_prompt_the_local_server_cut_silently_escalates(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_openai.silent_context = 512
    env = _env(fake_openai, fake_anthropic)
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": ASK, "max_context_tokens": 0}
        )
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["trace"]["decision"] == "local"
    assert out["answered_by"] == "paid", out["note"]
    first = out["trace"]["attempts"][0]
    assert first["backend"] == "openai" and first["error_type"] == "BackendContextExceeded"
    assert "read 512 of about" in first["error"]


async def test_a_prompt_read_whole_is_answered_locally(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
) -> None:
    env = _env(fake_openai, fake_anthropic)
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": ASK, "max_context_tokens": 0}
        )
    out = routed.structured_content or {}
    assert out["answered_by"] == "local", out["note"]
    # no paid call: only the start's question to an endpoint on this machine (the fake's)
    # whether it is OCP's proxy
    assert [r.path for r in fake_anthropic.requests] == ["/health"]
