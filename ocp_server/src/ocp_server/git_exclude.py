"""Keep a file init writes for one person out of git: `.claude/settings.local.json` holds
this machine's approvals. Claude Code keeps that file git-ignored when it creates it (in the
user's global ignore file); init, which creates it first, does the same for the repository
it writes in, in the repository's own `info/exclude` (never committed, never shared), and
only when git does not ignore the file already."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ocp_server.git_commands import run_git

__all__ = ["CLAUDE_LOCAL_SETTINGS", "EXCLUDED_PATTERN", "ensure_ignored"]

CLAUDE_LOCAL_SETTINGS = ".claude/settings.local.json"
# As Claude Code writes it: a workspace may be a sub-folder of its repository.
EXCLUDED_PATTERN = "**/.claude/settings.local.json"
GIT_TIMEOUT = 10.0


def ensure_ignored(workspace: Path) -> tuple[str, Path | None] | None:
    """Make git ignore `CLAUDE_LOCAL_SETTINGS` in `workspace`'s repository: ("added", the
    exclude file) when this added the pattern, ("already", None) when git ignored it already;
    None outside a git repository, or when git could not be asked (nothing is changed)."""
    try:
        # 0: ignored; 1: not ignored; 128: not a repository (or git failed)
        checked = run_git(
            workspace, "check-ignore", "-q", CLAUDE_LOCAL_SETTINGS, timeout=GIT_TIMEOUT
        )
        if checked.returncode == 0:
            return ("already", None)
        if checked.returncode != 1:
            return None
        found = run_git(
            workspace, "rev-parse", "--git-path", "info/exclude", timeout=GIT_TIMEOUT, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # relative to the workspace, or absolute; said without the `..` of a sub-folder's
    exclude = Path(os.path.normpath(workspace / found.stdout.decode().strip()))
    text = exclude.read_text() if exclude.is_file() else ""
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a") as out:
        out.write(("\n" if text and not text.endswith("\n") else "") + EXCLUDED_PATTERN + "\n")
    return ("added", exclude)
