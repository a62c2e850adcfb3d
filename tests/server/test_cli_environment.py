"""The CLI reads its environment through the settings and leaves the process's as it is:
`--workspace` goes into the environment the server's settings are read from, whether a piped
console wraps comes from settings.columns_set, and OCP_WORKSPACE from
settings.workspace_setting. OCP's own variables are read by its settings modules alone."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from ocp_router.errors import ConfigError
from ocp_server import cli, log_thread
from ocp_server.cli_output import PIPE_WIDTH, console
from ocp_server.settings import ServerSettings, columns_set, workspace_setting
from tests.environment_reads import variables_in

ROOT = Path(__file__).resolve().parents[2]
# Where OCP_* variables are read: every other module is given the values (ServerSettings,
# ProxySettings, RouterSettings), so each is read, and checked, in one place.
SETTINGS_MODULES = [
    "ocp_router/src/ocp_router/config.py",
    "ocp_server/src/ocp_server/proxy/settings.py",
    "ocp_server/src/ocp_server/settings.py",
]


class _Served(Exception):
    """Raised in place of the process's hard end, once the server has returned."""


def test_the_workspace_flag_reaches_the_settings_without_touching_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[ServerSettings | None, str | None]] = []

    async def serve_stdio(settings: ServerSettings | None, error: str | None) -> None:
        seen.append((settings, os.environ.get("OCP_WORKSPACE")))

    def end_now(flushed: bool) -> None:
        raise _Served

    def load_server() -> Any:
        return serve_stdio

    monkeypatch.setattr(cli, "load_server", load_server)
    monkeypatch.setattr(cli, "_end_now", end_now)
    monkeypatch.setattr(log_thread, "log_from_a_thread", lambda: None)
    monkeypatch.setattr(log_thread, "flush_logs", lambda seconds: True)
    monkeypatch.setenv("OCP_WORKSPACE", str(tmp_path / "from-the-variable"))
    with pytest.raises(_Served):
        cli.serve(str(tmp_path))
    [(settings, during)] = seen
    assert settings is not None
    assert settings.workspace == tmp_path.resolve()
    assert settings.workspace_named_by == "--workspace"
    assert during == str(tmp_path / "from-the-variable")  # the process's own, unchanged
    assert os.environ["OCP_WORKSPACE"] == str(tmp_path / "from-the-variable")


def test_a_piped_console_wraps_only_where_columns_is_set() -> None:
    assert columns_set({"COLUMNS": "60"}) and not columns_set({"COLUMNS": ""})
    assert not columns_set({})
    unwrapped = console(file=io.StringIO(), env={})
    assert unwrapped.width == PIPE_WIDTH
    # rich reads the number itself (tests pin COLUMNS=80: conftest.TERMINAL)
    assert console(file=io.StringIO(), env={"COLUMNS": "80"}).width == 80


def test_ocp_variables_are_read_by_the_settings_modules_alone() -> None:
    readers = sorted(
        path.relative_to(ROOT).as_posix()
        for package in ("ocp_router", "ocp_server", "ocp_client", "ocp_wire")
        for path in (ROOT / package / "src").rglob("*.py")
        if any(name.startswith("OCP_") for name in variables_in(path))
    )
    assert readers == SETTINGS_MODULES


def test_the_commands_workspace_is_the_settings_ocp_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCP_WORKSPACE", f" {tmp_path} ")
    assert workspace_setting() == str(tmp_path)
    assert cli.command_workspace(None) == tmp_path.resolve()
    assert workspace_setting({"OCP_WORKSPACE": "${workspaceFolder}"}) is None  # unexpanded
    monkeypatch.setenv("OCP_WORKSPACE", "relative/folder")
    with pytest.raises(ConfigError, match="^OCP_WORKSPACE relative/folder is a relative path"):
        cli.command_workspace(None)


def test_the_workspace_flag_stands_in_for_ocp_workspace_in_the_settings(tmp_path: Path) -> None:
    env = {"OCP_WORKSPACE": "${workspaceFolder}", "CLAUDE_PROJECT_DIR": "${CLAUDE_PROJECT_DIR}"}
    flagged = ServerSettings.from_env(env, workspace_flag=tmp_path)
    assert flagged.workspace == tmp_path
    assert flagged.workspace_named_by == "--workspace"
    # the variable the flag replaces is not named as unexpanded; the other one still is
    assert flagged.unexpanded_workspace == (("CLAUDE_PROJECT_DIR", "${CLAUDE_PROJECT_DIR}"),)
    plain = ServerSettings.from_env(env)
    assert plain.workspace is None and plain.workspace_named_by == "OCP_WORKSPACE"
    assert [name for name, _ in plain.unexpanded_workspace] == [
        "OCP_WORKSPACE",
        "CLAUDE_PROJECT_DIR",
    ]
