"""A key pasted into the wrong variable (`OCP_ROUTE_MODE=ghp_...`, `OCP_DAILY_BUDGET_USD=...`)
is quoted redacted by the error that names the variable: the CLI prints that error, and the
route tool and the status resource answer with it, to an agent that sends it to its model.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ocp_router.config import RouterSettings
from ocp_router.errors import ConfigError
from ocp_server.proxy.settings import ProxySettings
from tests.server.raw_server import RawServer

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY
ANT = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2
MISPLACED = {"OCP_ROUTE_MODE": GHP, "OCP_DAILY_BUDGET_USD": f"usd{GHP}"}


@pytest.mark.parametrize(("variable", "value"), list(MISPLACED.items()))
def test_the_cli_quotes_a_key_in_the_wrong_variable_redacted(
    tmp_path: Path, variable: str, value: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(project), "route", "hello"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), variable: value},
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and "[REDACTED:github_token]" in done.stderr
    assert BODY not in done.stderr + done.stdout


def test_the_route_tool_and_status_quote_a_key_in_the_wrong_variable_redacted(
    tmp_path: Path,
) -> None:
    # routing settings: the route tool answers with the error, the other tools serve
    (tmp_path / "ws").mkdir()
    raw = RawServer({"OCP_WORKSPACE": str(tmp_path / "ws"), **MISPLACED}, cwd=tmp_path)
    arguments = {
        "ocp_model_route": {"request": "x"},
        "ocp_context_search": {"query": "x"},
        "ocp_result_save": {"summary": "x"},  # a save of nothing is refused (93f313a)
    }
    try:
        raw.initialize()
        tools = raw.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})["result"]
        answers = {
            t["name"]: raw.call_tool(t["name"], arguments.get(t["name"], {}))["result"]
            for t in tools["tools"]
        }
        status = raw.rpc("resources/read", {"uri": "ocp://index/status"})
        raw.close_stdin_and_wait()
        stderr = raw.stderr()
    finally:
        raw.kill()
    route = answers.pop("ocp_model_route")
    assert route["isError"] and not any(a.get("isError") for a in answers.values()), answers
    assert "OCP_ROUTE_MODE='[REDACTED:github_token]'" in route["content"][0]["text"]
    assert "OCP_ROUTE_MODE='[REDACTED:github_token]'" in json.dumps(status)
    assert BODY not in json.dumps([route, answers, status]) + stderr


def test_settings_errors_quote_values_redacted() -> None:
    with pytest.raises(ConfigError) as router:
        RouterSettings.from_env({"OCP_ROUTE_THRESHOLD": ANT})
    with pytest.raises(ConfigError) as proxy:
        ProxySettings.from_env({"OCP_PROXY_ANTHROPIC_UPSTREAM": f"ftp://x{GHP}"})
    assert "[REDACTED:anthropic_key]" in str(router.value)
    assert "[REDACTED:github_token]" in str(proxy.value)
    assert ANT not in str(router.value) and BODY not in str(proxy.value)
