"""A workspace folder or a database path whose name holds a token (glued to a word, as
`backupghp_<token>`) is shown redacted by `ocp-server index` and by every form of `stats`: an
agent runs them in its shell and reads what they print.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY


def _run(ws: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ws.parent), "OCP_DB_PATH": str(db)},
    )


def test_index_and_stats_show_a_workspace_and_database_named_with_a_token_redacted(
    tmp_path: Path,
) -> None:
    ws = tmp_path / f"mirror{GHP}"
    (ws / "src").mkdir(parents=True)
    (ws / "src/app.py").write_text("def deploy(target):\n    return target.upload()\n")
    db = tmp_path / f"db{GHP}" / "ocp.db"
    shown = []
    for args in (
        ["index"],
        ["stats"],
        ["stats", "--json"],
        ["stats", "--html", str(tmp_path / "report.html")],
    ):
        done = _run(ws, db, *args)
        assert done.returncode == 0, done.stderr
        shown.append(done.stdout)
    shown.append((tmp_path / "report.html").read_text())
    assert "mirror[REDACTED:github_token]" in shown[0] and "db[REDACTED:github_token]" in shown[0]
    assert all("mirror[REDACTED:github_token]" in out for out in shown[1:])
    assert not [out for out in shown if BODY in out]
