"""MCP clients' configs, never indexed and counted apart (`mcp_config`): what `init` writes
(`.mcp.json`, `.cursor/mcp.json`, `.vscode/mcp.json`, whose folder is skipped as an editor's)
and its backups (`<name>.bak`, `.bak.2`...) were indexed and searched. They are wiring, not
the project's code, and their `env` may hold API keys."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["MCP_CONFIG_NAMES", "MCP_CONFIG_REASON", "mcp_config"]

#: By name in any folder: Claude Code's `.mcp.json`, Cursor's (and others') `mcp.json`,
#: Windsurf's `mcp_config.json`, Claude Desktop's.
MCP_CONFIG_NAMES = frozenset(
    {".mcp.json", "mcp.json", "mcp_config.json", "claude_desktop_config.json"}
)
MCP_CONFIG_REASON = "mcp_config"
_BACKUP_SUFFIX = re.compile(r"\.bak(?:\.\d+)?$")  # mcp_config.backup_path's names


def mcp_config(parts: Sequence[str], name: str) -> bool:
    """Whether the file `parts` name (`name`: its last part, lower-cased) is an MCP client's
    config or a backup of one, or `.claude/settings.local.json`, which `init` writes beside
    `.mcp.json` (OCP approved among its servers)."""
    if ".bak" in name:
        name = _BACKUP_SUFFIX.sub("", name)
    if name in MCP_CONFIG_NAMES:
        return True
    return name == "settings.local.json" and len(parts) > 1 and parts[-2] == ".claude"
