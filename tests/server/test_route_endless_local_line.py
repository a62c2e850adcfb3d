"""A local server whose stream never ends a line (something other than Ollama on
OCP_OLLAMA_URL, or a broken proxy in front of it): `ocp_model_route` stops reading at a cap and
escalates, instead of buffering the line without bound until OCP_LOCAL_TIMEOUT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env, text_of

_HELLO = json.dumps({"message": {"role": "assistant", "content": "Hello"}, "done": False}) + "\n"
_PIECE = b"x" * 65536
_LONGER_THAN_THE_CAP = (_PIECE,) * (16 * 9)  # 9 MiB, no newline


async def test_a_local_line_that_never_ends_escalates_at_the_cap(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # Then it stalls, the line unfinished: only a cap on the line ends the read before the
    # local timeout does.
    fake_ollama.hold_next(
        (_HELLO.encode(), *_LONGER_THAN_THE_CAP), "application/x-ndjson", path="/api/chat"
    )
    env = {**paid_env(fake_ollama, fake_anthropic), "OCP_LOCAL_TIMEOUT": "20"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": "explain verify_token", "max_context_tokens": 0}
        )
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["answered_by"] == "paid", out["note"]
    first = out["trace"]["attempts"][0]
    assert first["error_type"] == "BackendResponseError", first
    assert "longer than 8,388,608 bytes" in first["error"]
