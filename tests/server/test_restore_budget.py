"""The smallest restore budget over the real tool: the README promises 300 tokens always hold
one short memory, and sections are served in their order (active decisions first)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_wire.restore import MIN_RESTORE_TOKENS
from tests.server.inproc import inproc_client, text_of


async def test_the_smallest_budget_serves_a_short_cited_decision_before_open_items_and_state(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        await client.call_tool("ocp_context_search", {"query": "verify_token"})  # indexed
        saved = await client.call_tool(
            "ocp_result_save",
            {
                "decisions": [
                    {
                        "title": "token comparison",
                        "decision": "verify_token compares in constant time",
                        "rationale": "timing attacks",
                        "citations": ["verify_token"],
                    }
                ],
                "open_items": ["add rate limiting to login"],
                "state": {"branch": "feature/auth", "db": "sqlite"},
            },
        )
        assert not saved.is_error, text_of(saved)
        raw = await client.call_tool("ocp_session_restore", {"max_tokens": MIN_RESTORE_TOKENS})
    result = wire.RestoreResult.model_validate(raw.structured_content)
    assert [d.title for d in result.decisions] == ["token comparison"], text_of(raw)
    assert result.decisions[0].citations[0].symbol == "verify_token"
    assert "decisions" not in result.omitted
    assert result.tokens == estimate_tokens(result.model_dump_json()) <= MIN_RESTORE_TOKENS
    assert estimate_tokens(text_of(raw)) <= MIN_RESTORE_TOKENS
