"""Server settings from OCP_* variables, and where the workspace is.

Clients disagree on where they start a server: Claude Desktop in `/`, VS Code in the home
directory, Windsurf declares no roots, Claude Code sets CLAUDE_PROJECT_DIR. The workspace is
resolved in this order: a tool argument, OCP_WORKSPACE, CLAUDE_PROJECT_DIR, the client's MCP
roots, the working directory unless it is `/` or home. A variable that is still a literal
`${VAR}` counts as unset.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from ocp_router.config import env_value
from ocp_router.errors import ConfigError
from ocp_server.index.files import DEFAULT_MAX_FILE_BYTES

DEFAULT_MAX_FILES = 200_000  # a first index of more files needs --force (the CLI asks)


class WorkspaceError(ValueError):
    """No workspace could be found; the message says how to set one."""


NO_WORKSPACE = (
    "no workspace: pass `workspace` (an absolute folder path), or run `ocp-server init "
    "--client <your IDE>` in the project: it sets OCP_WORKSPACE in the MCP config the way "
    'that IDE expands it (Cursor and VS Code: "${workspaceFolder}"; Windsurf and Claude '
    "Desktop: the absolute path; Claude Code passes CLAUDE_PROJECT_DIR by itself)"
)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    tool_names: str = "underscore"  # or "dotted"
    context_tokens: int = 6000
    search_tokens: int = 8000
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_files: int = DEFAULT_MAX_FILES
    db_path: Path | None = None
    workspace: Path | None = None
    claude_project_dir: Path | None = None
    memory_ttl_days: int = 28  # memories not served while valid for this long expire; 0: never
    # Memory's clock (tests move it instead of sleeping).
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if env is None else env
        names = (env_value(env, "OCP_TOOL_NAMES") or "underscore").lower()
        if names not in ("underscore", "dotted"):
            raise ConfigError(
                f"OCP_TOOL_NAMES={names!r} is invalid: expected 'underscore' or 'dotted'"
            )
        db = env_value(env, "OCP_DB_PATH")
        ws = env_value(env, "OCP_WORKSPACE")
        cpd = env_value(env, "CLAUDE_PROJECT_DIR")
        return cls(
            tool_names=names,
            context_tokens=_int(env, "OCP_CONTEXT_TOKENS", 6000, 0),
            search_tokens=_int(env, "OCP_SEARCH_TOKENS", 8000, 100),
            max_file_bytes=_int(env, "OCP_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, 1),
            max_files=_int(env, "OCP_MAX_FILES", DEFAULT_MAX_FILES, 1),
            memory_ttl_days=_int(env, "OCP_MEMORY_TTL_DAYS", 28, 0),
            db_path=Path(db).expanduser() if db else None,
            workspace=Path(ws).expanduser() if ws else None,
            claude_project_dir=Path(cpd).expanduser() if cpd else None,
        )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = env_value(env, name)
    if value is None:
        return default
    try:
        parsed = int(value)
    except ValueError:
        parsed = minimum - 1
    if parsed < minimum:
        raise ConfigError(f"{name}={value!r} is invalid: expected an integer >= {minimum}")
    return parsed


def _usable(path: Path, source: str) -> Path:
    path = path.expanduser()
    if not path.is_absolute():
        raise WorkspaceError(f"{source} must be an absolute path, got {str(path)!r}")
    if not path.is_dir():
        raise WorkspaceError(f"{source} {str(path)!r} is not an existing folder")
    return path.resolve()


def root_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def resolve_workspace(
    settings: ServerSettings,
    argument: str | None,
    roots: list[str] | None,
    cwd: Path | None = None,
) -> Path:
    """The workspace for a tool call, in the documented order; WorkspaceError if none."""
    if argument:
        return _usable(Path(argument), "workspace")
    if settings.workspace is not None:
        return _usable(settings.workspace, "OCP_WORKSPACE")
    if settings.claude_project_dir is not None:
        return _usable(settings.claude_project_dir, "CLAUDE_PROJECT_DIR")
    for uri in roots or []:
        path = root_to_path(uri)
        if path is not None and path.is_dir():
            return path.resolve()
    cwd = (cwd or Path.cwd()).resolve()
    if cwd != Path("/") and cwd != Path.home().resolve():
        return cwd
    raise WorkspaceError(NO_WORKSPACE)
