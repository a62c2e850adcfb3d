"""The three distributions are one release: same version, pinned to each other exactly.

Unpinned, a built ocp-server wheel resolved `ocp-router` from PyPI, where an older release
line crashed at start. These tests fail as soon as one version moves without the others.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

import ocp_client
import ocp_router
import ocp_server

REPO = Path(__file__).resolve().parents[1]
OURS = {"ocp-router": "ocp_router", "ocp-server": "ocp_server", "ocp-client": "ocp_client"}


def project(folder: str) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]
    return table


def release() -> str:
    return str(project("ocp_server")["version"])


def test_the_three_distributions_and_the_workspace_share_one_version() -> None:
    versions = {name: project(folder)["version"] for name, folder in OURS.items()}
    versions["ocp-workspace (root)"] = project(".")["version"]
    assert len(set(versions.values())) == 1, versions


def test_every_dependency_on_our_own_distributions_is_pinned_to_exactly_this_release() -> None:
    pins = []
    for folder in (*OURS.values(), "."):
        for line in project(folder).get("dependencies", []):
            req = Requirement(line)
            if req.name in OURS:
                pins.append((folder, req.name))
                assert str(req.specifier) == f"=={release()}", (
                    f"{folder}/pyproject.toml depends on {line!r}: pin it as "
                    f"'{req.name}=={release()}' so a built wheel never pulls another release"
                )
    # ocp-server needs the router, ocp-client the server, the workspace all three.
    assert ("ocp_server", "ocp-router") in pins and ("ocp_client", "ocp-server") in pins


def test_the_lockfile_and_the_installed_packages_are_this_release() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if p["name"] in OURS}
    assert locked == dict.fromkeys(OURS, release()), "run `uv lock` after a version change"
    installed = {name: version(name) for name in OURS}
    assert installed == dict.fromkeys(OURS, release()), "run `uv sync`"
    assert ocp_router.__version__ == ocp_server.__version__ == ocp_client.__version__ == release()


def test_version_is_printed_by_the_command_and_by_every_sub_command() -> None:
    for args in ([], ["index"], ["search"], ["status"], ["doctor"], ["init"], ["route"]):
        done = subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", *args, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout.startswith(f"ocp-server {release()} (ocp-router {release()}, mcp "), (
            args,
            done.stdout,
        )
