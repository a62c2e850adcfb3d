"""`ocp_model_route` takes messages with image (and file) blocks, but its models are sent
text only: the route says so, in its note and its trace, instead of returning an answer about a
screenshot no model saw as if one had."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeOllama
from tests.server.inproc import inproc_client, text_of

SCREENSHOT = {
    "role": "user",
    "content": [
        {"type": "text", "text": "what is wrong in this screenshot?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
    ],
}


async def test_an_image_no_model_was_sent_is_named_in_the_note_and_the_trace(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    env = {"OCP_OLLAMA_URL": fake_ollama.url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"messages": [SCREENSHOT]})
        plain = await client.call_tool("ocp_model_route", {"request": "explain verify_token"})
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["answered_by"] == "local"
    said = "1 image or file in the conversation was not sent"
    assert said in out["note"] and said in text_of(routed)
    assert any(said in note for note in out["trace"]["notes"])
    assert "image" not in (plain.structured_content or {})["note"]
