"""Each IDE's MCP configuration: where it lives, its shape, and merging OCP into it.

What differs per client (sources in ../shared/reference/mcp-clients.md, Claude Code checked
against the real binary in tests/server/test_real_clients.py):

* claude-code: `<project>/.mcp.json`, key `mcpServers`. No workspace variable: Claude Code
  passes CLAUDE_PROJECT_DIR to the server itself (`${CLAUDE_PROJECT_DIR}` written in the file
  only draws a "Missing environment variables" warning). OCP is also approved in
  `.claude/settings.local.json` (`enabledMcpjsonServers`), which is what Claude Code's one-time
  prompt records; without it `claude mcp list` says "Pending approval". Key: `${VAR}`.
* cursor: `<project>/.cursor/mcp.json`, `mcpServers`, `${workspaceFolder}`; key `${env:VAR}`.
* windsurf: `~/.codeium/windsurf/mcp_config.json` (global: one workspace for every window),
  `mcpServers`, the absolute workspace path; key `${env:VAR}`.
* vscode: `<project>/.vscode/mcp.json`, top-level `servers` (+ `type: "stdio"`),
  `${workspaceFolder}`; key `${input:anthropic-key}`, an input VS Code prompts for once.
* claude-desktop: the app's `claude_desktop_config.json` (global), `mcpServers`, the absolute
  path. It expands no variables, so --paid writes the key itself (file mode 0600).

Merging never touches other servers or keys. OCP's own entry is replaced, keeping env
variables the user added to it; OCP_WORKSPACE and ANTHROPIC_API_KEY are OCP's to set (the key
goes away again without --paid). A file that changes is backed up first; a file that would
not change is not written at all. A backup never keeps a key OCP wrote into its own entry
(Claude Desktop's): taking the key out, or replacing it, must not leave it in a `.bak`.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ocp_router.env import env_value
from ocp_server.index.regular_file import read_regular
from ocp_server.launcher import Launch

SERVER_NAME = "ocp"
MANAGED_ENV = ("OCP_WORKSPACE", "ANTHROPIC_API_KEY")
KEY_PLACEHOLDER = "<your ANTHROPIC_API_KEY>"  # what a backup or --print shows for the key
VSCODE_KEY_INPUT = {
    "id": "anthropic-key",
    "type": "promptString",
    "description": "Anthropic API key for OCP's paid tier",
    "password": True,
}


class ConfigFileError(Exception):
    """A config cannot be written: an existing file cannot be merged into (`path`, named in
    the message), or --paid lacks the key Claude Desktop's file would hold (no `path`).
    `unread`: the file could not be read at all (an OS error: a failure, not a mistake in
    what the file or the command says)."""

    def __init__(self, message: str, *, path: Path | None = None, unread: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.unread = unread


@dataclass(frozen=True, slots=True)
class Client:
    """One IDE's MCP configuration, declared: adding a client is adding one entry to CLIENTS."""

    name: str  # `init --client <name>`
    title: str
    key: str  # the top-level key holding the servers
    config_file: tuple[str, ...]  # the file's path under `config_base`
    # Where `config_file` lives: the workspace (a project's own config), the home folder, or
    # the folder this platform keeps apps' settings in (both global: one for every workspace).
    config_base: Literal["workspace", "home", "app_config"]
    # OCP_WORKSPACE as written: "absolute" (the path itself), a variable the IDE expands, or
    # None when the IDE tells the server its workspace itself (Claude Code's CLAUDE_PROJECT_DIR).
    workspace_ref: str | None
    # --paid's key: a reference the IDE fills from its own environment, else an input the IDE
    # prompts for once (`key_input`), else the key itself, written into the file.
    key_env_ref: str | None = None
    key_input: Mapping[str, Any] | None = None
    stdio_type: bool = False  # the entry says `"type": "stdio"`
    # The server is also approved in Claude Code's `.claude/settings.local.json`.
    approved_in_local_settings: bool = False
    next_step: str = ""  # what init tells the user to do next (`{ws}`: the workspace)

    @property
    def project(self) -> bool:
        """The file lives in the workspace (else it is global, for every workspace)."""
        return self.config_base == "workspace"

    @property
    def writes_key_itself(self) -> bool:
        """--paid writes the literal key into the file (the IDE expands no variables)."""
        return self.key_env_ref is None and self.key_input is None

    def config_path(
        self, workspace: Path, home: Path, env: Mapping[str, str], platform: str = sys.platform
    ) -> Path:
        if self.config_base == "workspace":
            base = workspace
        elif self.config_base == "home":
            base = home
        elif platform == "darwin":
            base = home / "Library" / "Application Support"
        elif platform == "win32":
            base = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        else:  # Linux builds (unofficial) follow XDG
            base = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        return base.joinpath(*self.config_file)

    def workspace_value(self, workspace: Path) -> str | None:
        if self.workspace_ref == ABSOLUTE:
            return str(workspace)
        return self.workspace_ref

    @property
    def expands_key_from_env(self) -> bool:
        """Whether --paid writes a reference the IDE fills from its own environment (VS Code
        asks for the key instead; Claude Desktop gets the key itself)."""
        return self.key_env_ref is not None

    @property
    def key_input_ref(self) -> str | None:
        """The reference to the input the IDE prompts for (`key_input`), if it has one."""
        return None if self.key_input is None else "${input:" + str(self.key_input["id"]) + "}"

    def key_value(self, env: Mapping[str, str]) -> str:
        if self.key_env_ref is not None:
            return self.key_env_ref
        if (ref := self.key_input_ref) is not None:
            return ref
        key = env_value(env, "ANTHROPIC_API_KEY")  # an unexpanded `${VAR}` is no key
        if key is None:
            raise ConfigFileError(
                "--paid: ANTHROPIC_API_KEY holds no key in this shell (unset, blank or an "
                f"unexpanded ${{...}}); {self.title} expands no variables, so init writes the "
                "key itself into its config: set ANTHROPIC_API_KEY and run init again"
            )
        return key

    def entry(self, launch: Launch, workspace: Path, *, paid: bool, env: Mapping[str, str]) -> Any:
        server: dict[str, Any] = {}
        if self.stdio_type:
            server["type"] = "stdio"
        server["command"] = launch.command
        server["args"] = list(launch.args)
        server_env: dict[str, str] = {}
        if (value := self.workspace_value(workspace)) is not None:
            server_env["OCP_WORKSPACE"] = value
        if paid:
            server_env["ANTHROPIC_API_KEY"] = self.key_value(env)
        if server_env:
            server["env"] = server_env
        return server


