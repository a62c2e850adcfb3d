"""`ocp_model_route` within OCP_ROUTE_TIMEOUT: the whole chain, phase 2 included (README, "How
routing decides"). Phase 2's verdict took part of the bound; the answer gets what is left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import FakeOllama
from tests.server.inproc import inproc_client, text_of

AMBIGUOUS = "debug the export job that fails on weekends"


async def test_phase_2_counts_against_the_routes_time_bound(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    def reply(messages: list[dict[str, object]], body: dict[str, object]) -> str:
        if body.get("format"):
            return json.dumps({"tier": "local", "reason": "a focused debugging question"})
        return "look at the cron schedule"

    fake_ollama.reply = reply
    # Each answer of the local model, the verdict included, takes 1.5 s: the verdict and the
    # answer together do not fit the route's 2.5 s, either one alone does.
    fake_ollama.delay = 1.5
    env = {
        "OCP_OLLAMA_URL": fake_ollama.url,
        "OCP_CLASSIFIER_TIMEOUT": "30",
        "OCP_LOCAL_TIMEOUT": "30",
        "OCP_ROUTE_TIMEOUT": "2.5",
    }
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"request": AMBIGUOUS})
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    trace = out["trace"]
    assert trace["phase"] == "llm_classifier", trace["decided_by"]
    # Out of time before the local model answered: no paid key, so back to the agent.
    assert out["answered_by"] == "agent", out["note"]
    assert "total time limit of 2.5s ran out" in trace["attempts"][-1]["error"]
