"""`ocp-server status` counts the search snapshot a server saved beside the database: its
size, its age and whether its key matches (what the next start will do with it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ocp_server.index.saved_snapshot import saved_path
from ocp_server.settings import ServerSettings, workspace_db_path
from ocp_server.workspaces import open_index


def status(ws: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "status", *args],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"], "HOME": str(ws.parent), **env},
    )
    assert done.returncode == 0, done.stderr
    return done


async def saved_by_a_server(ws: Path) -> Path:
    """The workspace indexed and searched by a server's index, which saves its snapshot."""
    settings = ServerSettings.from_env({})
    async with await open_index(settings, ws, save_snapshot=True) as index:
        await index.update()
        await index.search("verify token")
        await index.snapshots.saved()
    path = saved_path(workspace_db_path(ws))
    assert path.is_file()
    return path


async def test_status_counts_the_saved_snapshot_its_size_age_and_key(workspace: Path) -> None:
    path = await saved_by_a_server(workspace)
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))
    report = json.loads(status(workspace, "--json").stdout)
    saved = report["saved_snapshot"]  # the report had no word of it
    assert saved["state"] == "current" and saved["key_matches"] is True
    assert saved["bytes"] == path.stat().st_size
    assert 3500 <= saved["age_seconds"] <= 3600 + 600
    text = status(workspace).stdout
    assert f"snapshot   {path.stat().st_size / 1e6:.1f} MB saved 1h ago, its key matches" in text
    assert "the next start reads it" in text


async def test_status_says_a_snapshot_behind_the_index_is_brought_up_to_date(
    workspace: Path,
) -> None:
    await saved_by_a_server(workspace)
    (workspace / "src" / "late.py").write_text("def revoke_token(token):\n    return None\n")
    settings = ServerSettings.from_env({})
    async with await open_index(settings, workspace) as index:  # an update that saves nothing
        await index.update()
    saved = json.loads(status(workspace, "--json").stdout)["saved_snapshot"]
    assert saved["state"] == "older" and saved["key_matches"] is True
    assert "brings it up to date" in status(workspace).stdout


async def test_status_says_a_damaged_or_foreign_snapshot_is_unused(workspace: Path) -> None:
    path = await saved_by_a_server(workspace)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # cut short: a save torn by a crash
    saved = json.loads(status(workspace, "--json").stdout)["saved_snapshot"]
    assert saved["state"] == "damaged" and saved["key_matches"] is False
    assert saved["bytes"] == len(whole) // 2
    assert "cut short or damaged: unused" in status(workspace).stdout
    # another database's snapshot (the database made again at the same path)
    path.write_bytes(whole)
    db = workspace_db_path(workspace)
    for leftover in db.parent.glob(f"{db.name}*"):
        if leftover != path:
            leftover.unlink()
    settings = ServerSettings.from_env({})
    async with await open_index(settings, workspace) as index:
        await index.update()
    saved = json.loads(status(workspace, "--json").stdout)["saved_snapshot"]
    assert saved["state"] == "other" and saved["key_matches"] is False


def test_status_without_a_saved_snapshot_says_none(workspace: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "index"],
        cwd=workspace,
        capture_output=True,
        env={"PATH": os.environ["PATH"], "HOME": str(workspace.parent)},
        check=True,
        timeout=120,
    )
    assert json.loads(status(workspace, "--json").stdout)["saved_snapshot"] is None
    assert "snapshot   " not in status(workspace).stdout


async def test_status_with_snapshots_turned_off_says_so_not_too_large(workspace: Path) -> None:
    # OCP_SNAPSHOT_MB=0 turns snapshots off: the one saved before is no larger than a bound.
    await saved_by_a_server(workspace)
    saved = json.loads(status(workspace, "--json", OCP_SNAPSHOT_MB="0").stdout)["saved_snapshot"]
    assert saved["state"] == "off" and saved["key_matches"] is True
    text = status(workspace, OCP_SNAPSHOT_MB="0").stdout
    assert "snapshots are off (OCP_SNAPSHOT_MB=0)" in text and "deletes it" in text
    assert "larger than" not in text
