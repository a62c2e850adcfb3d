"""A bad routing setting is the route tool's error, not the server's: over real stdio with the
mcp SDK's client, search, restore and save keep working while `ocp_model_route` answers with
the error naming the variable, its value and what it accepts, and the status resource names it
too. A bad setting of the server itself still fails every tool that needs it, clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import server_env, wait_for_index

BAD_ROUTING = [
    (
        "OCP_LOCAL_TIMEOUT",
        "abc",
        "OCP_LOCAL_TIMEOUT='abc' is invalid: should be a valid number",
        "accepted: a number > 0",
    ),
    (
        "OCP_ROUTE_MODE",
        "sometimes",
        "OCP_ROUTE_MODE='sometimes' is invalid",
        "expected one of 'auto', 'local' or 'paid'",
    ),
    # read when the router is made (its price file), not when the settings are parsed
    ("OCP_PRICES", "/nowhere/prices.toml", "OCP_PRICES", "/nowhere/prices.toml"),
]


@pytest.mark.parametrize(("variable", "value", "says", "accepts"), BAD_ROUTING)
async def test_a_bad_routing_setting_leaves_search_restore_and_save_working(
    workspace: Path, fake_ollama: FakeOllama, variable: str, value: str, says: str, accepts: str
) -> None:
    env = server_env(workspace, fake_ollama) | {variable: value}
    async with OCPClient(env=env) as client:
        found = await wait_for_index(client, "verify token")
        assert found.results[0].symbol == "verify_token"
        saved = await client.save(notes=["the auth middleware checks tokens first"])
        assert saved.note_ids
        restored = await client.restore("auth middleware")
        assert "checks tokens first" in restored.brief
        routed = await client.call("ocp_model_route", {"request": "explain verify_token"})
        status = await client.index_status()
    assert routed.is_error
    text = tool_text(routed)
    assert says in text and accepts in text, text
    assert "restart" in text and "ocp_context_search" in text, text
    assert status.files == 5
    assert status.routing_error is not None and says in status.routing_error
    assert fake_ollama.requests == []  # nothing was routed


async def test_a_bad_server_setting_still_fails_the_tools_that_need_it(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    env = server_env(workspace, fake_ollama, OCP_SEARCH_TOKENS="lots")
    async with OCPClient(env=env) as client:
        answers = {
            name: await client.call(name, {"query": "x", "request": "x"})
            for name in ("ocp_context_search", "ocp_session_restore", "ocp_model_route")
        }
    for name, result in answers.items():
        assert result.is_error, name
        text = tool_text(result)
        assert "OCP_SEARCH_TOKENS='lots' is invalid: expected an integer from 100" in text, text
        assert "restart" in text


@pytest.mark.parametrize("command", ["doctor", "status"])
def test_doctor_and_status_name_a_bad_routing_setting(tmp_path: Path, command: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(project), command],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OCP_LOCAL_TIMEOUT": "abc"},
        timeout=60,
    )
    said = done.stdout + done.stderr
    assert "OCP_LOCAL_TIMEOUT='abc' is invalid" in said, said
    assert "accepted: a number > 0" in said, said
