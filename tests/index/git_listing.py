"""What git itself lists of a tree: the reference OCP's own ignore and glob matching is checked
against (`git ls-files --others --exclude-standard`, with pathspecs when given)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path


def isolated_git_env(tree: Path) -> dict[str, str]:
    """No config but the repository's own: the user's ignoreCase or excludes file must not
    change what git lists for a test."""
    return {
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CONFIG_HOME": str(tree / ".no-xdg"),
    }


def git_untracked(tree: Path, *pathspecs: str, env: Mapping[str, str] | None = None) -> set[str]:
    """The files git lists in `tree` (made a repository first) as untracked and not ignored,
    limited to `pathspecs` when given. `env`: variables over the process's own (default:
    isolated_git_env)."""
    full = {**os.environ, **(isolated_git_env(tree) if env is None else env)}
    subprocess.run(["git", "init", "-q"], cwd=tree, env=full, check=True)
    out = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--exclude-standard", "--", *pathspecs],
        cwd=tree,
        env=full,
        capture_output=True,
        check=True,
    ).stdout
    return set(out.decode("utf-8", "surrogateescape").split("\0")) - {""}
