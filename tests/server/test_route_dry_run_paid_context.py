"""A dry run of a route a paid model would answer shows what that call would send. For a
client that accepts only so much of a result (Claude Code), the prompt it showed was built
with the context lowered to what fits a handed-back prompt (`max_context_tokens=100,000 was
lowered to …`), while the real paid call sends the whole budget's context: the dry run
understated what would be sent and estimated its cost on that."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.result_sizes import (
    LIMIT,
    layout_decision,
    sized_session,
    sized_workspace,
    whole_size,
)

ARGS = {
    "request": "widget frame layout for size: review every handler",
    "force": "paid",
    "max_context_tokens": 100_000,
}


def test_a_paid_dry_run_shows_the_context_the_paid_call_sends_not_the_clients_share(
    tmp_path: Path, fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    sized_workspace(tmp_path)
    paid = {
        "OCP_OLLAMA_URL": fake_ollama.url,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fake_anthropic.url,
        "OCP_CLASSIFIER_MODEL": "none",
    }
    server = sized_session(tmp_path, "claude-code", **paid)
    try:
        for s in range(4):  # memories that fill the session brief's share of the context
            decisions = [
                {"title": f"widget frame layout {s}.{d}", "decision": layout_decision(50 * s + d)}
                for d in range(50)
            ]
            saved = server.call_tool("ocp_result_save", {"decisions": decisions})
            assert not saved["result"]["isError"], saved
        dry: dict[str, Any] = server.call_tool("ocp_model_route", ARGS | {"dry_run": True})
        real: dict[str, Any] = server.call_tool("ocp_model_route", ARGS)
    finally:
        server.kill()
    planned, routed = dry["result"]["structuredContent"], real["result"]["structuredContent"]
    assert routed["answered_by"] == "paid", routed["note"]
    sent = fake_anthropic.message_requests()[-1]["messages"][-1]["content"]
    sent_text = sent if isinstance(sent, str) else "".join(b.get("text", "") for b in sent)
    assert "## Workspace context" in sent_text
    # the dry run's trace: the context of the real call (the session brief a route builds
    # can order its decisions a little apart the second time: not the same to the token),
    # not the 12,840 tokens a prompt handed back to Claude Code keeps to
    dry_context, real_context = (
        planned["trace"]["context_tokens"],
        routed["trace"]["context_tokens"],
    )
    assert real_context > 20_000, routed["trace"]
    assert abs(dry_context - real_context) <= real_context // 50, (dry_context, real_context)
    assert "was lowered to" not in planned["note"], planned["note"]
    # shown to Claude Code within what it accepts, saying the call sends it whole
    assert whole_size(dry["result"]) <= LIMIT
    assert planned["prompt"][:5000] == sent_text[:5000] and len(planned["prompt"]) < len(sent_text)
    assert "a real route sends the paid model all of it" in planned["note"], planned["note"]
