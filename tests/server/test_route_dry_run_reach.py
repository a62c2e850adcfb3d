"""A dry run says what a real route would do now, not only what was decided: with no local
model listening it said "would go to llama3.2" and showed the bare request, and the real
route then handed the agent a prompt with workspace context (or went to the paid model)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeAnthropic, FakeOllama
from tests.proxy.dialects import HARD
from tests.server.inproc import inproc_client, paid_env, text_of
from tests.server.installed import installed_ollama

REQUEST = "explain what verify_token does"
CONTEXT = "## Workspace context"


async def _dry_and_real(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """The dry run's result and its text, then a real route's (the prompt shown once, in
    the text: tool_answers)."""
    async with inproc_client(workspace, monkeypatch, env) as client:
        planned = await client.call_tool("ocp_model_route", {"request": REQUEST, "dry_run": True})
        routed = await client.call_tool("ocp_model_route", {"request": REQUEST})
    assert not planned.is_error and not routed.is_error, text_of(planned) + text_of(routed)
    dry, real = planned.structured_content or {}, routed.structured_content or {}
    return dry, text_of(planned), real, text_of(routed)


async def test_a_dry_run_with_no_local_model_listening_says_the_agent_gets_the_enriched_prompt(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    env = {"OCP_OLLAMA_URL": refused_url, "OCP_CLASSIFIER_MODEL": "none"}
    dry, text, real, real_text = await _dry_and_real(workspace, monkeypatch, env)
    assert real["answered_by"] == "agent"  # what the real route did
    assert dry["answered_by"] == "none"  # a dry run: nobody asked to answer
    assert dry["trace"]["model"] == "agent" and dry["trace"]["local_unavailable"]
    assert "llama3.2 does not answer now" in dry["note"], dry["note"]
    assert refused_url in dry["note"], dry["note"]
    assert "hand the calling agent" in dry["note"], dry["note"]
    assert "would go to llama3.2" not in text
    assert "the local model is not reachable: your agent would answer" in text
    # what the agent would be handed: the workspace context, as the real route's prompt
    prompt = text.split(CONTEXT, 1)[1]
    assert "src/auth.py" in prompt and prompt.endswith(REQUEST), prompt
    assert real_text.endswith(CONTEXT + prompt), real_text


async def test_a_dry_run_with_no_local_model_listening_names_the_paid_model_a_route_goes_to(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    refused_url: str,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    env = paid_env(fake_ollama, fake_anthropic) | {"OCP_OLLAMA_URL": refused_url}
    dry, text, real, real_text = await _dry_and_real(workspace, monkeypatch, env)
    assert real["answered_by"] == "paid"
    assert dry["trace"]["tier"] == "local" and dry["trace"]["local_unavailable"]
    assert dry["trace"]["model"] == real["trace"]["model"], (dry["trace"], real["trace"])
    assert f"the local model is not reachable: would go to {real['trace']['model']}" in text
    assert CONTEXT in text and text.endswith(REQUEST), text


async def test_a_dry_run_with_the_local_model_there_says_it_gets_the_request_without_context(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    env = {"OCP_OLLAMA_URL": fake_ollama.url, "OCP_CLASSIFIER_MODEL": "none"}
    dry, text, real, real_text = await _dry_and_real(workspace, monkeypatch, env)
    assert real["answered_by"] == "local"
    assert dry["trace"]["model"] == "llama3.2" and not dry["trace"]["local_unavailable"]
    assert "no model called (would go to llama3.2)" in text
    assert CONTEXT not in text and text.endswith(f"] {REQUEST}"), text
    assert "without workspace context" in dry["note"] and "forced paid" in dry["note"]


async def test_a_dry_run_decided_paid_with_no_paid_key_asks_no_local_model_as_the_route_does(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    # Decided paid with no paid key, a real route hands the agent the prompt, nothing sent
    # anywhere: its dry run has no model to ask whether it is there.
    env = {"OCP_OLLAMA_URL": fake_ollama.url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        before = len(fake_ollama.requests)
        planned = await client.call_tool("ocp_model_route", {"request": HARD, "dry_run": True})
        asked = fake_ollama.requests[before:]
        routed = await client.call_tool("ocp_model_route", {"request": HARD})
    assert not planned.is_error and not routed.is_error, text_of(planned) + text_of(routed)
    dry, real = planned.structured_content or {}, routed.structured_content or {}
    assert real["answered_by"] == "agent" and "Nothing was sent anywhere" in real["note"]
    assert dry["trace"]["tier"] != "local", dry["trace"]
    assert asked == [], asked
    assert not dry["trace"]["local_unavailable"] and "not reachable" not in dry["note"]
    assert CONTEXT in text_of(planned)


async def _dry_note(workspace: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> str:
    async with inproc_client(workspace, monkeypatch, env) as client:
        planned = await client.call_tool("ocp_model_route", {"request": REQUEST, "dry_run": True})
    assert not planned.is_error, text_of(planned)
    note = (planned.structured_content or {})["note"]
    # what to do, in the note itself: it sent the user to `ocp-server doctor` for that
    assert "doctor" not in note, note
    return str(note)


async def test_a_dry_run_with_ollama_installed_and_not_running_says_to_start_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", f"{installed_ollama(tmp_path)}{os.pathsep}{os.environ['PATH']}")
    env = {"OCP_OLLAMA_URL": refused_url, "OCP_CLASSIFIER_MODEL": "none"}
    note = await _dry_note(workspace, monkeypatch, env)
    assert f"Cannot reach ollama at {refused_url}. Start it with `ollama serve`" in note, note
    assert "OCP_OLLAMA_URL" in note, note


async def test_a_dry_run_with_no_ollama_installed_says_to_install_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str, tmp_path: Path
) -> None:
    # `ollama serve` is no fix on a machine without Ollama: git is all the index needs
    monkeypatch.setenv("PATH", str(Path(shutil.which("git") or "/usr/bin/git").parent))
    assert shutil.which("ollama") is None
    env = {"OCP_OLLAMA_URL": refused_url, "OCP_CLASSIFIER_MODEL": "none"}
    note = await _dry_note(workspace, monkeypatch, env)
    assert f"Cannot reach ollama at {refused_url}. No Ollama here (`ollama` is not" in note, note
    assert "install it from https://ollama.com, then `ollama pull llama3.2`" in note, note
    assert "ollama serve" not in note, note


async def test_a_real_route_with_no_ollama_installed_says_to_install_it_not_to_start_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    # The dry run said so; the real route kept only its attempt's error text, the backend's
    # "Start it with `ollama serve`", a command a machine without Ollama does not have.
    monkeypatch.setenv("PATH", str(Path(shutil.which("git") or "/usr/bin/git").parent))
    assert shutil.which("ollama") is None
    env = {"OCP_OLLAMA_URL": refused_url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"request": REQUEST})
    said = text_of(routed) + str(routed.structured_content)
    assert f"cannot reach ollama at {refused_url}" in said, said
    assert "install it from https://ollama.com, then `ollama pull llama3.2`" in said, said
    assert "ollama serve" not in said, said


async def test_a_dry_run_with_the_local_model_not_pulled_says_to_pull_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, fake_ollama: FakeOllama
) -> None:
    env = {
        "OCP_OLLAMA_URL": fake_ollama.url,
        "OCP_LOCAL_MODEL": "qwen3:8b",
        "OCP_CLASSIFIER_MODEL": "none",
    }
    note = await _dry_note(workspace, monkeypatch, env)
    assert f"'qwen3:8b' is not pulled in Ollama at {fake_ollama.url}" in note, note
    assert "Run `ollama pull qwen3:8b`" in note, note


async def test_a_dry_run_with_an_openai_compatible_server_not_answering_names_its_url(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    env = {
        "OCP_LOCAL_BACKEND": "openai",
        "OCP_LOCAL_BASE_URL": f"{refused_url}/v1",
        "OCP_LOCAL_MODEL": "qwen",
        "OCP_CLASSIFIER_MODEL": "none",
    }
    note = await _dry_note(workspace, monkeypatch, env)
    assert f"at {refused_url}/v1. Check OCP_LOCAL_BASE_URL" in note, note
    assert "the server is running" in note, note
