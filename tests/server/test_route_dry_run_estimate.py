"""A dry run of `ocp_model_route` on a paid route estimates the call it planned: the whole
request a paid model would get (system prompt, earlier turns and the prompt), as the route
itself estimates it before calling, not the latest turn alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_router.tokens import estimate_tokens
from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env, text_of

SYSTEM = "You are a careful senior engineer who explains trade-offs. " * 200
MESSAGES = [
    {"role": "user", "content": "design the sharding of our payment service"},
    {"role": "assistant", "content": "Shard by merchant id, with a directory service. " * 150},
    {"role": "user", "content": "and the failover part, consistency across regions?"},
]


async def test_a_dry_run_estimates_the_whole_paid_request(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    args = {"messages": MESSAGES, "system": SYSTEM, "force": "top", "max_context_tokens": 0}
    async with inproc_client(workspace, monkeypatch, paid_env(fake_ollama, fake_anthropic)) as c:
        planned = await c.call_tool("ocp_model_route", {**args, "dry_run": True})
        routed = await c.call_tool("ocp_model_route", args)
    assert not planned.is_error and not routed.is_error, text_of(planned) + text_of(routed)
    dry = (planned.structured_content or {})["trace"]
    real = (routed.structured_content or {})["trace"]
    assert dry["model"] == real["model"] == "claude-opus-4-6"
    assert dry["estimated_cost_usd"] == real["estimated_cost_usd"]
    # The system prompt and the earlier answer go too: the dry run counts them.
    assert dry["prompt_tokens"] > estimate_tokens(SYSTEM) + estimate_tokens(MESSAGES[1]["content"])
