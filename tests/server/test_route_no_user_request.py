"""`ocp_model_route` given a conversation with no user request in it (assistant turns only):
an error naming `messages` and no model called; it sent the local
model one empty user message and returned whatever that made it say."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeOllama
from tests.server.inproc import inproc_client, text_of

_ENV = {"OCP_CLASSIFIER_MODEL": "none"}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"messages": [{"role": "assistant", "content": "Here is the fix."}]}, "messages"),
        (
            {
                "messages": [
                    {"role": "assistant", "content": "Hello, how can I help?"},
                    {"role": "assistant", "content": [{"type": "text", "text": "Anything?"}]},
                ]
            },
            "messages",
        ),
    ],
)
async def test_a_route_without_a_user_request_is_an_error_naming_the_argument(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    args: dict[str, object],
    field: str,
) -> None:
    env = {**_ENV, "OCP_OLLAMA_URL": fake_ollama.url}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", args)
    assert routed.is_error, text_of(routed)
    said = text_of(routed)
    assert f"{field}: the conversation" in said and "user message" in said, said
    assert fake_ollama.requests_to("/api/chat") == []


async def test_assistant_turns_after_the_user_request_still_route(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    # An agent loop's conversation ends with the assistant's (or a tool's) turn: still a request.
    messages = [
        {"role": "user", "content": "explain verify_token"},
        {"role": "assistant", "content": "Reading auth.py first."},
    ]
    env = {**_ENV, "OCP_OLLAMA_URL": fake_ollama.url}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"messages": messages})
    assert not routed.is_error, text_of(routed)
    sent = fake_ollama.requests_to("/api/chat")[-1].body["messages"]
    assert "explain verify_token" in sent[-1]["content"]
