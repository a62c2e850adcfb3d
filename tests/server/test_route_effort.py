"""`ocp_model_route`'s `effort`: how much the local model thinks, sent to Ollama's /api/chat
as `think` (ollama-api.md §3: a level, false for "none"); absent, nothing is sent. The trace
gives the effort asked, and its notes what the model was sent. A value outside the four is
refused naming the argument and the values it takes. `ocp-server route --effort` likewise."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import get_type_hints

import pytest

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_router import EFFORTS, Effort
from ocp_server.cli import build_parser
from ocp_server.entry import EXIT_USAGE
from tests.fakes import FakeOllama
from tests.server.inproc import inproc_client, text_of
from tests.server.local_routes import ASK, route_locally


@pytest.fixture
def thinker() -> Iterator[FakeOllama]:
    """Ollama whose every model can think (`think` is refused otherwise)."""
    with FakeOllama(capabilities=["completion", "tools", "thinking"]) as fake:
        yield fake


@pytest.mark.parametrize(("effort", "think"), [("none", False), ("high", "high")])
async def test_the_tools_effort_reaches_ollama_as_think_and_the_trace_says_so(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    thinker: FakeOllama,
    effort: str,
    think: object,
) -> None:
    out = await route_locally(workspace, monkeypatch, thinker, effort=effort)
    assert thinker.requests_to("/api/chat")[-1].body["think"] == think
    trace = out["trace"]
    assert trace["effort"] == effort
    sent = "false" if think is False else f'"{think}"'
    assert f"effort {effort}: sent to the local model (ollama) as think={sent}" in trace["notes"]


async def test_a_route_without_effort_sends_ollama_no_think(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, thinker: FakeOllama
) -> None:
    out = await route_locally(workspace, monkeypatch, thinker)
    assert "think" not in thinker.requests_to("/api/chat")[-1].body
    assert out["trace"]["effort"] is None
    assert not [n for n in out["trace"]["notes"] if n.startswith("effort")]


async def test_an_effort_outside_the_four_is_refused_naming_the_argument_and_its_values(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, thinker: FakeOllama
) -> None:
    env = {"OCP_OLLAMA_URL": thinker.url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool("ocp_model_route", {"request": ASK, "effort": "max"})
    assert routed.is_error
    said = text_of(routed)
    assert "`effort`" in said and "'none', 'low', 'medium' or 'high'" in said
    assert thinker.requests_to("/api/chat") == []


def test_the_cli_routes_effort_reaches_ollama_and_a_value_outside_the_four_is_refused(
    workspace: Path, thinker: FakeOllama
) -> None:
    def route(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", "--workspace", str(workspace), "route", ASK]
            + ["--force", "local", "--json", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(workspace.parent)}
            | {"OCP_OLLAMA_URL": thinker.url, "OCP_CLASSIFIER_MODEL": "none"},
        )

    done = route("--effort", "none")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trace"]["effort"] == "none"
    assert thinker.requests_to("/api/chat")[-1].body["think"] is False
    refused = route("--effort", "max")
    assert refused.returncode == EXIT_USAGE
    assert "--effort" in refused.stderr and "'none', 'low', 'medium', 'high'" in refused.stderr


def test_the_tool_the_cli_and_the_client_take_the_routers_efforts() -> None:
    # one definition (ocp_router.tiers.Effort): a value added there is taken everywhere
    schema = wire.RouteArgs.model_json_schema()["properties"]["effort"]
    assert [v for option in schema["anyOf"] for v in option.get("enum", ())] == list(EFFORTS)
    assert all(e in schema["description"] for e in EFFORTS)
    assert get_type_hints(OCPClient.route)["effort"] == Effort | None
    (route,) = [
        action.choices["route"]
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    (effort,) = [a for a in route._actions if a.dest == "effort"]
    assert tuple(effort.choices or ()) == EFFORTS and effort.default is None
