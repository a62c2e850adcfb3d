"""Workspaces on disk for index and server tests (a pytest plugin, see tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

AUTH_PY = '''"""Authentication helpers."""

import hmac


def verify_token(token: str, secret: str) -> bool:
    """Check a token against the secret in constant time."""
    return hmac.compare_digest(token, secret)


class SessionStore:
    """Keeps sessions in memory."""

    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}

    def rotate_session(self, old: str) -> str:
        """Issue a new session id and drop the old one."""
        new = old[::-1]
        self.sessions[new] = self.sessions.pop(old, "")
        return new
'''

BILLING_TS = """export interface Invoice {
  id: string;
  cents: number;
}

export function totalCents(invoices: Invoice[]): number {
  // callers use verifyToken before this
  return invoices.reduce((sum, inv) => sum + inv.cents, 0);
}
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def settled(ws: Path, seconds_ago: float = 60.0) -> None:
    """Every file below `ws` (`.git` left out) last saved a minute ago: an update right after
    writing them would read them again at the next one (racy, see indexer.RACY_SECONDS)."""
    when = time.time() - seconds_ago
    for path in ws.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(ws).parts:
            os.utime(path, (when, when))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small git work tree with code, docs, ignored folders and secrets."""
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "auth.py").write_text(AUTH_PY)
    (ws / "web").mkdir()
    (ws / "web" / "billing.ts").write_text(BILLING_TS)
    (ws / "README.md").write_text("# Demo\n\n## Security\n\nTokens are verified in src/auth.py.\n")
    (ws / ".gitignore").write_text("node_modules/\n.venv/\n*.log\n!keep.log\n")
    (ws / "node_modules" / "lib").mkdir(parents=True)
    (ws / "node_modules" / "lib" / "index.js").write_text("function verify_token() {}\n")
    (ws / ".venv").mkdir()
    (ws / ".venv" / "x.py").write_text("def verify_token(): pass\n")
    (ws / "debug.log").write_text("verify_token failed\n")
    (ws / "keep.log").write_text("kept log mentions verify_token\n")
    (ws / ".env").write_text("API_KEY=sk-live-123\n")
    (ws / "secrets.json").write_text('{"token": "abc"}\n')
    (ws / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (ws / "package-lock.json").write_text("{}\n")
    (ws / "app.min.js").write_text("var a=1;" * 500 + "\n")
    (ws / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws
