"""An outcome saved on a route is told as the outcome, not as one more note."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.inproc import inproc_client, text_of


async def test_a_note_saved_with_a_routes_outcome_is_told_as_one_note_and_one_outcome(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: "Saved 2 notes, 1 outcome", "Note ids: 1, 2", the first the outcome's row, which no
    # restore lists among the notes.
    async with inproc_client(workspace, monkeypatch) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": "explain verify_token", "dry_run": True}
        )
        assert routed.structured_content is not None
        trace_id = routed.structured_content["trace"]["trace_id"]
        saved = await client.call_tool(
            "ocp_result_save",
            {"trace_id": trace_id, "outcome": "good", "notes": ["tokens expire after an hour"]},
        )
        out = saved.structured_content
        assert not saved.is_error and out is not None
        assert text_of(saved).startswith("Saved 1 note, 1 outcome ")
        (note,) = out["note_ids"]
        assert out["saved"]["notes"] == 1 and out["outcome_id"] not in (None, note)
        assert f"Outcome id: {out['outcome_id']} (forget_notes takes it)" in text_of(saved)

        restored = await client.call_tool("ocp_session_restore", {})
        assert restored.structured_content is not None
        assert [n["id"] for n in restored.structured_content["notes"]] == [note]
        forgot = await client.call_tool("ocp_result_save", {"forget_notes": [out["outcome_id"]]})
        assert forgot.structured_content is not None
        assert forgot.structured_content["forgotten"] == [f"note #{out['outcome_id']}"]
