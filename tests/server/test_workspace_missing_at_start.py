"""A server started while its configured folder is not there (a drive not mounted yet, a
folder moved away) with its index kept (OCP_DB_PATH): it refused every tool call with
"OCP_WORKSPACE ... is not an existing folder" though the index was whole. It now serves the
index as it was, each answer saying the folder is gone; a save that needs the folder's files
says so; and once the folder is back the watcher indexes it again."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_client import OCPClient, OCPToolError
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env, wait_for_index


async def test_a_server_whose_folder_is_missing_serves_its_kept_index(
    workspace: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    env = server_env(workspace, fake_ollama)  # the database beside the folder, not in it
    async with OCPClient(env=env) as client:
        await wait_for_index(client, "verify_token")
    away = tmp_path / "away"
    workspace.rename(away)
    async with OCPClient(env=env) as client:
        found = await client.search("verify_token")
        assert [hit.path for hit in found.results][:1] == ["src/auth.py"]
        assert found.note is not None and "is gone" in found.note
        status = await client.index_status()
        assert status.workspace_gone is not None and str(workspace) in status.workspace_gone
        cited = wire.DecisionArg(
            title="token comparison",
            decision="verify_token compares in constant time",
            citations=["src/auth.py:6-8"],
        )
        with pytest.raises(OCPToolError, match="is not there .*citations are checked"):
            await client.save(decisions=[cited])
        # memory needs no file of the folder
        saved = await client.save(notes=["the drive comes back after lunch"])
        assert len(saved.note_ids) == 1
        assert not workspace.exists()  # nothing was made where the folder was
        away.rename(workspace)
        (workspace / "src" / "late.py").write_text("def arrived_late():\n    return 1\n")
        async with asyncio.timeout(90):  # the watcher's retries back off to 30 s
            while "src/late.py" not in {
                hit.path for hit in (await client.search("arrived_late")).results
            }:
                await asyncio.sleep(0.5)
        assert (await client.index_status()).workspace_gone is None
        saved = await client.save(decisions=[cited])
        assert [c.citation for c in saved.citations] == ["src/auth.py:6-8"]


async def test_a_server_whose_folder_is_missing_without_a_kept_index_still_refuses(
    tmp_path: Path, fake_ollama: FakeOllama
) -> None:
    env = server_env(tmp_path / "never", fake_ollama)
    async with OCPClient(env=env) as client:
        with pytest.raises(OCPToolError, match="does not exist"):
            await client.search("anything")
    assert not (tmp_path / "never").exists() and not (tmp_path / "ocp.db").exists()


async def test_a_folder_moved_away_with_its_own_database_while_served_is_still_searched(
    workspace: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    # Its `.ocp/ocp.db` goes with it: the open index still answers, read where it went.
    env = server_env(workspace, fake_ollama)
    env.pop("OCP_DB_PATH")
    async with OCPClient(env=env) as client:
        await wait_for_index(client, "verify_token")
        workspace.rename(tmp_path / "away")
        found = await client.search("verify_token")
        assert [hit.path for hit in found.results][:1] == ["src/auth.py"]
        assert found.note is not None and "is gone" in found.note
    assert not workspace.exists()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_the_cli_reads_the_kept_index_of_a_missing_folder_and_will_not_index_it(
    workspace: Path, tmp_path: Path
) -> None:
    # `status` and `search` refused "OCP_WORKSPACE=... is invalid: expected an existing folder"
    env = {"OCP_WORKSPACE": str(workspace), "OCP_DB_PATH": str(tmp_path / "ocp.db")}
    assert _cli(env, "index").returncode == 0
    workspace.rename(tmp_path / "away")
    status = _cli(env, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert str(workspace) in json.loads(status.stdout)["workspace_gone"]
    found = _cli(env, "search", "verify_token", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["path"] == "src/auth.py"
    assert "is gone" in found.stderr and "changed on disk" not in found.stderr
    indexed = _cli(env, "index")
    assert indexed.returncode == 1 and "is gone" in indexed.stderr
    assert not workspace.exists()  # nothing made where the folder was
    # a folder with no index kept is refused as before
    never = {**env, "OCP_DB_PATH": str(tmp_path / "none.db")}
    assert f"OCP_WORKSPACE {workspace} does not exist" in _cli(never, "status").stderr


def test_each_cli_command_says_once_that_the_folder_is_gone(
    workspace: Path, tmp_path: Path
) -> None:
    # `status` printed its "gone" line and a WARNING log line above it saying the same; search
    # and index said it three times (the index's and the file listing's log lines, then their
    # own). The command's answer says it; the log lines are the server's (INFO).
    env = {"OCP_WORKSPACE": str(workspace), "OCP_DB_PATH": str(tmp_path / "ocp.db")}
    assert _cli(env, "index").returncode == 0
    workspace.rename(tmp_path / "away")
    status = _cli(env, "status")
    assert status.returncode == 0 and status.stdout.count("is gone") == 1
    assert status.stderr == ""
    found = _cli(env, "search", "verify_token", "--json")
    assert (found.stdout + found.stderr).count(" is gone") == 1, found.stderr
    indexed = _cli(env, "index")
    assert indexed.returncode == 1 and indexed.stderr.count(" is gone") == 1, indexed.stderr
