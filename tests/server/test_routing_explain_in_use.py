"""`ocp-server routing explain` marks the local model whose thresholds route now: the one the
settings name (OCP_LOCAL_MODEL on OCP_OLLAMA_URL or OCP_LOCAL_BASE_URL), however spelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocp_router.calibration import Calibration, TypeCalibration
from ocp_router.calibration_file import Calibrations, calibration_path
from ocp_server.cli import main

WEAK = "llama3.2:1b @ http://localhost:11434"
STRONG = "qwen2.5-coder:32b @ http://localhost:11434"


def _save(workspace: Path, *keys: str) -> None:
    models = {}
    for i, key in enumerate(keys):
        cal = Calibration()
        cal.types["debug"] = TypeCalibration(shift=-0.1 * (i + 1), outcomes=4.0)
        models[key] = cal
    Calibrations(models=models).save(calibration_path(workspace / ".ocp"))


def _explain(workspace: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["routing", "explain", *flags, "--workspace", str(workspace)]) == 0
    return capsys.readouterr().out


def test_the_model_the_settings_route_with_is_marked_in_use_and_the_other_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, WEAK, STRONG)
    monkeypatch.setenv("OCP_LOCAL_MODEL", "qwen2.5-coder:32b")
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://localhost:11434/")  # spelled otherwise
    lines = _explain(tmp_path, capsys).splitlines()
    assert f"{STRONG} (in use)" in "\n".join(lines)
    assert not [line for line in lines if line.startswith(WEAK) and "(in use)" in line]


def test_ollamas_default_tag_marks_the_model_learned_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, "llama3.2 @ http://localhost:11434")
    monkeypatch.setenv("OCP_LOCAL_MODEL", "llama3.2:latest")
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://localhost:11434")
    out = _explain(tmp_path, capsys)
    assert "llama3.2 @ http://localhost:11434 (in use), last changed" in out
    assert "nothing learned yet" not in out


def test_a_model_with_nothing_learned_is_said_to_use_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, WEAK)
    monkeypatch.setenv("OCP_LOCAL_BACKEND", "openai")
    monkeypatch.setenv("OCP_LOCAL_MODEL", "qwen3")
    monkeypatch.setenv("OCP_LOCAL_BASE_URL", "http://127.0.0.1:8080/v1/")
    out = _explain(tmp_path, capsys)
    # the key drops `/v1` (an OpenAI-compatible layer is its server: calibration_keys.py)
    assert "qwen3 @ http://127.0.0.1:8080 (in use): nothing learned yet; it uses none" in out
    assert f"{WEAK} (in use)" not in out


def test_the_json_names_the_model_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, WEAK, STRONG)
    monkeypatch.setenv("OCP_LOCAL_MODEL", "llama3.2:1b")
    monkeypatch.setenv("OCP_OLLAMA_URL", "HTTP://LOCALHOST:11434")
    printed = json.loads(_explain(tmp_path, capsys, "--json"))
    assert printed["in_use"] == WEAK and WEAK in printed["models"]
