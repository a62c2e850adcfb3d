"""The four distributions are one release: same version, pinned to each other exactly.

Unpinned, a built ocp-server wheel resolved `ocp-router` from PyPI, where an older release
line crashed at start. These tests fail as soon as one version moves without the others.
"""

from __future__ import annotations

import re
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
import ocp_wire

REPO = Path(__file__).resolve().parents[1]
OURS = {
    "ocp-router": "ocp_router",
    "ocp-wire": "ocp_wire",
    "ocp-server": "ocp_server",
    "ocp-client": "ocp_client",
}


def project(folder: str) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]
    return table


def release() -> str:
    return str(project("ocp_server")["version"])


def test_the_four_distributions_and_the_workspace_share_one_version() -> None:
    versions = {name: project(folder)["version"] for name, folder in OURS.items()}
    versions["ocp-workspace (root)"] = project(".")["version"]
    assert len(set(versions.values())) == 1, versions


def test_every_dependency_on_our_own_distributions_is_pinned_to_exactly_this_release() -> None:
    pins = []
    for folder in (*OURS.values(), "."):
        declared = project(folder)
        extras = declared.get("optional-dependencies", {}).values()
        for line in [*declared.get("dependencies", []), *(line for e in extras for line in e)]:
            req = Requirement(line)
            if req.name in OURS:
                pins.append((folder, req.name))
                assert str(req.specifier) == f"=={release()}", (
                    f"{folder}/pyproject.toml depends on {line!r}: pin it as "
                    f"'{req.name}=={release()}' so a built wheel never pulls another release"
                )
    # ocp-server needs the router and the wire models, ocp-client the wire models (and the
    # server through its `server` extra), the workspace all four.
    assert {
        ("ocp_server", "ocp-router"),
        ("ocp_server", "ocp-wire"),
        ("ocp_wire", "ocp-router"),
        ("ocp_client", "ocp-wire"),
        ("ocp_client", "ocp-server"),
    } <= set(pins)


def test_the_lockfile_and_the_installed_packages_are_this_release() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if p["name"] in OURS}
    assert locked == dict.fromkeys(OURS, release()), "run `uv lock` after a version change"
    installed = {name: version(name) for name in OURS}
    assert installed == dict.fromkeys(OURS, release()), "run `uv sync`"
    versions = {m.__version__ for m in (ocp_router, ocp_wire, ocp_server, ocp_client)}
    assert versions == {release()}


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


# An install command in a package's README (its page on the package index) naming one of ours:
# `pip install ocp-router`, `pipx install 'ocp-server[x]'`, `uv tool install ...`, `uvx ...`.
_INSTALL = re.compile(
    r"(?:pip install|pipx install|uv tool install|uvx)(?: --?[\w-]+)*\s+'?(ocp-[a-z]+[^\s'`]*)"
)


def test_every_install_command_in_a_package_readme_names_this_release() -> None:
    # The package index's newest ocp-server, ocp-router and ocp-client are the older 0.3.0
    # line (ocp-server's crashes at start): an unpinned `pip install ocp-router` or
    # `uv tool install ocp-server` silently installs that, not the release the page describes.
    unpinned = []
    for folder in OURS.values():
        for target in _INSTALL.findall((REPO / folder / "README.md").read_text()):
            if not target.endswith((f"=={release()}", f"@{release()}")):
                unpinned.append(f"{folder}/README.md: {target}")
    assert unpinned == []
