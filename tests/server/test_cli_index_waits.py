"""`ocp-server index` while another process indexes the same workspace: it waits for that
process to finish (then indexes what is left itself), says so on stderr, and ends with exit
status 1 when the other is still indexing (`--no-wait`, or the wait ran out): it returned
at once with "nothing to do" and 0, and a script's next search found half an index."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ocp_server import proc
from ocp_server.index.lease import LEASE_NAME
from tests.server.cli_run import run


def hold_lease(db_path: Path, *, building: bool) -> None:
    """This test's (live) process holds the indexing lease, as another indexer would; with
    `building`, its update is under way (3 of 40 files written)."""
    db = sqlite3.connect(db_path)
    pid = os.getpid()
    db.execute(
        "INSERT INTO leases (name, owner, pid, expires_at, started, host) VALUES "
        "(?, 'other', ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
        "pid = excluded.pid, expires_at = excluded.expires_at, started = excluded.started, "
        "host = excluded.host",
        (LEASE_NAME, pid, time.time() + 600, proc.start_token(pid), proc.host()),
    )
    if building:
        build = {"done": 3, "total": 40, "started_at": time.time()}
        db.execute(
            "INSERT INTO meta VALUES ('build', ?) ON CONFLICT(key) DO UPDATE SET value = "
            "excluded.value",
            (json.dumps(build),),
        )
    db.commit()
    db.close()


def finish(db_path: Path) -> None:
    """The other indexer finished and closed: its build record and its lease are gone."""
    db = sqlite3.connect(db_path)
    db.execute("DELETE FROM meta WHERE key = 'build'")
    db.execute("DELETE FROM leases WHERE name = ?", (LEASE_NAME,))
    db.commit()
    db.close()


def indexed(workspace: Path) -> Path:
    done = run(workspace, "index")
    assert done.returncode == 0, done.stderr
    return workspace / ".ocp" / "ocp.db"


def test_index_with_no_wait_says_another_process_is_indexing_and_fails(workspace: Path) -> None:
    db_path = indexed(workspace)
    hold_lease(db_path, building=True)
    done = run(workspace, "index", "--no-wait")
    said = " ".join(done.stderr.split())
    assert done.returncode == 1, done.stderr
    assert (
        f"another ocp-server process (pid {os.getpid()}) is still indexing this workspace" in said
    )
    assert "(3 of 40 files so far)" in said and "the index is incomplete" in said
    assert "nothing to do" not in said


def test_index_whose_wait_runs_out_fails_saying_the_index_is_incomplete(workspace: Path) -> None:
    db_path = indexed(workspace)
    hold_lease(db_path, building=True)
    done = run(workspace, "index", "--wait", "1")
    said = " ".join(done.stderr.split())
    assert done.returncode == 1, done.stderr
    assert "waiting for it to finish (up to 1 s; `--no-wait` does not wait)" in said
    assert "is still indexing this workspace (3 of 40 files so far) after 1 s" in said


def test_index_waits_for_the_other_indexer_then_indexes_what_is_left(workspace: Path) -> None:
    db_path = indexed(workspace)
    hold_lease(db_path, building=True)
    (workspace / "src" / "late.py").write_text("def late_arrival():\n    return 1\n")
    cli = subprocess.Popen(
        [sys.executable, "-m", "ocp_server.cli", "index"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(workspace.parent), "COLUMNS": "200"},
    )
    try:
        assert cli.stderr is not None
        first = cli.stderr.readline()  # it exited at once before: no such line
        assert "is indexing this workspace (3 of 40 files so far): waiting" in first, first
        finish(db_path)
        out, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 0, err
    assert "re-chunked (content changed)" in out and "│ 1 " in out.split("re-chunked")[1], out
    found = run(workspace, "search", "late arrival", "--json")
    assert any(hit["path"] == "src/late.py" for hit in json.loads(found.stdout)), found.stderr


def test_index_while_a_server_only_watches_the_complete_index_succeeds(workspace: Path) -> None:
    # A server holds the lease as long as it runs: its index complete, there is nothing to
    # wait for, and nothing failed.
    db_path = indexed(workspace)
    hold_lease(db_path, building=False)
    done = run(workspace, "index")
    said = " ".join(done.stderr.split())
    assert done.returncode == 0, done.stderr
    assert (
        f"another ocp-server process (pid {os.getpid()}) indexes and watches this workspace" in said
    )
    assert "waiting" not in said


def test_index_wait_takes_seconds_only(workspace: Path) -> None:
    for bad in ("nan", "-1", "soon"):
        done = run(workspace, "index", "--wait", bad)
        assert done.returncode == 2, done.stderr
        assert f"--wait: expected seconds, 0 or more (got '{bad}')" in done.stderr
