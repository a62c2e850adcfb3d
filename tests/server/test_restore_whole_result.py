"""`max_tokens` of a restore bounds the whole tool result as sent: its text block and its
structured content together. The brief went twice, as the text block and in the structured
content beside the same items as values, and only the structured part was fitted: a client
that shows the model both (some do: opencode appends the structured JSON to the text) got
1.3-1.45x the budget asked for. The brief now goes once, as the text block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_wire.restore import MIN_RESTORE_TOKENS
from tests.server.inproc import inproc_client, text_of

DECISIONS = [
    {
        "title": f"token rule {i}",
        "decision": f"verify_token compares in constant time, rule {i} on session rotation",
        "rationale": "timing attacks leak how much of a guess was right",
        "citations": ["verify_token"],
    }
    for i in range(30)
]
NOTES = [f"note {i}: rotate_session drops the old id from the store" for i in range(30)]


@pytest.mark.parametrize("query", [None, "rotation"])
async def test_the_text_block_and_the_structured_content_together_keep_to_max_tokens(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, query: str | None
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        await client.call_tool("ocp_context_search", {"query": "verify_token"})  # indexed
        saved = await client.call_tool(
            "ocp_result_save",
            {"decisions": DECISIONS, "notes": NOTES, "open_items": ["add rate limiting"]},
        )
        assert not saved.is_error, text_of(saved)
        for budget in (MIN_RESTORE_TOKENS, 1_000, 2_000, 4_000):
            args = {"max_tokens": budget, **({"query": query} if query else {})}
            raw = await client.call_tool("ocp_session_restore", args)
            result = wire.RestoreResult.model_validate(raw.structured_content)
            text = text_of(raw)
            structured = json.dumps(
                raw.structured_content, separators=(",", ":"), ensure_ascii=False
            )
            sent = estimate_tokens(text) + estimate_tokens(structured)  # as sent (no `note`)
            assert result.tokens == sent <= budget, (budget, result.tokens, sent)
            assert result.brief == ""  # sent once: as the text block
            assert text.startswith("# Session memory\n\n## Active decisions"), text
            assert result.decisions, (budget, text)  # not vacuous: memories are served
            if budget >= 1_000:  # and the budget is used, not just kept to
                assert sent > budget * 3 // 4, (budget, sent)
