"""The server started by OCPClient sees the OCP_* settings and provider keys of the caller's
environment, the `env` argument over them, and nothing else of the caller's; every variable
the server and the router read is passed on, or left out for a reason written here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_client import OCPClient
from ocp_client.environment import passed_on, server_environment
from ocp_router.config import RouterSettings
from tests.environment_reads import variables_read
from tests.fakes import FakeAnthropic, FakeOllama

ROOT = Path(__file__).resolve().parents[2]
READERS = (ROOT / "ocp_server" / "src", ROOT / "ocp_router" / "src")

# Read by the server's packages but not passed on, and why.
LEFT_OUT = {
    "CLAUDE_PROJECT_DIR": "set in every Claude Code shell; would beat the client's `cwd`",
    "COLUMNS": "the width of the CLI commands' tables, not the stdio server's",
    "APPDATA": "where `ocp-server init` finds IDE configs (the SDK passes it on Windows)",
    "XDG_CONFIG_HOME": "where `ocp-server init` finds IDE configs, and git (run by the index, "
    "with the server's environment) its global excludes file",
    "PATH": "`ocp-server doctor` looks up commands (the SDK passes it)",
    "HOME": "where git finds its global excludes file, which the watcher follows (the SDK "
    "passes it)",
    "GIT_CEILING_DIRECTORIES": "git's own bound on finding a repository above the workspace, "
    "honoured as git (run with the server's environment) honours it; a caller's shell value "
    "would change which repository the server reads",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM": "git's own switch to find a repository across a file "
    "system's edge, read as git reads it, for the same reason",
}


def test_every_variable_the_server_reads_is_passed_on_or_left_out_for_a_stated_reason() -> None:
    read = variables_read(READERS)
    # The scan sees the router's settings and the server's own reads (else it proves nothing).
    aliases = {f.alias for f in RouterSettings.model_fields.values() if f.alias}
    assert aliases <= read and {"OCP_TOOL_NAMES", "OCP_WORKSPACE", "OCP_PROXY_PORT"} <= read
    assert sorted(name for name in read - LEFT_OUT.keys() if not passed_on(name)) == []
    assert sorted(LEFT_OUT.keys() - read) == [], "no longer read: drop it from LEFT_OUT"
    assert not any(passed_on(name) for name in LEFT_OUT)


def test_the_env_argument_wins_and_nothing_else_of_the_callers_is_added() -> None:
    caller = {
        "OCP_TOOL_NAMES": "dotted",
        "OCP_LOCAL_MODEL": "qwen",
        "OPENAI_API_KEY": "sk-caller",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "CLAUDE_PROJECT_DIR": "/elsewhere",
        "PYTHONPATH": "/caller/site",
        "OCP": "not a setting",
    }
    given = {"OCP_TOOL_NAMES": "underscore", "OCP_LOCAL_MODEL": "", "EXTRA": "1"}
    assert server_environment(caller, given) == {
        "OCP_TOOL_NAMES": "underscore",
        "OCP_LOCAL_MODEL": "",  # the server counts an empty value as unset
        "OPENAI_API_KEY": "sk-caller",
        "EXTRA": "1",
    }


def test_the_callers_proxy_and_ca_settings_reach_the_server() -> None:
    caller = {
        "HTTPS_PROXY": "http://proxy.corp:3128",
        "no_proxy": "localhost,127.0.0.1",
        "SSL_CERT_FILE": "/etc/corp/ca.pem",
        "HTTP_PROXY_PASSWORD_NOTE": "not a setting httpx reads",
    }
    assert server_environment(caller, {}) == {
        "HTTPS_PROXY": "http://proxy.corp:3128",
        "no_proxy": "localhost,127.0.0.1",
        "SSL_CERT_FILE": "/etc/corp/ca.pem",
    }


async def test_settings_and_a_key_exported_by_the_caller_reach_the_server(
    workspace: Path, fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeAnthropic(reply="answered with the caller's key") as anthropic:
        exported = {
            "OCP_WORKSPACE": str(workspace),
            "OCP_DB_PATH": str(workspace.parent / "ocp.db"),
            "OCP_OLLAMA_URL": fake_ollama.url,
            "OCP_TOOL_NAMES": "dotted",
            "OCP_FIRST_INDEX_WAIT": "0",  # the route need not wait for the index
            "ANTHROPIC_API_KEY": "sk-ant-test",  # the only key the fake accepts
            "ANTHROPIC_BASE_URL": anthropic.url,
        }
        for name, value in exported.items():
            monkeypatch.setenv(name, value)
        async with OCPClient() as client:
            names = {tool.name for tool in await client.list_tools()}
            result = await client.route("say hello", force="paid")
    assert "ocp.context.search" in names
    assert (result.answered_by, result.answer) == ("paid", "answered with the caller's key")


async def test_claude_code_s_project_dir_in_the_callers_shell_does_not_beat_cwd(
    workspace: Path, tmp_path: Path, fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "another-project"
    other.mkdir()
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(other))
    env = {"OCP_OLLAMA_URL": fake_ollama.url, "OCP_DB_PATH": str(workspace.parent / "ocp.db")}
    async with OCPClient(env=env, cwd=workspace) as client:
        report = await client.index_status()
    assert os.path.samefile(report.workspace, workspace)
