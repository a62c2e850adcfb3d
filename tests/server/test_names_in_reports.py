"""A workspace folder or a database path whose name holds a token (glued to a word, as
`backupghp_<token>`) is shown redacted by `ocp-server index`, by every form of `stats` and by
the errors that name the folder: an agent runs them in its shell and reads what they print.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY


def _run(
    ws: Path, db: Path, *args: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home or ws.parent), "OCP_DB_PATH": str(db)},
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


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["index"],
        ["search", "verify"],
        ["route", "x"],
        ["restore"],
    ],
)
def test_errors_naming_a_workspace_named_with_a_token_show_it_redacted(
    tmp_path: Path, args: list[str]
) -> None:
    home = tmp_path / f"home{GHP}"  # refused: the home folder
    home.mkdir()
    missing = _run(tmp_path / f"gone{GHP}", tmp_path / "ocp.db", *args)
    refused = _run(home, tmp_path / "ocp.db", *args, home=home)
    assert missing.returncode == 2 and "gone[REDACTED:github_token]" in missing.stderr
    assert "home[REDACTED:github_token]" in refused.stdout + refused.stderr
    assert BODY not in missing.stdout + missing.stderr + refused.stdout + refused.stderr
