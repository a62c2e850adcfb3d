"""Why files were not indexed, in words a user reads (`ocp-server index`, `status`): the
index's own reasons (`mcp_config`, `symlink_outside`) are jargon on a terminal. They stay the
keys of the status resource's JSON, which scripts read."""

from __future__ import annotations

from collections.abc import Mapping

from ocp_router.words import counted
from ocp_server.index.files import EDITOR_REASON, VENDORED_REASON
from ocp_server.index.mcp_configs import MCP_CONFIG_REASON
from ocp_server.index.nested import NESTED_REASON

__all__ = ["SKIP_WORDS", "skipped_words"]

#: Each reason the listing (files.py) or the reading (file_chunks.py) gives, as a category.
SKIP_WORDS: Mapping[str, str] = {
    "binary": "binary",
    EDITOR_REASON: "editor settings (.vscode, .idea)",
    "generated": "generated code",
    "lockfile": "lockfile",
    MCP_CONFIG_REASON: "MCP client config (may hold keys)",
    "minified": "minified code",
    NESTED_REASON: "inside a nested repository",
    "ocpignore": "matched by .ocpignore",
    "secret": "secret by its name (.env, *.pem, …)",
    "secret_content": "holds a secret",
    "symlink_outside": "symlink leading outside the workspace",
    "too_large": "larger than OCP_MAX_FILE_BYTES",
    "undecodable_name": "name not valid UTF-8",
    "unreadable": "could not be read (a file, or a whole folder counted once)",
    "vanished": "deleted while being read",
    VENDORED_REASON: "inside a dependency or tool folder (node_modules, .venv, vendor)",
}


def skipped_words(skipped: Mapping[str, int]) -> str:
    """`1 file: MCP client config (may hold keys); 2 files: lockfile`, or `none`. A reason
    this server does not know (an index a newer one wrote) is shown as it is stored."""
    said = [
        f"{counted(count, 'file')}: {SKIP_WORDS.get(reason, reason)}"
        for reason, count in sorted(skipped.items())
        if count
    ]
    return "; ".join(said) or "none"
