"""An invalid routing setting is the route tool's error alone (test_routing_settings_held.py):
what reads routing's settings without routing keeps working, each naming the bad setting.
Outcomes saved on earlier routes still teach the calibration (it needs OCP_ROUTE_THRESHOLD
alone), `ocp-server stats` and `routing explain` still report (exit 0, with a line naming the
setting), and `doctor` still checks the workspace and the IDE's config beside the failed
routing check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocp_server.cli import main
from ocp_server.doctor import run_checks
from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env, text_of

NEAR = "debug the export job that fails on weekends"  # phase 1 scores it just under 0.5
BAD = "OCP_LOCAL_TIMEOUT='abc' is invalid"


@pytest.mark.parametrize(
    ("variable", "value", "learns"),
    [("OCP_LOCAL_TIMEOUT", "abc", True), ("OCP_ROUTE_THRESHOLD", "abc", False)],
)
async def test_an_outcome_teaches_routing_unless_the_threshold_itself_is_invalid(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    variable: str,
    value: str,
    learns: bool,
) -> None:
    env = paid_env(fake_ollama, fake_anthropic)
    async with inproc_client(workspace, monkeypatch, env) as client:
        out = await client.call_tool(
            "ocp_model_route", {"request": NEAR, "session_id": "a", "max_context_tokens": 0}
        )
    assert out.structured_content is not None
    trace: dict[str, Any] = out.structured_content["trace"]
    assert trace["decision"] == "local" and trace["answered_tier"] == "local"
    # The next run has a typo in a routing setting: its route tool refuses, but the outcome
    # judges a route of the run before. "Wrong" on a local answer would lift the session's
    # floor in a router this run does not have.
    async with inproc_client(workspace, monkeypatch, env | {variable: value}) as client:
        saved = await client.call_tool(
            "ocp_result_save",
            {"trace_id": trace["trace_id"], "outcome": "that answer was wrong"},
        )
    assert not saved.is_error, text_of(saved)
    assert saved.structured_content is not None
    path = workspace.parent / "routing-calibration.json"
    if learns:
        assert saved.structured_content["saved"]["calibration"] == 1
        stored = json.loads(path.read_text("utf-8"))
        assert stored["base_threshold"] == 0.5
        # the model the route was decided against, though this run has no router
        learned = stored["models"][trace["local_model"]]["task_types"][trace["task_type"]]
        assert learned["outcomes"] == 1
    else:  # no threshold to learn around: said, not silently dropped
        assert saved.structured_content["saved"]["calibration"] == 0
        assert not path.exists()
        warnings = " ".join(saved.structured_content["warnings"])
        assert f"{variable}={value!r} is invalid" in warnings, warnings


def test_stats_reports_and_names_a_bad_routing_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OCP_LOCAL_TIMEOUT", "abc")
    monkeypatch.setenv("OCP_DB_PATH", str(tmp_path / "ocp.db"))
    (tmp_path / "project").mkdir()
    assert main(["stats", "--workspace", str(tmp_path / "project")]) == 0
    out, err = capsys.readouterr()
    assert "0 routes in" in out
    assert BAD in err and "accepted: a number > 0" in err, err
    assert main(["stats", "--json", "--workspace", str(tmp_path / "project")]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["routes"] == 0  # the JSON on stdout stays the report alone
    assert BAD in err


def test_routing_explain_needs_only_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OCP_LOCAL_TIMEOUT", "abc")
    monkeypatch.setenv("OCP_ROUTE_THRESHOLD", "0.4")
    assert main(["routing", "explain", "--workspace", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "default threshold 0.40" in out
    assert BAD in err


async def test_doctor_checks_the_rest_beside_a_bad_routing_setting(workspace: Path) -> None:
    env = {"OCP_LOCAL_TIMEOUT": "abc", "PATH": "/usr/bin:/bin"}
    found = {c.name: (c.status, c.detail) for c in await run_checks(workspace, env, workspace)}
    status, detail = found["routing settings"]
    assert status == "fail" and BAD in detail
    assert "local model" not in found and "paid model" not in found  # they need the settings
    assert found["workspace"][0] == "ok" and "tool names" in found
    assert "IDE config" in found