ABSOLUTE = "absolute"  # Client.workspace_ref: the workspace's absolute path is written
WORKSPACE_FOLDER = "${workspaceFolder}"
ENV_KEY = "${env:ANTHROPIC_API_KEY}"

CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client(
            "claude-code",
            "Claude Code",
            "mcpServers",
            (".mcp.json",),
            "workspace",
            workspace_ref=None,
            key_env_ref="${ANTHROPIC_API_KEY}",
            stdio_type=True,
            approved_in_local_settings=True,
            next_step="start `claude` in {ws}: `claude mcp list` shows ocp connected, and the "
            "agent has ocp_context_search, ocp_session_restore, ocp_model_route and "
            "ocp_result_save",
        ),
        Client(
            "cursor",
            "Cursor",
            "mcpServers",
            (".cursor", "mcp.json"),
            "workspace",
            workspace_ref=WORKSPACE_FOLDER,
            key_env_ref=ENV_KEY,
            next_step="open {ws} in Cursor: Settings → MCP lists ocp (enable it there if asked)",
        ),
        Client(
            "windsurf",
            "Windsurf",
            "mcpServers",
            (".codeium", "windsurf", "mcp_config.json"),
            "home",
            workspace_ref=ABSOLUTE,
            key_env_ref=ENV_KEY,
            next_step="in Windsurf, refresh Cascade's MCP servers (Settings → Cascade → MCP); "
            "the config is global, so ocp serves {ws} in every window",
        ),
        Client(
            "vscode",
            "VS Code",
            "servers",
            (".vscode", "mcp.json"),
            "workspace",
            workspace_ref=WORKSPACE_FOLDER,
            key_input=VSCODE_KEY_INPUT,
            stdio_type=True,
            next_step="open {ws} in VS Code and start ocp from .vscode/mcp.json (Copilot agent "
            "mode lists its tools)",
        ),
        Client(
            "claude-desktop",
            "Claude Desktop",
            "mcpServers",
            ("Claude", "claude_desktop_config.json"),
            "app_config",
            workspace_ref=ABSOLUTE,
            next_step="restart Claude Desktop; the config is global, so ocp serves {ws}",
        ),
    )
}


