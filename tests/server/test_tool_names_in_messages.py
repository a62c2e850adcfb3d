"""With OCP_TOOL_NAMES=dotted the tools are advertised as `ocp.model.route`…, and every message
that names a tool names it so: the server's instructions, the route tool's answer to a bad
routing setting, `ocp-server status` and `stats`, and an unreadable database's error. A
message naming `ocp_model_route` sent the agent to a tool its client does not list."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import server_env, wait_for_index

UNDERSCORED = tuple(t.name for t in wire.TOOL_SHAPES)  # ocp_context_search…
DOTTED = tuple(t.verb for t in wire.TOOL_SHAPES)  # ocp.context.search…


def _no_underscored_name(text: str) -> None:
    assert not [n for n in UNDERSCORED if n in text], text


async def test_the_instructions_and_the_route_tools_answer_name_the_tools_as_listed(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    env = server_env(workspace, fake_ollama, OCP_TOOL_NAMES="dotted", OCP_LOCAL_TIMEOUT="abc")
    async with OCPClient(env=env) as client:
        listed = {t.name for t in await client.list_tools()}
        said = (await client.session.initialize()).instructions or ""
        await wait_for_index(client, "verify token")
        routed = await client.call(wire.ROUTE.verb, {"request": "explain verify_token"})
    assert listed == set(DOTTED)
    assert all(name in said for name in DOTTED), said
    _no_underscored_name(said)
    text = tool_text(routed)
    assert routed.is_error and "OCP_LOCAL_TIMEOUT='abc' is invalid" in text, text
    assert all(t.verb in text for t in (wire.SEARCH, wire.RESTORE, wire.SAVE)), text
    _no_underscored_name(text)


def _cli(tmp_path: Path, *args: str, **env: str) -> str:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(project), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
        timeout=120,
    )
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    ("names", "route"), [("dotted", "ocp.model.route"), ("", "ocp_model_route")]
)
def test_status_names_the_route_tool_as_advertised(tmp_path: Path, names: str, route: str) -> None:
    said = _cli(tmp_path, "status", OCP_TOOL_NAMES=names, OCP_LOCAL_TIMEOUT="abc")
    assert "OCP_LOCAL_TIMEOUT='abc' is invalid" in said, said
    assert f"({route} answers with this" in said, said


def test_stats_names_the_route_tool_as_advertised(tmp_path: Path) -> None:
    said = _cli(tmp_path, "stats", OCP_TOOL_NAMES="dotted")
    assert "0 routes in" in said and "each ocp.model.route call" in said, said
    _no_underscored_name(said)


async def test_an_unreadable_database_names_the_save_tool_as_advertised(tmp_path: Path) -> None:
    from ocp_server.db import connect
    from ocp_server.errors import DatabaseError
    from ocp_server.settings import ServerSettings
    from ocp_server.workspaces import database_naming

    settings = ServerSettings.from_env({"OCP_TOOL_NAMES": "dotted"})
    db_path = tmp_path / ".ocp" / "ocp.db"
    db_path.parent.mkdir()
    # an SQLite database with damaged pages (one that is none at all is moved aside:
    # test_corrupt_database.py)
    db_path.write_bytes(b"SQLite format 3\0" + b"\xff" * 4080)
    with pytest.raises(DatabaseError) as caught:
        await connect(db_path, database_naming(settings))
    message = str(caught.value)
    assert "session memory saved with ocp.result.save" in message, message
    _no_underscored_name(message)


async def test_the_listed_tools_schemas_name_no_tool_by_another_name(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # descriptions inside the argument and result schemas reach the agent as the tools do
    env = server_env(workspace, fake_ollama, OCP_TOOL_NAMES="dotted")
    async with OCPClient(env=env) as client:
        tools = await client.list_tools()
    assert {t.name for t in tools} == set(DOTTED)
    for tool in tools:
        _no_underscored_name(tool.model_dump_json())
