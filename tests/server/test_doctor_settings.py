"""`doctor` on settings that are set yet do nothing: a misspelt OCP_* variable, and a paid
model asked for without its key. Both were silent: the first ignored, the second "ok"."""

from __future__ import annotations

from pathlib import Path

from ocp_server.doctor import run_checks
from tests.fakes import FakeOllama


async def _checks(workspace: Path, **env: str) -> dict[str, tuple[str, str]]:
    with FakeOllama() as ollama:
        found = await run_checks(
            workspace, {"OCP_OLLAMA_URL": ollama.url, **env}, workspace.parent / "home"
        )
    return {c.name: (c.status, c.detail) for c in found}


async def test_a_misspelt_setting_is_a_warning_naming_the_setting_meant(workspace: Path) -> None:
    found = await _checks(workspace, OCP_LOCAL_MODLE="qwen3", OCP_VERSION="4.14")
    status, detail = found["settings"]
    assert status == "warn"
    assert "OCP_LOCAL_MODLE (did you mean OCP_LOCAL_MODEL?)" in detail and "ignored" in detail
    assert "OCP_VERSION" not in detail  # another tool's variable, like no setting


async def test_settings_all_spelt_right_say_nothing(workspace: Path) -> None:
    found = await _checks(workspace, OCP_LOCAL_MODEL="llama3.2", OCP_VERSION="4.14")
    assert "settings" not in found


async def test_a_paid_model_asked_for_without_its_key_is_a_warning_naming_the_key(
    workspace: Path,
) -> None:
    openai = await _checks(workspace, OCP_PAID_BACKEND="openai", OCP_PAID_MODEL="gpt-4.1")
    status, detail = openai["paid model"]
    assert status == "warn", detail
    assert detail.startswith("OCP_PAID_BACKEND and OCP_PAID_MODEL set, but OPENAI_API_KEY is not")
    anthropic = await _checks(workspace, OCP_PAID_MODEL="claude-sonnet-4-6")
    assert anthropic["paid model"][0] == "warn"
    assert "ANTHROPIC_API_KEY is not" in anthropic["paid model"][1]
    assert "--paid" in anthropic["paid model"][1]


async def test_no_paid_model_asked_for_is_fine_without_a_key(workspace: Path) -> None:
    for env in ({}, {"OCP_PAID_BACKEND": "none", "OCP_PAID_MODEL": "x"}):
        found = await _checks(workspace, **env)
        assert found["paid model"][0] == "ok", found["paid model"]