def read_config(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, None when there is no file; ConfigFileError when it is not
    plain JSON (comments included: rewriting the file would drop them)."""
    try:
        # never waits on a named pipe (a pipe here held init and doctor for ever)
        text = read_regular(path).decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc}", path=path, unread=True) from exc
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"cannot read {path}: not UTF-8 (byte {exc.start + 1}): fix it, or add OCP's "
            "entry by hand",
            path=path,
        ) from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f"{path} is not plain JSON (line {exc.lineno}: {exc.msg}; comments are not kept "
            "by a rewrite): fix it, or add OCP's entry by hand",
            path=path,
        ) from exc
    if not isinstance(data, dict):
        raise ConfigFileError(
            f"{path} holds JSON but not an object: fix it or move it away", path=path
        )
    return data


def merge_server(
    existing: Mapping[str, Any] | None, client: Client, entry: dict[str, Any]
) -> dict[str, Any]:
    """`existing` with OCP's entry set under the client's key; nothing else changes."""
    doc = copy.deepcopy(dict(existing or {}))
    servers = doc.setdefault(client.key, {})
    if not isinstance(servers, dict):
        raise ConfigFileError(f'"{client.key}" is not an object')
    new = copy.deepcopy(entry)
    old = servers.get(SERVER_NAME)
    if isinstance(old, dict) and isinstance(old.get("env"), dict):
        kept = {k: v for k, v in old["env"].items() if k not in MANAGED_ENV}
        env = {**kept, **new.get("env", {})}
        if env:
            new["env"] = env
    servers[SERVER_NAME] = new
    if client.key_input is not None and client.key_input_ref is not None:
        uses_input = client.key_input_ref in json.dumps(new)
        inputs = doc.get("inputs", [])
        if not isinstance(inputs, list):
            raise ConfigFileError('"inputs" is not a list')
        key_id = client.key_input["id"]
        ours = [i for i in inputs if isinstance(i, dict) and i.get("id") == key_id]
        if uses_input and not ours:
            doc["inputs"] = [*inputs, dict(client.key_input)]
    return doc


def approve_in_claude_code(existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """`.claude/settings.local.json` with OCP approved among the project's .mcp.json servers
    (what Claude Code's one-time approval prompt records); nothing else changes."""
    doc = copy.deepcopy(dict(existing or {}))
    enabled = doc.get("enabledMcpjsonServers", [])
    disabled = doc.get("disabledMcpjsonServers", [])
    if not isinstance(enabled, list) or not isinstance(disabled, list):
        raise ConfigFileError("enabledMcpjsonServers/disabledMcpjsonServers are not lists")
    if SERVER_NAME not in enabled:
        doc["enabledMcpjsonServers"] = [*enabled, SERVER_NAME]
    if SERVER_NAME in disabled:
        doc["disabledMcpjsonServers"] = [s for s in disabled if s != SERVER_NAME]
    return doc


def backup_path(path: Path) -> Path:
    """`<file>.bak`, or `<file>.bak.2`, `.bak.3`… so an earlier backup is never overwritten."""
    candidate = path.with_name(path.name + ".bak")
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{n}")
        n += 1
    return candidate


def without_our_key(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """`doc` with the literal key in OCP's own entry replaced by KEY_PLACEHOLDER; None when
    it holds none (a `${VAR}` reference is no secret)."""
    hidden = copy.deepcopy(dict(doc))
    found = False
    for key in {c.key for c in CLIENTS.values()}:
        servers = hidden.get(key)
        ours = servers.get(SERVER_NAME) if isinstance(servers, dict) else None
        env = ours.get("env") if isinstance(ours, dict) else None
        if not isinstance(env, dict):
            continue
        value = env.get("ANTHROPIC_API_KEY")
        if isinstance(value, str) and value.strip() and "${" not in value:
            env["ANTHROPIC_API_KEY"] = KEY_PLACEHOLDER
            found = True
    return hidden if found else None


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    changed: bool
    backup: Path | None


def write_config(path: Path, doc: Mapping[str, Any], *, private: bool = False) -> Written:
    """Write `doc` to `path` atomically, backing up the old file first; nothing happens when
    the file already says the same. `private` keeps the file readable by its owner only."""
    old = read_config(path)
    if old is not None and old == doc:
        return Written(path, False, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    mode = 0o600 if private else 0o644
    if path.exists():
        backup = backup_path(path)
        hidden = without_our_key(old) if old is not None else None
        backup.write_bytes(read_regular(path) if hidden is None else render(hidden).encode())
        mode = path.stat().st_mode & 0o777
        if private:
            mode &= 0o600
        os.chmod(backup, mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(render(doc))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Written(path, True, backup)


def find_ocp_entries(
    workspace: Path, home: Path, env: Mapping[str, str]
) -> list[tuple[Client, Path, dict[str, Any]]]:
    """Every client config that has an OCP server (for `doctor`), unreadable files skipped."""
    found = []
    for client in CLIENTS.values():
        path = client.config_path(workspace, home, env)
        try:
            doc = read_config(path)
        except ConfigFileError:
            continue
        servers = (doc or {}).get(client.key)
        if isinstance(servers, dict) and isinstance(servers.get(SERVER_NAME), dict):
            found.append((client, path, servers[SERVER_NAME]))
    return found
