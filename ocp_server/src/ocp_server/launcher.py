"""How this ocp-server was installed, and so the command an IDE should run to start it.

* From a checkout (`uv run` in the repository, or `uvx --from <checkout>/ocp_server`): the
  IDE runs `uvx --compile-bytecode --from <checkout>/ocp_server ocp-server`, which builds the
  checkout as it is (uv resolves ocp-router and ocp-wire from the same workspace).
* From an index through uvx (`uvx ocp-server@0.4.0`): that environment lives in uv's cache
  and may be cleaned away, so the IDE runs `uvx --compile-bytecode ocp-server@<this version>`.
* Every uvx command compiles bytecode as uv installs (README, "The MCP server"): without it each
  environment uv builds starts slower until Python has written its own cache.
* Installed for good (pip, pipx, `uv tool install`, a virtualenv): the absolute path of the
  `ocp-server` entry point next to this interpreter.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from ocp_server import __version__

_UV_ARCHIVE = re.compile(r"^archive-v\d+$")  # uv's cache of ephemeral (uvx) environments
COMPILE_BYTECODE = "--compile-bytecode"  # as the README's quick start installs


@dataclass(frozen=True, slots=True)
class Launch:
    how: Literal["checkout", "uvx", "installed"]
    command: str
    args: tuple[str, ...]
    detail: str  # for humans: where this ocp-server comes from

    @property
    def argv(self) -> list[str]:
        return [self.command, *self.args]

    def shown(self) -> str:
        return " ".join(self.argv)


def _direct_url() -> dict[str, Any] | None:
    """PEP 610 `direct_url.json` of the installed ocp-server: how pip or uv got it."""
    try:
        text = distribution("ocp-server").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _local_dir(direct: dict[str, Any] | None) -> Path | None:
    if direct is None or "dir_info" not in direct:
        return None
    parsed = urlparse(str(direct.get("url", "")))
    if parsed.scheme != "file":
        return None
    path = Path(unquote(parsed.path))
    return path if (path / "pyproject.toml").is_file() else None


def _vcs_spec(direct: dict[str, Any] | None) -> str | None:
    """`git+https://…@<commit>#subdirectory=ocp_server` for a uvx run from a git URL."""
    if direct is None or not isinstance(direct.get("vcs_info"), dict):
        return None
    vcs = direct["vcs_info"]
    spec = f"{vcs.get('vcs', 'git')}+{direct['url']}@{vcs.get('commit_id', '')}".rstrip("@")
    if direct.get("subdirectory"):
        spec += f"#subdirectory={direct['subdirectory']}"
    return spec


def in_uv_cache(prefix: Path) -> bool:
    return any(_UV_ARCHIVE.match(part) for part in prefix.parts)


def uvx(absolute: bool) -> str:
    """`uvx`, or its absolute path for clients that do not inherit the shell's PATH."""
    found = shutil.which("uvx") if absolute else None
    return found or "uvx"


def entry_point(prefix: Path) -> Path | None:
    scripts = prefix / ("Scripts" if sys.platform == "win32" else "bin")
    for name in ("ocp-server", "ocp-server.exe"):
        if (scripts / name).is_file():
            return scripts / name
    return None


def detect_launch(
    *,
    prefix: Path | None = None,
    direct: dict[str, Any] | None | Literal["read"] = "read",
    absolute_uvx: bool = False,
) -> Launch:
    """The command that starts this ocp-server, as installed. `absolute_uvx` writes uvx's full
    path (desktop apps such as Claude Desktop do not see the shell's PATH)."""
    prefix = Path(sys.prefix) if prefix is None else prefix
    direct = _direct_url() if direct == "read" else direct
    ephemeral = in_uv_cache(prefix)
    source = _local_dir(direct)
    editable = bool(direct and (direct.get("dir_info") or {}).get("editable"))
    if source is not None and (editable or ephemeral):
        return Launch(
            "checkout",
            uvx(absolute_uvx),
            (COMPILE_BYTECODE, "--from", str(source), "ocp-server"),
            f"the checkout at {source}",
        )
    if ephemeral:
        vcs = _vcs_spec(direct)
        if vcs is not None:
            return Launch(
                "uvx", uvx(absolute_uvx), (COMPILE_BYTECODE, "--from", vcs, "ocp-server"), vcs
            )
        return Launch(
            "uvx",
            uvx(absolute_uvx),
            (COMPILE_BYTECODE, f"ocp-server@{__version__}"),
            f"ocp-server {__version__} from the package index, through uvx",
        )
    script = entry_point(prefix)
    if script is not None:
        return Launch("installed", str(script), (), f"the ocp-server installed in {prefix}")
    return Launch(
        "installed",
        sys.executable,
        ("-m", "ocp_server.cli"),
        f"the ocp-server module of {sys.executable}",
    )
