"""Each client's capabilities are declared in one entry: what `init` writes for a client and
how the server answers one follow from its entry alone, with no branch on its name."""

from __future__ import annotations

from pathlib import Path

from ocp_server import client_limits
from ocp_server.launcher import Launch
from ocp_server.mcp_config import CLIENTS, VSCODE_KEY_INPUT, Client, merge_server

WS = Path("/p/ws")
HOME = Path("/h")


def test_each_clients_file_workspace_and_key_follow_from_its_entry() -> None:
    table = {
        name: (
            c.config_path(WS, HOME, {}, platform="linux"),
            c.project,
            c.workspace_value(WS),
            c.key_value({"ANTHROPIC_API_KEY": "sk-ant-x"}),
            c.expands_key_from_env,
            c.writes_key_itself,
        )
        for name, c in CLIENTS.items()
    }
    assert table == {
        "claude-code": (
            WS / ".mcp.json",
            True,
            None,
            "${ANTHROPIC_API_KEY}",
            True,
            False,
        ),
        "cursor": (
            WS / ".cursor" / "mcp.json",
            True,
            "${workspaceFolder}",
            "${env:ANTHROPIC_API_KEY}",
            True,
            False,
        ),
        "windsurf": (
            HOME / ".codeium" / "windsurf" / "mcp_config.json",
            False,
            str(WS),
            "${env:ANTHROPIC_API_KEY}",
            True,
            False,
        ),
        "vscode": (
            WS / ".vscode" / "mcp.json",
            True,
            "${workspaceFolder}",
            "${input:anthropic-key}",
            False,
            False,
        ),
        "claude-desktop": (
            HOME / ".config" / "Claude" / "claude_desktop_config.json",
            False,
            str(WS),
            "sk-ant-x",
            False,
            True,
        ),
    }


def test_a_new_client_is_one_entry() -> None:
    newcomer = Client(
        "newide",
        "New IDE",
        "servers",
        (".newide", "mcp.json"),
        "workspace",
        workspace_ref="${projectRoot}",
        key_input={**VSCODE_KEY_INPUT, "id": "ocp-key"},
        stdio_type=True,
    )
    entry = newcomer.entry(Launch("installed", "ocp-server", (), "on PATH"), WS, paid=True, env={})
    assert newcomer.config_path(WS, HOME, {}) == WS / ".newide" / "mcp.json"
    assert entry == {
        "type": "stdio",
        "command": "ocp-server",
        "args": [],
        "env": {"OCP_WORKSPACE": "${projectRoot}", "ANTHROPIC_API_KEY": "${input:ocp-key}"},
    }
    doc = merge_server(None, newcomer, entry)
    assert doc["inputs"] == [{**VSCODE_KEY_INPUT, "id": "ocp-key"}]


def test_how_a_client_reads_a_result_is_one_table() -> None:
    assert client_limits.STRUCTURED_ONLY_CLIENTS == {"claude-code", "codex-mcp-client", "Codex"}
    assert client_limits.RESULT_TOKEN_LIMITS == {"claude-code": 15_000}
    assert client_limits.CLIENT_READING["claude-code"].result_tokens == 15_000
