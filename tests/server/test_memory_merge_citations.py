"""A save that merges into a near-identical memory cites the code where it is now: a citation
of the same code (the same lines of the same file, or the same definition, which moved) takes
the place of the memory's older one. The merge added the new citation beside the old one,
so a note saved again after its code changed stayed stale on the old lines it had cited."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from tests.server.inproc import inproc_client, text_of

NOTE = "verify_token compares the token with hmac.compare_digest in constant time"
DECISION = {
    "title": "constant-time token check",
    "decision": "verify_token compares the token with hmac.compare_digest",
    "citations": ["verify_token"],
}
GUARD = "    if not token:\n        return False\n    return hmac.compare_digest(token, secret)"


def _edit_verify_token(workspace: Path) -> None:
    """verify_token gains a guard: two lines longer, its old lines' hash no longer holds."""
    auth = workspace / "src" / "auth.py"
    body = auth.read_text()
    auth.write_text(body.replace("    return hmac.compare_digest(token, secret)", GUARD))


@pytest.mark.parametrize("kind", ["note", "decision"])
async def test_a_memory_saved_again_after_its_code_changed_cites_the_code_as_it_is_now(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    item = (
        {"notes": [{"text": NOTE, "citations": ["verify_token"]}]}
        if kind == "note"
        else {"decisions": [DECISION]}
    )
    async with inproc_client(workspace, monkeypatch) as client:
        await client.call_tool("ocp_context_search", {"query": "verify_token"})  # indexed
        first = await client.call_tool("ocp_result_save", item)
        assert "src/auth.py:6-8" in text_of(first), text_of(first)
        _edit_verify_token(workspace)
        await client.call_tool("ocp_context_search", {"query": "verify_token"})  # re-indexed
        stale = wire.RestoreResult.model_validate(
            (await client.call_tool("ocp_session_restore", {})).structured_content
        )
        assert [s.id for s in stale.stale] == [1] and stale.stale_count == 1
        again = await client.call_tool("ocp_result_save", item)
        assert (
            "merged into it instead of saving a duplicate; 1 older citation(s) of the same code "
            "replaced by where it is now"
        ) in text_of(again), text_of(again)
        raw = await client.call_tool("ocp_session_restore", {})
    result = wire.RestoreResult.model_validate(raw.structured_content)
    assert result.stale == [] and result.stale_count == 0, text_of(raw)
    served = result.notes if kind == "note" else result.decisions
    (memory,) = served
    assert memory.id == 1 and memory.verified == "valid"
    assert [(c.citation, c.status) for c in memory.citations] == [("src/auth.py:6-10", "valid")]
    assert "[valid: src/auth.py:6-10]" in text_of(raw)
