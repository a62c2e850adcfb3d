"""`ocp_model_route` on a thinking model behind an OpenAI-compatible local server (llama.cpp:
`reasoning_content`): the answer is the model's answer, not its thinking, and the trace counts
the thinking."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeOpenAI
from tests.server.inproc import inproc_client, text_of

THOUGHT = "the caller passes a naive datetime, so compare in UTC before the expiry check"


async def test_the_route_answers_with_the_answer_and_counts_the_thinking(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply = {"content": "verify_token checks the expiry.", "reasoning_content": THOUGHT}
    env = {
        "OCP_LOCAL_BACKEND": "openai",
        "OCP_LOCAL_BASE_URL": fake_openai.base_url,
        "OCP_CLASSIFIER_MODEL": "none",
    }
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"request": "explain verify_token"})
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["answered_by"] == "local", out["trace"]["attempts"]
    said = (out["answer"] or "") + text_of(routed)
    assert "verify_token checks the expiry." in said and "naive datetime" not in said
    trace = out["trace"]
    assert 0 < trace["reasoning_tokens"] <= trace["completion_tokens"]
