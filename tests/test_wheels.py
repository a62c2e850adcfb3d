"""The built wheels, installed without an index into a fresh virtualenv, work (marker `wheels`).

Run by .ci/wheels.sh, which builds the four wheels, installs them with
`pip install --no-index --find-links` and points WHEELS_VENV_BIN (not an OCP_ variable: the
test environment clears those) at that virtualenv's bin/, and WHEELS_CLIENT_VENV_BIN at a second
one holding `ocp-client` alone.
Nothing here imports the checkout's code into the installed environment: every check runs the
installed entry point or the installed interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from ocp_server import __version__ as release
from tests.fakes import FakeOllama

pytestmark = pytest.mark.wheels

TOOLS = {"ocp_context_search", "ocp_session_restore", "ocp_model_route", "ocp_result_save"}


def _venv_bin(variable: str, holds: str) -> Path:
    value = os.environ.get(variable)
    if not value or not (Path(value) / holds).is_file():
        pytest.fail(
            f"{variable} must name the bin/ folder of a virtualenv holding the built "
            "wheels: run `bash .ci/wheels.sh`",
            pytrace=False,
        )
    return Path(value)


@pytest.fixture
def installed() -> Path:
    return _venv_bin("WHEELS_VENV_BIN", "ocp-server")


@pytest.fixture
def client_only() -> Path:
    return _venv_bin("WHEELS_CLIENT_VENV_BIN", "python")


def run(bin_dir: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd.parent), **env},
    )


def test_the_installed_distributions_are_this_release_and_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    listed = json.loads(run(installed, "pip", "list", "--format", "json", cwd=tmp_path).stdout)
    ours = {p["name"]: p["version"] for p in listed if p["name"].startswith("ocp-")}
    assert ours == dict.fromkeys(("ocp-router", "ocp-wire", "ocp-server", "ocp-client"), release)
    where = run(
        installed,
        "python",
        "-c",
        "import ocp_server, ocp_router, ocp_client; "
        "print(ocp_server.__file__, ocp_router.__file__, ocp_client.__file__)",
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    venv = installed.parent.resolve()
    assert all(Path(p).resolve().is_relative_to(venv) for p in where.stdout.split()), where.stdout


def test_version(installed: Path, tmp_path: Path) -> None:
    done = run(installed, "ocp-server", "--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ocp-server {release} (ocp-router {release}, mcp ")


def test_doctor_passes_against_a_local_model(installed: Path, workspace: Path) -> None:
    with FakeOllama() as ollama:
        done = run(installed, "ocp-server", "doctor", cwd=workspace, OCP_OLLAMA_URL=ollama.url)
        assert ollama.requests_to("/api/show"), "doctor did not ask the model server"
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"ok    versions     ocp-server {release}, ocp-router {release}" in lines[0], lines
    assert any(line.startswith("ok    local model") for line in lines), lines


def test_init_points_the_ide_at_the_installed_entry_point(installed: Path, workspace: Path) -> None:
    done = run(installed, "ocp-server", "init", "--client", "claude-code", "--print", cwd=workspace)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)["mcpServers"]["ocp"]
    assert entry["command"] == str(installed / "ocp-server") and entry["args"] == []


async def test_mcp_initialize_list_and_call_over_the_installed_entry_point(
    installed: Path, workspace: Path
) -> None:
    with FakeOllama() as ollama:
        params = StdioServerParameters(
            command=str(installed / "ocp-server"),
            args=[],
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(workspace.parent),
                "OCP_WORKSPACE": str(workspace),
                "OCP_OLLAMA_URL": ollama.url,
            },
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            assert (init.server_info.name, init.server_info.version) == ("ocp", release)
            tools = {t.name for t in (await session.list_tools()).tools}
            assert tools == TOOLS
            routed = await session.call_tool("ocp_model_route", {"request": "explain x"})
            assert not routed.is_error, routed
            assert routed.structured_content["answered_by"] == "local"


CLIENT_DRIVES_SERVER = """
import asyncio, json, sys
from ocp_client import OCPClient

async def main() -> None:
    server, env = sys.argv[1], json.loads(sys.argv[2])
    async with OCPClient(server, env=env) as ocp:
        routed = await ocp.route("explain x")
        brief = await ocp.restore(max_tokens=500)
    print(json.dumps({"answered_by": routed.answered_by, "session": brief.session_id}))

asyncio.run(main())
"""


def test_the_client_alone_installs_without_the_server_and_drives_one(
    client_only: Path, installed: Path, workspace: Path
) -> None:
    listed = json.loads(run(client_only, "pip", "list", "--format", "json", cwd=workspace).stdout)
    names = {p["name"].lower() for p in listed}
    assert {"ocp-client", "ocp-wire", "ocp-router", "mcp"} <= names
    grammars = {n for n in names if n.replace("_", "-").startswith("tree-sitter")}
    heavy = sorted(grammars | (names & {"ocp-server", "numpy", "aiosqlite"}))
    assert heavy == [], "ocp-client pulled in the server or its grammars"
    nothing_else = run(client_only, "python", "-c", "import ocp_client.client", cwd=workspace)
    assert nothing_else.returncode == 0, nothing_else.stderr
    assert not (client_only / "ocp-server").exists()
    missing = run(
        client_only,
        "python",
        "-c",
        "from ocp_client import OCPClient; OCPClient()",
        cwd=workspace,
    )
    assert "pip install ocp-client[server]" in missing.stderr, missing.stderr
    with FakeOllama() as ollama:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(workspace.parent),
            "OCP_WORKSPACE": str(workspace),
            "OCP_OLLAMA_URL": ollama.url,
        }
        done = run(
            client_only,
            "python",
            "-c",
            CLIENT_DRIVES_SERVER,
            str(installed / "ocp-server"),
            json.dumps(env),
            cwd=workspace,
        )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["answered_by"] == "local" and answer["session"], answer
